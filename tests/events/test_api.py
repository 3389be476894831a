"""The events API: read the four registers with an events:read token, through the same reach rule as the pages."""

import datetime

import pytest

from events import services

from .conftest import NO, objective_fields


@pytest.fixture
def api(db):
    from rest_framework.test import APIClient

    from evidence.api.services import token_create

    def client_for(user, scopes):
        _, secret = token_create(user=user, by=user, name="test token", scopes=scopes)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return client

    return client_for


def test_read_the_registers(clock, api, owner, other_owner, compliance, severity, supplier, two_risks):
    services.incident_create(
        by=owner, title="Lost phone", description="On a train", occurred_on=clock.today, detected_on=clock.today,
        severity=severity, risks=[two_risks[0]],
    )  # fmt: skip
    services.incident_create(
        by=other_owner, title="Olga's", description="x", occurred_on=clock.today, detected_on=clock.today,
        severity=severity,
    )  # fmt: skip
    change = services.change_create(
        by=owner,
        title="New CRM",
        planned_on=clock.today + datetime.timedelta(days=10),
        **(NO | {"changes_assets": True}),
    )
    services.objective_save(by=compliance, **objective_fields(owner, clock.today))
    client = api(owner, scopes=["events:read"])

    incidents = client.get("/api/v1/events/incidents/").json()
    assert incidents["count"] == 1  # a control owner reads their own incidents only
    assert incidents["results"][0]["risks"] == [two_risks[0].reference]
    assert incidents["results"][0]["severity"] == "Medium"
    detail = client.get(f"/api/v1/events/changes/{change.pk}/").json()
    assert detail["answers"]["changes_assets"] is True and detail["approved"] is False
    assert [(r["kind"], r["done"]) for r in detail["reviews"]] == [("risks", False)]
    suppliers = client.get("/api/v1/events/suppliers/").json()
    assert suppliers["results"][0]["name"] == "PayFlow" and suppliers["results"][0]["criticality"] == "critical"
    objectives = client.get("/api/v1/events/objectives/").json()
    assert objectives["results"][0]["progress"] == "not_started"

    assert api(compliance, scopes=["events:read"]).get("/api/v1/events/incidents/").json()["count"] == 2


def test_a_token_without_the_scope_is_refused_with_a_reason(clock, api, owner):
    response = api(owner, scopes=["tasks:read"]).get("/api/v1/events/suppliers/")
    assert response.status_code == 403
    assert "events:read" in response.json()["detail"]
