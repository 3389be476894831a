"""Out-of-range input to the API and its token pages is a clear 4xx in JSON (never a 500, never an HTML page),
and nothing is written: a token expiring in the year 9999, dates outside 2000–2100, JSON nested 100,000 deep,
a body over the size limit, an address that is no endpoint, a page that does not exist."""

import datetime
import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from evidence.api.services import token_create
from evidence.models import ApiToken, EvidenceItem
from tests.api.conftest import upload
from tests.factories import make_control, make_schedule

EVIDENCE = "/api/v1/evidence/"
TASKS = "/api/v1/tasks/"


def is_json(response) -> bool:
    return response["Content-Type"].startswith("application/json")


@pytest.fixture
def control(owner):
    return make_control(owner)


# --- tokens --------------------------------------------------------------------------------------------------


def test_a_token_expiring_on_31_december_9999_is_a_form_error_not_a_server_error(client_as, owner, clock):
    response = client_as(owner).post(
        reverse("api:token_create"), {"name": "CI", "scopes": ["tasks:read"], "expires_on": "9999-12-31"}
    )
    assert response.status_code == 200
    assert "no more than two years ahead" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_the_form_accepts_an_expiry_two_years_ahead(client_as, owner, clock):
    day = clock.today.replace(year=clock.today.year + 2)
    response = client_as(owner).post(
        reverse("api:token_create"), {"name": "CI", "scopes": ["tasks:read"], "expires_on": day.isoformat()}
    )
    assert response.status_code == 200 and ApiToken.objects.count() == 1


def test_the_service_refuses_an_expiry_more_than_two_years_ahead(owner, clock):
    too_late = clock.now + datetime.timedelta(days=3 * 366)
    with pytest.raises(ValidationError, match="no more than two years ahead"):
        token_create(user=owner, by=owner, name="CI", scopes=["tasks:read"], expires_at=too_late)
    assert not ApiToken.objects.exists()


# --- dates in the evidence and task fields -------------------------------------------------------------------


@pytest.mark.parametrize("field", ["effective_date", "period_start", "period_end", "expires_on"])
def test_a_date_outside_2000_to_2100_is_refused_naming_the_field(api, owner, control, clock, field):
    body = {"type": "note", "note": "Reviewed", "control": control.pk, field: "9999-12-31"}
    response = api(owner).post(EVIDENCE, body, format="json")
    assert response.status_code == 400 and is_json(response)
    assert "between 1 January 2000 and 31 December 2100" in response.json()[field][0]
    assert not EvidenceItem.objects.exists()


def test_evidence_expiring_on_31_december_9999_leaves_nothing_behind(api, owner, control, clock, stored_files):
    response = api(owner).post(
        EVIDENCE, {"file": upload(), "control": control.pk, "expires_on": "9999-12-31"}, format="multipart"
    )
    assert response.status_code == 400 and "expires_on" in response.json()
    assert not EvidenceItem.objects.exists() and stored_files() == []


def test_the_task_list_refuses_a_due_before_outside_2000_to_2100(api, owner, clock):
    response = api(owner).get(TASKS, {"due_before": "9999-01-01"})
    assert response.status_code == 400 and "due_before" in response.json()


# --- bodies too deep or too large ----------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [100_000, 33])
def test_json_nested_too_deep_is_a_400_saying_so(api, owner, control, clock, depth):
    body = "[" * depth + "]" * depth
    response = api(owner).post(EVIDENCE, body, content_type="application/json")
    assert response.status_code == 400 and is_json(response)
    assert "nested more than 32 levels deep" in response.json()["detail"]


def test_json_nested_too_deep_on_completing_a_task_is_a_400(api, owner, clock):
    occ = make_schedule(owner).occurrences.first()
    body = '{"note": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = api(owner).post(f"/api/v1/tasks/{occ.pk}/complete/", body, content_type="application/json")
    assert response.status_code == 400 and is_json(response)
    occ.refresh_from_db()
    assert occ.state == "open"


def test_nesting_within_the_limit_is_read_as_usual(api, owner, control, clock):
    body = {"type": "note", "note": "Reviewed", "control": control.pk, "extra": [[[[["deep but fine"]]]]]}
    assert api(owner).post(EVIDENCE, json.dumps(body), content_type="application/json").status_code == 201


def test_a_json_body_over_the_size_limit_is_a_413(api, owner, control, clock, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = {"type": "note", "note": "x" * 20_000, "control": control.pk}
    response = api(owner).post(EVIDENCE, json.dumps(body), content_type="application/json")
    assert response.status_code == 413 and is_json(response)
    assert "larger than" in response.json()["detail"]
    assert not EvidenceItem.objects.exists()


def test_a_multipart_body_with_too_many_fields_is_a_json_400(api, owner, control, clock, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    fields = {f"field{i}": "x" for i in range(10)} | {"control": control.pk}
    response = api(owner).post(EVIDENCE, fields, format="multipart")
    assert response.status_code == 400 and is_json(response)
    assert "too many fields" in response.json()["detail"]


# --- JSON errors outside the endpoints -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/nothing/", "/api/v1/evidence/abc/", "/api/v1/tasks/-5/complete/"])
def test_an_address_under_api_that_is_no_endpoint_answers_404_in_json(api, owner, path):
    response = api(owner).get(path)
    assert response.status_code == 404 and is_json(response)
    assert response.json() == {"detail": "There is no API endpoint at this address. See /api/docs/."}


def test_pages_outside_the_api_keep_their_html_404(client_as, owner):
    response = client_as(owner).get("/evidence/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_a_bad_host_under_api_answers_400_in_json(client, db, settings):
    settings.ALLOWED_HOSTS = ["isms.example.com"]
    response = client.get(TASKS, HTTP_HOST="evil.example")
    assert response.status_code == 400 and is_json(response)
    assert "detail" in response.json()


@pytest.mark.parametrize("page", ["0", "2", "-1", "x"])
def test_a_page_that_does_not_exist_is_a_json_404_the_schema_documents(api, owner, clock, page):
    response = api(owner).get(TASKS, {"page": page})
    assert response.status_code == 404 and is_json(response)
    assert response.json() == {
        "detail": f"There is no page “{page}” of tasks: pages are numbered from 1 to the last one (whose next is null)."
    }
    schema = api(owner).get("/api/schema/?format=json").json()
    assert "404" in schema["paths"][TASKS]["get"]["responses"]


def test_the_schema_says_what_url_holds_for_files_and_notes(api, owner, control, clock):
    response = api(owner).post(EVIDENCE, {"type": "note", "note": "Reviewed", "control": control.pk}, format="json")
    assert response.json()["url"] == ""
    schema = api(owner).get("/api/schema/?format=json").json()
    url = schema["components"]["schemas"]["Evidence"]["properties"]["url"]
    assert url.get("format") != "uri" and {"type": "string", "maxLength": 0} in url["anyOf"]


def test_a_server_error_under_api_answers_in_json(api, owner, monkeypatch):
    from evidence.api import views

    def broken(self):
        raise RuntimeError("a fault in the code")

    monkeypatch.setattr(views.TaskListView, "get_queryset", broken)
    client_ = api(owner)
    client_.raise_request_exception = False
    response = client_.get(TASKS)
    assert response.status_code == 500 and is_json(response)
    assert response.json() == {"detail": "Something went wrong on the server; it has been logged. Try again later."}


def test_a_method_an_endpoint_does_not_take_answers_405_in_json(api, owner):
    response = api(owner).delete(TASKS)
    assert response.status_code == 405 and is_json(response)
