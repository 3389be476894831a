"""Schemathesis against the OpenAPI schema, in process through the WSGI app, with a manager's token: every
operation, valid and invalid inputs; no answer may be a server error, and every answer must be what the schema
says (a documented status code, its content type, a body and headers matching its schema). Bounded to a few
hundred requests."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from evidence.services import evidence_add_note
from risks.services import risk_create
from tests.factories import make_control, make_requirement, make_schedule

# Per operation and mode: the writes (3) get 40 examples each, the reads (20) 15 each: about 840 requests in all,
# about a minute and a half; the reads' inputs are few (a page number, an id, a filter or two).
WRITE_EXAMPLES, READ_EXAMPLES = 40, 15
#: Every check schemathesis has (no server error; a documented status code, content type, body and headers; the
#: token refused when missing; methods not offered refused; …) but two: that every request the schema allows is
#: accepted and every other refused. The schema cannot say "one of control, occurrence or requirement" or "a file
#: whose content matches its name", and does not forbid unknown query parameters, so those two would flag the API's
#: own rules rather than a mismatch between the schema and the answers.
EXCLUDED = [positive_data_acceptance, negative_data_rejection]


@pytest.fixture
def wsgi_app(db):
    """The real WSGI app, inside the test's transaction (as Django's test client does, keep the connection open)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def real_ids(compliance, owner, stored_files):
    """Something real to aim at, so valid requests get past the id checks and into the writes."""
    control = make_control(owner, requirements=[make_requirement()])
    occurrences = list(make_schedule(compliance).occurrences.values_list("pk", flat=True))
    evidence = evidence_add_note(note="seed", by=owner, source="web", control=control)
    risk = risk_create(
        by=compliance,
        title="Seed risk",
        asset="Laptops",
        threat="Theft",
        vulnerability="No disk encryption",
        owner=owner,
        inherent_likelihood=3,
        inherent_impact=4,
        residual_likelihood=2,
        residual_impact=3,
        treatment="mitigate",
    )
    return {
        "risk": risk.pk,
        "control": control.pk,
        "requirement": control.requirements.get().pk,
        "occurrence": occurrences,
        "evidence": evidence.pk,
    }


def _aim(case, ids: dict) -> None:
    """Point the ids of a generated valid request at real objects (invalid requests are left as generated)."""
    if isinstance(case.body, dict):
        for field in ("control", "requirement"):
            if isinstance(case.body.get(field), int):
                case.body[field] = ids[field]
        if isinstance(case.body.get("occurrence"), int):
            case.body["occurrence"] = ids["occurrence"][case.body["occurrence"] % len(ids["occurrence"])]
    if case.path_parameters and "id" in case.path_parameters:
        tasks = "/tasks/" in case.operation.path
        risks = "/risks/" in case.operation.path
        case.path_parameters["id"] = ids["occurrence"][-1] if tasks else ids["risk"] if risks else ids["evidence"]


def test_the_schema_is_public_and_valid_openapi(wsgi_app):
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)
    labels = sorted(result.ok().label for result in schema.get_all_operations())
    assert labels == [
        "GET /api/v1/audits/audits/",
        "GET /api/v1/audits/audits/{id}/",
        "GET /api/v1/audits/nonconformities/",
        "GET /api/v1/audits/nonconformities/{id}/",
        "GET /api/v1/audits/reviews/",
        "GET /api/v1/audits/reviews/{id}/",
        "GET /api/v1/events/changes/",
        "GET /api/v1/events/changes/{id}/",
        "GET /api/v1/events/incidents/",
        "GET /api/v1/events/incidents/{id}/",
        "GET /api/v1/events/objectives/",
        "GET /api/v1/events/objectives/{id}/",
        "GET /api/v1/events/suppliers/",
        "GET /api/v1/events/suppliers/{id}/",
        "GET /api/v1/evidence/{id}/",
        "GET /api/v1/risks/",
        "GET /api/v1/risks/queue/",
        "GET /api/v1/risks/{id}/",
        "GET /api/v1/risks/{id}/assessments/",
        "GET /api/v1/tasks/",
        "POST /api/v1/evidence/",
        "POST /api/v1/risks/{id}/assessments/",
        "POST /api/v1/tasks/{id}/complete/",
    ]


@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
def test_generated_requests_get_documented_answers_and_no_server_error(wsgi_app, api, compliance, real_ids, mode):
    headers = {"Authorization": f"Bearer {api(compliance).secret}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(generation_mode=mode))
        @hypothesis_settings(
            max_examples=READ_EXAMPLES if operation.method.upper() == "GET" else WRITE_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            if mode == schemathesis.GenerationMode.POSITIVE:
                _aim(case, real_ids)
            case.call_and_validate(headers=headers, excluded_checks=EXCLUDED)

        check()
