"""The demo's audit programme: a year of monthly internal audits with findings, six nonconformities in different
states (one raised by a missed control, one reopened by a failed check), two management reviews with the second
carrying the first one's open action; loading twice adds nothing."""

import pytest
from django.urls import reverse

from audits import selectors
from audits.models import Audit, AuditStatus, ManagementReview, NCState, Nonconformity, Source
from isms.web.demo import demo_load


@pytest.mark.django_db
def test_the_demo_programme(client, clock):
    users = demo_load(password="demo-pass-1", today=clock.today)
    internal = Audit.objects.filter(kind="internal", status=AuditStatus.SIGNED_OFF)
    assert internal.count() == 12
    assert len({(a.planned_on.year, a.planned_on.month) for a in internal}) == 12
    assert internal.filter(rows__result__in=["minor", "observation", "ofi"]).distinct().count() >= 5
    ncs = Nonconformity.objects.all()
    assert ncs.count() == 6
    assert {n.state for n in ncs} >= {
        NCState.PROPOSED,
        NCState.OPEN,
        NCState.CHECKING,
        NCState.CLOSED,
        NCState.DISMISSED,
    }
    assert ncs.filter(source=Source.MISSED_CONTROL).exists()
    reopened = ncs.get(round=2)
    assert reopened.state == NCState.OPEN and reopened.checks.get(round=1).outcome == "failed"
    first, second = ManagementReview.objects.order_by("planned_on")
    assert first.is_frozen and second.status == "open"
    a = {f["label"]: f["now"] for f in selectors.review_pack(second)["headings"][0]["figures"]}
    assert a["Actions from earlier reviews"] == 2 and a["Still open"] == 1
    client.force_login(users["compliance"])
    for name, args in [
        ("audits:programme", []),
        ("audits:ncs", []),
        ("audits:review", [second.pk]),
        ("audits:audit", [internal.last().pk]),
        ("audits:nc", [reopened.pk]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 200
    demo_load(password="demo-pass-2", today=clock.today)
    assert (
        Nonconformity.objects.count() == 6 and Audit.objects.filter(kind="internal", status="signed_off").count() == 12
    )
