"""The audit programme (audits/urls.py) and its read API (audits/api/urls.py).

Every staff member reads the programme, the audits and the management reviews. The compliance team plans and
changes them; an internal audit's lead (the control owner here) records its checklist and alone signs off its
report. A control owner reads the nonconformities they own and their department's (the other owner's, in HR, is a
404), and records the analysis and actions of their own; only the compliance team accepts, dismisses or closes
one. Leadership (viewer) records decisions at a review but changes nothing else. Auditors see nothing here (403
on pages, 401 from the API)."""

import datetime

from django.utils import timezone

from isms.foundation.roles import MANAGERS, STAFF
from tests.matrix import DENIED, HIDDEN, LOGIN, Entry, kind


def _clause(identifier: str = "9.2", title: str = "Internal audit"):
    from tests.factories import make_requirement

    return make_requirement("iso27001-2022-clauses", identifier, title)


@kind("audit")
def _audit(objs, holder):
    """An internal audit led by the control owner (IT), of a clause nobody's control is mapped to."""
    from audits.services import audit_create

    return audit_create(
        by=objs.actor("compliance"),
        kind="internal",
        title="Internal audit of clause 9.2",
        planned_on=timezone.localdate() + datetime.timedelta(days=10),
        lead_auditor=objs.actor("owner"),
        scope=[_clause()],
    )


@kind("external_audit")
def _external(objs, holder):
    from audits.services import audit_create

    return audit_create(
        by=objs.actor("compliance"),
        kind="stage_1",
        title="Stage 1",
        planned_on=timezone.localdate() + datetime.timedelta(days=30),
        auditor_name="Example Certification Ltd",
    )


@kind("nc")
def _nc(objs, holder):
    """A nonconformity the holder owns (raised by the compliance team; a deactivated holder's twin is given to them
    after)."""
    from audits.models import Nonconformity
    from audits.services import nc_raise

    nc = nc_raise(
        by=objs.actor("compliance"),
        source="self",
        title=f"Nonconformity of {holder.username}",
        description="Access reviews not done",
        owner=objs.actor("compliance"),
    )
    Nonconformity.objects.filter(pk=nc.pk).update(owner=holder, department=holder.department)
    nc.refresh_from_db()
    return nc


@kind("check")
def _check(objs, holder):
    """The effectiveness check of the owner's nonconformity, to be done by the compliance manager."""
    from audits.models import EffectivenessCheck

    nc = objs.of("nc", objs.actor("owner"))
    return EffectivenessCheck.objects.create(
        nonconformity=nc, round=1, due_on=timezone.localdate(), checker=objs.actor("compliance")
    )


@kind("review")
def _review(objs, holder):
    from audits.services import review_plan

    return review_plan(by=objs.actor("compliance"), planned_on=timezone.localdate(), chair=objs.actor("compliance"))


@kind("party")
def _party(objs, holder):
    from audits.services import party_save

    return party_save(by=objs.actor("compliance"), name="Customers", requirements="Their data kept confidential")


MANAGERS_ONLY = {"owner": DENIED, "other_owner": DENIED, "viewer": DENIED}
LEAD_ONLY = {"admin": DENIED, "compliance": DENIED, "other_owner": DENIED, "viewer": DENIED}
NC_MANAGERS = {
    "owner": {"own": DENIED, "other": HIDDEN},
    "other_owner": {"own": HIDDEN, "other": DENIED},
    "viewer": DENIED,
}
API = {"api": True, "refused": LOGIN}


def _row(audit) -> dict:
    return {"pk": audit.pk, "row": audit.rows.first().pk}


MATRIX: list[Entry] = [
    Entry("audits:programme", STAFF),
    Entry("audits:programme_plan", MANAGERS),
    Entry("audits:programme_fill", MANAGERS, method="post"),
    Entry("audits:audits", STAFF),
    Entry("audits:audit_create", MANAGERS),
    Entry("audits:audit", STAFF, obj="audit"),
    Entry("audits:audit_edit", STAFF, obj="audit", expect=MANAGERS_ONLY),
    Entry("audits:audit_row", STAFF, obj="audit", kwargs=_row, expect={"other_owner": DENIED, "viewer": DENIED}),
    Entry("audits:audit_signoff", STAFF, obj="audit", expect=LEAD_ONLY),
    Entry("audits:audit_pdf", STAFF, obj="audit"),
    Entry("audits:finding_create", STAFF, obj="external_audit", expect=MANAGERS_ONLY),
    Entry("audits:ncs", STAFF),
    Entry("audits:nc_create", MANAGERS),
    Entry("audits:nc", STAFF, owned="nc"),
    Entry("audits:nc_edit", STAFF, owned="nc", expect={"viewer": DENIED}),
    Entry("audits:nc_decide", STAFF, owned="nc", expect=NC_MANAGERS),
    Entry("audits:nc_close", STAFF, method="post", owned="nc", expect=NC_MANAGERS),
    Entry("audits:action_create", STAFF, owned="nc", expect={"viewer": DENIED}),
    Entry("audits:check", STAFF, obj="check", expect={"other_owner": HIDDEN}),
    Entry("audits:reviews", STAFF),
    Entry("audits:review_create", MANAGERS),
    Entry("audits:review", STAFF, obj="review"),
    Entry("audits:review_open", STAFF, method="post", obj="review", expect=MANAGERS_ONLY),
    Entry("audits:review_minutes", STAFF, obj="review", expect=MANAGERS_ONLY),
    Entry(
        "audits:decision_create",
        STAFF,
        method="post",
        obj="review",
        data=lambda r: {"text": "Approve the budget"},
        expect={"owner": DENIED, "other_owner": DENIED},
    ),
    Entry("audits:review_action_create", STAFF, obj="review", expect=MANAGERS_ONLY),
    Entry("audits:review_approve", STAFF, method="post", obj="review", expect=MANAGERS_ONLY),
    Entry("audits:review_pack_pdf", STAFF, obj="review"),
    Entry("audits:review_minutes_pdf", STAFF, obj="review"),
    Entry("audits:parties", STAFF),
    Entry("audits:party_create", MANAGERS),
    Entry("audits:party_edit", MANAGERS, obj="party"),
    Entry("audits:feedback_create", MANAGERS),
    Entry("audits_api:nonconformities", STAFF, **API),
    Entry("audits_api:nonconformity", STAFF, owned="nc", **API),
    Entry("audits_api:audits", STAFF, **API),
    Entry("audits_api:audit", STAFF, obj="audit", **API),
    Entry("audits_api:reviews", STAFF, **API),
    Entry("audits_api:review", STAFF, obj="review", **API),
]
