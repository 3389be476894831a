"""The risk register (risks/urls.py) and its API (risks/api/urls.py).

Managers and leadership read every risk; a control owner reads the risks they own and their department's (the
other owner's risk, in HR, is a 404) and changes and reviews their own. Viewers read but change nothing (403).
Only the named approver (the compliance manager here) decides an acceptance or an exception. Auditors see
nothing here (403 on pages, 401 from the API)."""

import datetime

from django.utils import timezone

from isms.foundation.roles import MANAGERS, STAFF
from tests.matrix import DENIED, HIDDEN, LOGIN, Entry, kind


@kind("risk")
def _risk(objs, holder):
    """A risk of the holder (made by the compliance manager; a deactivated holder's twin is given to them after)."""
    from risks.models import Risk
    from risks.services import risk_create

    risk = risk_create(
        by=objs.actor("compliance"),
        title=f"Risk of {holder.username}",
        asset="Laptops",
        threat="Theft",
        vulnerability="No disk encryption",
        owner=objs.actor("compliance"),
        inherent_likelihood=3,
        inherent_impact=4,
        residual_likelihood=3,
        residual_impact=4,
        treatment="mitigate",
    )
    Risk.objects.filter(pk=risk.pk).update(owner=holder, department=holder.department)
    risk.refresh_from_db()
    return risk


@kind("acceptance")
def _acceptance(objs, holder):
    """An acceptance of the holder's risk, asked by the holder of the compliance manager."""
    from risks.models import Acceptance

    return Acceptance.objects.create(
        risk=objs.of("risk", holder),
        requested_by=holder,
        approver=objs.actor("compliance"),
        justification="Budget next year",
        expires_on=timezone.localdate() + datetime.timedelta(days=90),
    )


@kind("control_exception")
def _exception(objs, holder):
    """An exception to the owner's control, asked by the owner of the compliance manager."""
    from risks.services import exception_request

    owner = objs.actor("owner")
    return exception_request(
        control=objs.of("control", owner),
        by=owner,
        title="Legacy server",
        reason="Vendor",
        compensating="Monitoring",
        owner=owner,
        approver=objs.actor("compliance"),
        expires_on=timezone.localdate() + datetime.timedelta(days=90),
    )


@kind("plan_version")
def _plan_version(objs, holder):
    """A treatment plan frozen with the owner's risk in it (the owner signs it off)."""
    from risks.services import plan_freeze

    objs.of("risk", objs.actor("owner"))
    return plan_freeze(by=objs.actor("compliance"))


OWNERS_ONLY = {"viewer": DENIED}
APPROVER_ONLY = {"admin": DENIED, "owner": DENIED, "other_owner": DENIED, "viewer": DENIED}
API = {"api": True, "refused": LOGIN}

MATRIX: list[Entry] = [
    Entry("risks:index", STAFF),
    Entry("risks:create", MANAGERS),
    Entry("risks:import", MANAGERS),
    Entry("risks:heatmap", STAFF),
    Entry("risks:queue", STAFF),
    Entry("risks:criteria", STAFF),
    Entry("risks:criteria_edit", MANAGERS),
    Entry("risks:criteria_css", STAFF),
    Entry("risks:detail", STAFF, owned="risk"),
    Entry("risks:history", STAFF, owned="risk"),
    Entry("risks:compare", STAFF, owned="risk"),
    Entry("risks:edit", STAFF, owned="risk", expect=OWNERS_ONLY),
    Entry("risks:review", STAFF, owned="risk", expect=OWNERS_ONLY),
    Entry("risks:reassess", STAFF, owned="risk", expect=OWNERS_ONLY),
    Entry("risks:request_review", STAFF, owned="risk", expect=OWNERS_ONLY),
    Entry("risks:accept_request", STAFF, owned="risk", expect=OWNERS_ONLY),
    Entry("risks:action_create", STAFF, owned="risk", expect=OWNERS_ONLY),
    Entry("risks:acceptance", STAFF, owned="acceptance"),
    Entry(
        "risks:acceptance_decide",
        STAFF,
        method="post",
        owned="acceptance",
        data=lambda a: {"decision": "approve"},
        # The requester (the risk's owner) is refused: only the named approver decides.
        expect={
            "admin": DENIED,
            "owner": {"own": DENIED, "other": HIDDEN},
            "other_owner": {"own": HIDDEN, "other": DENIED},
            "viewer": DENIED,
        },
    ),
    Entry("risks:exceptions", STAFF),
    Entry("risks:exception", STAFF, obj="control_exception"),
    Entry(
        "risks:exception_decide",
        STAFF,
        method="post",
        obj="control_exception",
        data=lambda e: {"decision": "approve"},
        expect=APPROVER_ONLY,
    ),
    Entry("risks:exception_create", STAFF, owned="control", on_others=DENIED, expect=OWNERS_ONLY),
    Entry("risks:plan", STAFF),
    Entry("risks:plan_freeze", MANAGERS, method="post"),
    Entry("risks:plan_version", STAFF, obj="plan_version"),
    Entry("risks:plan_version_pdf", STAFF, obj="plan_version"),
    Entry(
        "risks:plan_signoff",
        STAFF,
        method="post",
        obj="plan_version",
        expect={"admin": DENIED, "compliance": DENIED, "other_owner": DENIED, "viewer": DENIED},
    ),
    Entry("risks_api:risks", STAFF, **API),
    Entry("risks_api:queue", STAFF, **API),
    Entry("risks_api:risk", STAFF, owned="risk", **API),
    Entry("risks_api:assessments", STAFF, owned="risk", **API),
    Entry(
        "risks_api:assessments",
        STAFF,
        method="post",
        owned="risk",
        data=lambda r: {"note": "Checked: no change."},
        expect=OWNERS_ONLY,
        label="record",
        **API,
    ),
]
