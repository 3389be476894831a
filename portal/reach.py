"""Who may see and act on engagements and what happens in them, and — the auditor grant — what an auditor's open
engagements put within their reach in every other app (the one reach rule; see isms.foundation.reach).

The compliance team (managers) runs engagements; leadership (viewer) reads them. A control owner sees only the
evidence requests addressed to them. The log of auditor actions is the compliance team's.

An auditor reaches, through their engagements open today (access window, not ended), and only while one is:
the frameworks, requirements and controls in scope; the control activities due in the period under audit and
their evidence (evidence of a control in scope dated outside the period is visible and marked as such, never
hidden); their engagement's samples, requests and packs; and the areas the engagement names (risks, internal
audits, nonconformities, management reviews, incidents, changes, suppliers, objectives), each limited to the
period where it has dates. Every model not named below shows an auditor nothing."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

from audits.models import ChecklistRow, CorrectiveAction
from evidence.models import EvidenceItem
from isms.foundation.queries import among
from isms.foundation.reach import Rule, is_auditor, is_manager, register, register_auditor_reach, sees_everything

from .models import (
    AuditorAction,
    Engagement,
    EvidencePack,
    EvidenceRequest,
    RequestRound,
    Sample,
    SampleItem,
)
from .scope import Scope, scopes

EVERYTHING = Q(pk__isnull=False)  # a grant of all rows (an empty Q() would vanish when OR-ed)
AUDITOR_ACTIONS = frozenset({"sample", "request", "accept", "pack", "download"})

_GRANTS: dict[str, Callable[[Scope], Q | None]] = {}


def grants(*labels: str):
    """Declare what one scope grants of the models `labels` ("app_label.Model")."""

    def decorator(build: Callable[[Scope], Q | None]):
        for label in labels:
            _GRANTS[label] = build
        return build

    return decorator


def _ct(label: str) -> ContentType:
    app_label, model = label.split(".")
    return ContentType.objects.db_manager("default").get_by_natural_key(app_label, model.lower())


def _period(s: Scope, field: str) -> Q:
    return Q(**{f"{field}__gte": s.period_start, f"{field}__lte": s.period_end})


# -- the engagement's own records ----------------------------------------------------------------------------------
grants("portal.Engagement")(lambda s: Q(pk=s.engagement_id))
grants("portal.Sample", "portal.EvidenceRequest", "portal.EvidencePack")(lambda s: Q(engagement=s.engagement_id))
grants("portal.SampleItem")(lambda s: Q(sample__engagement=s.engagement_id))
grants("portal.RequestRound")(lambda s: Q(request__engagement=s.engagement_id))
grants("organisation.Organisation", "organisation.Certificate", "organisation.CycleAudit")(lambda s: EVERYTHING)

# -- requirements and controls in scope ---------------------------------------------------------------------------
grants("controls.Framework")(lambda s: Q(pk__in=s.framework_ids))
grants("controls.Requirement")(lambda s: among("pk", s.requirement_ids))
grants("controls.Control")(lambda s: among("pk", s.control_ids))
grants("controls.SoAVersion")(lambda s: Q(framework__in=s.framework_ids))
grants("controls.SoAEntry")(lambda s: among("requirement", s.requirement_ids))


def _rounds(s: Scope) -> QuerySet:
    return RequestRound.objects.filter(request__engagement=s.engagement_id).values("pk")


@grants("maintenance.Schedule")
def _schedules(s: Scope) -> Q:
    return (Q(subject_type=_ct("controls.Control")) & among("subject_id", s.control_ids)) | Q(
        subject_type=_ct("portal.RequestRound"), subject_id__in=_rounds(s)
    )


def occurrences_in_scope(s: Scope, prefix: str = "") -> Q:
    """The control activities due in the period, and the tasks answering the engagement's requests."""
    p = prefix
    return (
        Q(
            **{
                f"{p}schedule__subject_type": _ct("controls.Control"),
                f"{p}due_date__gte": s.period_start,
                f"{p}due_date__lte": s.period_end,
            }
        )
        & among(f"{p}schedule__subject_id", s.control_ids)
    ) | Q(**{f"{p}schedule__subject_type": _ct("portal.RequestRound"), f"{p}schedule__subject_id__in": _rounds(s)})


grants("maintenance.Occurrence")(occurrences_in_scope)


@grants("evidence.EvidenceItem")
def _evidence_grant(s: Scope) -> Q:
    """An item is in scope by its control or requirement (evidence on a control's task is filed for that control,
    so this covers the control activities too), by answering one of the engagement's requests, or by an audit or
    corrective action in scope.

    Each alternative is a plain list of ids, never a subquery: PostgreSQL then reads every one of them from its
    own index and combines them (a bitmap OR), where a subquery among them would make it scan every item
    (docs/benchmarks.md, Auditor portal)."""
    q = among("control", s.control_ids) | among("task_control", s.control_ids) | among("requirement", s.requirement_ids)
    # The items answering the engagement's requests and those of its audits' checklists and corrective actions
    # in scope: one query (a union of their ids), not one each.
    lists = [
        EvidenceItem.objects.filter(
            occurrence__schedule__subject_type=_ct("portal.RequestRound"),
            occurrence__schedule__subject_id__in=_rounds(s),
        ).values_list("pk", flat=True)
    ]
    if "internal_audits" in s.areas:
        lists.append(_audit_evidence(s).values_list("evidence", flat=True))
    if "nonconformities" in s.areas:
        lists.append(_nc_evidence(s).values_list("evidence", flat=True))
    lists = [ids.order_by() for ids in lists]  # no ordering within a union (SQLite refuses it)
    extra = set(lists[0].union(*lists[1:]) if len(lists) > 1 else lists[0])
    extra.discard(None)
    if extra:
        q |= among("pk", extra)
    return Q(deleted_at__isnull=True) & q


def _internal_audits(s: Scope, p: str = "") -> Q:
    return Q(**{f"{p}kind": "internal"}) & _period(s, f"{p}planned_on")


def _ncs(s: Scope, p: str = "") -> Q:
    """Nonconformities open at some time in the period: raised by its end, not closed before its start."""
    return Q(**{f"{p}raised_on__lte": s.period_end}) & (
        Q(**{f"{p}closed_on__isnull": True}) | Q(**{f"{p}closed_on__gte": s.period_start})
    )


def _audit_evidence(s: Scope):
    return ChecklistRow.objects.filter(_internal_audits(s, "audit__")).values("evidence")


def _nc_evidence(s: Scope):
    return CorrectiveAction.objects.filter(_ncs(s, "nonconformity__")).values("evidence")


def _reviews(s: Scope, p: str = "") -> Q:
    return _period(s, f"{p}planned_on") | _period(s, f"{p}meeting_on")


# -- the areas --------------------------------------------------------------------------------------------------------
grants(
    "risks.Matrix",
    "risks.Risk",
    "risks.Assessment",
    "risks.TreatmentAction",
    "risks.Acceptance",
    "risks.ControlException",
    "risks.PlanVersion",
)(lambda s: EVERYTHING if "risks" in s.areas else None)
grants("audits.Programme")(lambda s: EVERYTHING if "internal_audits" in s.areas else None)
grants("audits.Audit")(lambda s: _internal_audits(s) if "internal_audits" in s.areas else None)
grants("audits.ChecklistRow")(lambda s: _internal_audits(s, "audit__") if "internal_audits" in s.areas else None)
grants("audits.Nonconformity")(lambda s: _ncs(s) if "nonconformities" in s.areas else None)
grants("audits.CorrectiveAction", "audits.EffectivenessCheck")(
    lambda s: _ncs(s, "nonconformity__") if "nonconformities" in s.areas else None
)
grants("audits.ManagementReview")(lambda s: _reviews(s) if "management_reviews" in s.areas else None)
grants("audits.ReviewAction")(lambda s: _reviews(s, "review__") if "management_reviews" in s.areas else None)
grants("events.Incident")(lambda s: _period(s, "detected_on") if "incidents" in s.areas else None)
grants("events.Change")(lambda s: _period(s, "planned_on") if "changes" in s.areas else None)
grants("events.Supplier")(lambda s: EVERYTHING if "suppliers" in s.areas else None)
grants("events.Objective")(lambda s: EVERYTHING if "objectives" in s.areas else None)


def auditor_grant(user, qs: QuerySet) -> QuerySet:
    """The rows of `qs` within reach of the auditor's open engagements (none outside every window)."""
    build = _GRANTS.get(qs.model._meta.concrete_model._meta.label)
    if build is None:
        return qs.none()
    q = None
    for s in scopes(user):
        part = build(s)
        if part is not None:
            q = part if q is None else q | part
    return qs.none() if q is None else qs.filter(q)


register_auditor_reach(auditor_grant)


# -- the portal's own rules (staff side; auditors are answered by the grant above) ------------------------------


def _auditor_acts(user) -> bool:
    """An auditor acting for themselves (a preview acts for nobody)."""
    return is_auditor(user) and not getattr(user, "is_preview", False)


@register(Engagement)
class EngagementRule(Rule):
    auditor_actions = AUDITOR_ACTIONS
    refusals = {
        "create": "Only the compliance team opens engagements.",
        "edit": "Only the compliance team changes an engagement.",
        "end": "Only the compliance team ends an engagement.",
        "preview": "Only the compliance team previews the portal.",
        "log": "Only the compliance team reads the auditors' log.",
    }

    def visible(self, user, qs):
        return qs if sees_everything(user) else qs.none()

    def sees(self, user, obj):
        return sees_everything(user)

    def may(self, user, action, obj):
        if action == "view":
            return sees_everything(user)
        if action in AUDITOR_ACTIONS:
            return is_manager(user) or _auditor_acts(user)
        return is_manager(user)


@register(Sample)
@register(SampleItem)
class SampleRule(Rule):
    auditor_actions = AUDITOR_ACTIONS
    refusals = {"sample": "Only the engagement's auditors and the compliance team change a sample."}

    def visible(self, user, qs):
        return qs if sees_everything(user) else qs.none()

    def may(self, user, action, obj):
        if action == "view":
            return sees_everything(user)
        return is_manager(user) or _auditor_acts(user)


@register(EvidenceRequest)
class EvidenceRequestRule(Rule):
    """The person asked to answer sees the request; the team and leadership see all."""

    auditor_actions = AUDITOR_ACTIONS | {"ask_again", "withdraw"}
    refusals = {
        "reassign": "Only the compliance team gives a request to someone else.",
        "accept": "Only the engagement's auditors accept an answer.",
        "ask_again": "Only the engagement's auditors ask again.",
        "withdraw": "Only the engagement's auditors or the compliance team withdraw a request.",
    }

    def visible(self, user, qs):
        return qs if sees_everything(user) else qs.filter(owner=user)

    def sees(self, user, obj):
        return sees_everything(user) or obj.owner_id == user.pk

    def may(self, user, action, obj):
        if action == "view":
            return self.sees(user, obj)
        if action in ("accept", "ask_again"):
            return _auditor_acts(user)  # the auditor judges the answer; the team cannot do it for them
        if action in ("withdraw", "request"):
            return _auditor_acts(user) or is_manager(user)
        return is_manager(user)


@register(RequestRound)
class RequestRoundRule(Rule):
    def visible(self, user, qs):
        return qs if sees_everything(user) else qs.filter(request__owner=user)


@register(EvidencePack)
class EvidencePackRule(Rule):
    auditor_actions = AUDITOR_ACTIONS
    refusals = {"download": "Only the engagement's auditors and the compliance team download its evidence pack."}

    def visible(self, user, qs):
        return qs if is_manager(user) else qs.none()

    def may(self, user, action, obj):
        if action in ("view", "download", "pack"):
            return is_manager(user) or _auditor_acts(user)
        return is_manager(user)


@register(AuditorAction)
class AuditorActionRule(Rule):
    """The log is the compliance team's: auditors never read or change it."""

    def visible(self, user, qs):
        return qs if is_manager(user) else qs.none()

    def may(self, user, action, obj):
        return is_manager(user) and action in ("view", "export")
