"""Who may see and act on the audit programme, audits, nonconformities and management reviews (the one reach
rule; see isms.foundation.reach).

Every staff member reads the programme, the audits and the management reviews: the ISMS's own results are
not secret inside the organisation. The compliance team plans and changes them; an audit's lead records its
checklist and signs off its report. A control owner reads the nonconformities they own, their department's,
those where they own a corrective action or check its effectiveness, and records the analysis of their own;
managers and leadership read the whole register. Leadership (the viewer role) and the chair record decisions
at a review. Auditors see nothing here."""

from django.db.models import Q

from isms.foundation.reach import Rule, is_manager, is_staff_member, may_own_work, register, sees_everything

from .models import (
    Audit,
    ChecklistRow,
    CorrectiveAction,
    EffectivenessCheck,
    Feedback,
    InterestedParty,
    ManagementReview,
    NCState,
    Nonconformity,
    Programme,
    ReviewAction,
)


@register(Programme)
class ProgrammeRule(Rule):
    refusals = {"plan": "Only the compliance team plans the audit programme."}


@register(Audit)
class AuditRule(Rule):
    refusals = {
        "edit": "Only the compliance team changes an audit's plan.",
        "record": "Only the audit's lead auditor or the compliance team records its checklist.",
        "sign_off": "Only the audit's lead auditor signs off its report.",
        "add_finding": "Only the compliance team records the certification body's findings.",
        "create": "Only the compliance team adds audits.",
    }

    def may(self, user, action, obj):
        if action == "view":
            return is_staff_member(user)
        lead = isinstance(obj, Audit) and obj.lead_auditor_id == user.pk and may_own_work(user)
        if action == "record":
            return is_manager(user) or lead
        if action == "sign_off":
            return lead
        return is_manager(user)

    def refusal(self, user, action, obj):
        if action == "sign_off" and isinstance(obj, Audit):
            lead = obj.lead_auditor or "not named yet"
            return f"Only the audit's lead auditor ({lead}) signs off its report."
        return super().refusal(user, action, obj)


@register(ChecklistRow)
class ChecklistRowRule(Rule):
    pass


def _nc_filter(user, prefix: str = "") -> Q:
    query = (
        Q(**{f"{prefix}owner": user}) | Q(**{f"{prefix}actions__owner": user}) | Q(**{f"{prefix}checks__checker": user})
    )
    if user.department_id:
        query |= Q(**{f"{prefix}department_id": user.department_id})
    return query


@register(Nonconformity)
class NonconformityRule(Rule):
    refusals = {
        "edit": "Only the nonconformity's owner or the compliance team records its analysis.",
        "add_action": "Only the nonconformity's owner or the compliance team plans its corrective actions.",
        "decide": "Only the compliance team accepts or dismisses a nonconformity raised automatically.",
        "close": "Only the compliance team closes a nonconformity.",
        "create": "Only the compliance team raises nonconformities in the register.",
    }

    def visible(self, user, qs):
        if sees_everything(user):
            return qs
        if not is_staff_member(user):
            return qs.none()
        ids = qs.filter(_nc_filter(user)).values("pk")
        return qs.filter(pk__in=ids)

    def sees(self, user, obj):
        if sees_everything(user):
            return True
        if not is_staff_member(user):
            return False
        if obj.owner_id == user.pk or (user.department_id and obj.department_id == user.department_id):
            return True
        return obj.actions.filter(owner=user).exists() or obj.checks.filter(checker=user).exists()

    def may(self, user, action, obj):
        if action == "view":
            return is_staff_member(user)
        if action in ("edit", "add_action"):
            return is_manager(user) or (
                isinstance(obj, Nonconformity) and obj.owner_id == user.pk and may_own_work(user)
            )
        return is_manager(user)


@register(CorrectiveAction)
class CorrectiveActionRule(Rule):
    def visible(self, user, qs):
        if sees_everything(user):
            return qs
        if not is_staff_member(user):
            return qs.none()
        return qs.filter(nonconformity__in=Nonconformity.objects.filter(_nc_filter(user)).values("pk"))


@register(EffectivenessCheck)
class EffectivenessCheckRule(Rule):
    """The named checker records the check, or the compliance team; the service refuses anyone who implemented
    an action of the round, whoever they are."""

    refusals = {"record": "Only the named checker or the compliance team records the effectiveness check."}

    def visible(self, user, qs):
        if sees_everything(user):
            return qs
        if not is_staff_member(user):
            return qs.none()
        return qs.filter(nonconformity__in=Nonconformity.objects.filter(_nc_filter(user)).values("pk"))

    def may(self, user, action, obj):
        if action == "view":
            return is_staff_member(user)
        if action == "record":
            return (
                isinstance(obj, EffectivenessCheck)
                and not obj.outcome
                and (is_manager(user) or (obj.checker_id == user.pk and may_own_work(user)))
            )
        return is_manager(user)

    def refusal(self, user, action, obj):
        if action == "record" and isinstance(obj, EffectivenessCheck) and obj.outcome:
            return f"This check was already recorded: {obj.get_outcome_display().lower()}."
        return super().refusal(user, action, obj)


@register(ManagementReview)
class ManagementReviewRule(Rule):
    refusals = {
        "edit": "Only the compliance team or the review's chair records the minutes.",
        "decide": "Only leadership, the chair or the compliance team records the review's decisions.",
        "approve": "Only the compliance team or the review's chair approves the minutes.",
        "create": "Only the compliance team plans management reviews.",
    }

    def may(self, user, action, obj):
        if action == "view":
            return is_staff_member(user)
        chair = isinstance(obj, ManagementReview) and obj.chair_id == user.pk and may_own_work(user)
        if action in ("edit", "approve", "add_action"):
            return is_manager(user) or chair
        if action == "decide":
            return sees_everything(user) or chair  # leadership (viewer) records its decisions
        return is_manager(user)


@register(ReviewAction)
class ReviewActionRule(Rule):
    pass


@register(InterestedParty)
class InterestedPartyRule(Rule):
    refusals = {"edit": "Only the compliance team keeps the register of interested parties."}


@register(Feedback)
class FeedbackRule(Rule):
    refusals = {"create": "Only the compliance team records feedback from interested parties."}


OPEN_STATES = (NCState.PROPOSED, NCState.OPEN, NCState.CHECKING)
