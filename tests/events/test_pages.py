"""The register pages as people see them: each empty list says how to fill it, lists cost the same number of
queries whatever their rows, and the demo fills every register."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from events import services
from events.models import Change, Incident, Objective, Supplier, SupplierReview
from risks.models import ReviewRequest

from .conftest import NO, objective_fields

EMPTY = {
    "events:incidents": "No incidents recorded. Anyone on staff reports one with “Report an incident”",
    "events:changes": "No changes recorded. Before a change to systems, suppliers, locations, people or obligations",
    "events:suppliers": "No suppliers in the register. The compliance team adds them with “New supplier”",
    "events:objectives": "No ISMS objectives set. The compliance team sets them with “New objective”",
}


@pytest.mark.parametrize("name", list(EMPTY))
def test_every_empty_list_says_how_to_fill_it(client_as, clock, compliance, name):
    page = client_as(compliance).get(reverse(name)).content.decode()
    assert EMPTY[name] in page


def _fill(first: int, last: int, *, by, owner, severity, risks, today):
    for i in range(first, last):
        services.incident_create(
            by=owner, title=f"Incident {i}", description="x", occurred_on=today, detected_on=today,
            severity=severity, risks=list(risks),
        )  # fmt: skip
        services.change_create(
            by=owner, title=f"Change {i}", planned_on=today, risks=list(risks), **(NO | {"changes_controls": True})
        )
        supplier = services.supplier_save(
            by=by, name=f"Supplier {i}", service="x", criticality="high", owner=owner, risks=list(risks)
        )
        services.certificate_save(
            by=by, supplier=supplier, name="ISO", expires_on=today + datetime.timedelta(days=100 + i)
        )
        objective = services.objective_save(by=by, **objective_fields(owner, today, title=f"Objective {i}"))
        services.progress_record(objective=objective, by=owner, recorded_on=today, value=60 + i)


@pytest.mark.parametrize("name", list(EMPTY))
def test_a_list_costs_the_same_queries_whatever_its_rows(
    client_as, clock, compliance, owner, severity, two_risks, name
):
    client = client_as(compliance)
    _fill(0, 1, by=compliance, owner=owner, severity=severity, risks=two_risks, today=clock.today)
    client.get(reverse(name))  # warm up anything built once per process
    with CaptureQueriesContext(connection) as one:
        assert (
            client.get(reverse(name), {"sort": "-title" if name != "events:suppliers" else "name"}).status_code == 200
        )
    _fill(1, 7, by=compliance, owner=owner, severity=severity, risks=two_risks, today=clock.today)
    with CaptureQueriesContext(connection) as seven:
        response = client.get(reverse(name), {"sort": "title" if name != "events:suppliers" else "-name"})
    assert response.status_code == 200
    assert len(seven) == len(one), [q["sql"] for q in seven.captured_queries]


def test_the_demo_fills_every_register(db, client_as, clock):
    from isms.web.demo import demo_load

    users = demo_load(password="demo-pass-1", today=clock.today)
    assert Incident.objects.count() == 2
    assert Incident.objects.filter(risk_reviews__isnull=False).count() == 1  # one asked for a risk review
    assert Change.objects.count() == 3
    assert Change.objects.filter(reviews__isnull=False).distinct().count() == 2
    assert Change.objects.filter(status="open").exists() and Change.objects.filter(status="closed").exists()
    assert Supplier.objects.count() == 8
    soon = clock.today + datetime.timedelta(days=30)
    assert Supplier.objects.filter(certificates__expires_on__lte=soon).count() == 1
    assert SupplierReview.objects.count() >= 6
    # PayFlow's latest review lowered its rating: the owners of its risks were asked to review them.
    assert ReviewRequest.objects.filter(source="supplier").exists()
    assert Objective.objects.count() == 4
    assert all(o.entries.count() >= 12 for o in Objective.objects.all())
    users = demo_load(password="demo-pass-1", today=clock.today)  # loading again adds nothing
    assert Supplier.objects.count() == 8 and Incident.objects.count() == 2
    client = client_as(users["compliance"])
    for name in EMPTY:
        assert client.get(reverse(name)).status_code == 200
    pages = {
        "events:incident": Incident.objects.first(),
        "events:change": Change.objects.first(),
        "events:supplier": Supplier.objects.first(),
        "events:objective": Objective.objects.first(),
    }
    for name, obj in pages.items():
        assert client.get(reverse(name, args=[obj.pk])).status_code == 200
