"""Permission matrix: the auditor's read-only pages of an engagement (tests/portal/permission_matrix.py collects it).

Every page is the engaged auditor's (Erin's engagement: every framework and area, the past year) and the compliance
team's preview of it; an auditor without that engagement gets a 404 (its id cannot be probed); control owners and
leadership get the 403 page; signed-out and deactivated users are sent to sign in. The objects are inside Erin's
scope and period: a control mapped to a requirement of the framework in scope, a file filed on it, an internal
audit, a nonconformity and a management review planned now."""

from __future__ import annotations

from types import SimpleNamespace

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from isms.foundation.roles import MANAGERS, Role
from tests.matrix import HIDDEN, OK, Entry, kind

PORTAL = MANAGERS | {Role.AUDITOR}
EXPECT = {"auditor": HIDDEN, "engaged_auditor": OK}


def _engagement(objs):
    from portal.models import Engagement

    objs.actor("engaged_auditor")  # made now if not yet: its engagement covers the frameworks existing then
    return Engagement.objects.get(auditors__username="erin")


@kind("portal_engagement")
def _portal_engagement(objs, holder):
    return SimpleNamespace(engagement=_engagement(objs), obj=None)


@kind("portal_control")
def _portal_control(objs, holder):
    """The owner's control, mapped to a new requirement of the framework in scope (in scope: the engagement names
    no requirement, so every requirement of its frameworks is)."""
    engagement = _engagement(objs)
    return SimpleNamespace(engagement=engagement, obj=objs.of("control", objs.actor("owner")))


@kind("portal_requirement")
def _portal_requirement(objs, holder):
    found = objs.of("portal_control", None)
    return SimpleNamespace(engagement=found.engagement, obj=found.obj.requirements.get())


@kind("portal_evidence")
def _portal_evidence(objs, holder):
    """A file filed on the owner's control in scope."""
    from evidence.services import evidence_add_file

    found = objs.of("portal_control", None)
    item = evidence_add_file(
        upload=SimpleUploadedFile("review.csv", b"user,access\n"),
        by=objs.actor("owner"),
        source="web",
        control=found.obj,
        effective_date=timezone.localdate(),
    )
    return SimpleNamespace(engagement=found.engagement, obj=item)


@kind("portal_internal_audit")
def _portal_internal_audit(objs, holder):
    from audits.services import audit_create

    engagement = _engagement(objs)
    audit = audit_create(
        by=objs.actor("compliance"),
        kind="internal",
        title="Internal audit of access control",
        planned_on=timezone.localdate(),
        lead_auditor=objs.actor("owner"),
        scope=[],
    )
    return SimpleNamespace(engagement=engagement, obj=audit)


@kind("portal_nc")
def _portal_nc(objs, holder):
    from audits.services import nc_raise

    engagement = _engagement(objs)
    nc = nc_raise(
        by=objs.actor("compliance"),
        source="self",
        title="Access reviews not done",
        description="Two monthly reviews were missed.",
        owner=objs.actor("compliance"),
    )
    return SimpleNamespace(engagement=engagement, obj=nc)


@kind("portal_review")
def _portal_review(objs, holder):
    from audits.services import review_plan

    engagement = _engagement(objs)
    review = review_plan(by=objs.actor("compliance"), planned_on=timezone.localdate(), chair=objs.actor("compliance"))
    return SimpleNamespace(engagement=engagement, obj=review)


def _page(o) -> dict:
    return {"engagement": o.engagement.pk}


def _one(o) -> dict:
    return {"engagement": o.engagement.pk, "pk": o.obj.pk}


def _entry(name: str, obj: str, kwargs=_page) -> Entry:
    return Entry(name, PORTAL, obj=obj, kwargs=kwargs, expect=EXPECT)


MATRIX: list = [
    _entry("portal:engagement", "portal_engagement"),
    _entry("portal:requirement", "portal_requirement", _one),
    _entry("portal:control", "portal_control", _one),
    _entry("portal:evidence_download", "portal_evidence", _one),
    _entry("portal:risks", "portal_engagement"),
    _entry("portal:internal_audits", "portal_engagement"),
    _entry("portal:internal_audit", "portal_internal_audit", _one),
    _entry("portal:nonconformities", "portal_engagement"),
    _entry("portal:nonconformity", "portal_nc", _one),
    _entry("portal:management_reviews", "portal_engagement"),
    _entry("portal:management_review", "portal_review", _one),
    _entry("portal:registers", "portal_engagement"),
]
