"""The base layout, the error pages and the health check."""

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

from tests.factories import make_certificate


def test_dashboard_shows_next_audit_and_navigation(client_as, compliance):
    make_certificate()
    body = client_as(compliance).get(reverse("dashboard")).content.decode()
    for label in ["Dashboard", "Calendar", "Organisation", "Controls", "Evidence", "Risks", "Registers", "Audits"]:
        assert f">{label}</a>" in body
    assert ">Engagements</a>" in body and ">Your audits</a>" not in body  # the auditor's portal is theirs
    assert "Next external audit" in body
    assert "/static/bootstrap/css/bootstrap.min.css" in body
    assert "htmx" in body and "cdn" not in body.lower()


def test_auditor_lands_on_the_portal_and_sees_no_internal_navigation(client_as, auditor):
    client = client_as(auditor)
    response = client.get(reverse("dashboard"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("portal:home")
    body = response.content.decode()
    assert ">Calendar</a>" not in body and ">Controls</a>" not in body and ">Engagements</a>" not in body
    assert ">Your audits</a>" in body


def test_each_role_is_offered_exactly_the_sections_it_may_open(client_as, owner, viewer):
    for user, engagements in ((owner, False), (viewer, True)):  # leadership reads the engagements
        body = client_as(user).get(reverse("dashboard")).content.decode()
        assert ">Controls</a>" in body and ">Your audits</a>" not in body
        assert (">Engagements</a>" in body) is engagements


def test_404_page_is_friendly(client_as, viewer):
    response = client_as(viewer).get("/no/such/page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content


@pytest.mark.django_db
def test_500_page_needs_nothing_but_the_template():
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.content


def test_csrf_failure_page(client, db):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("login"), {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert b"This form has expired" in response.content


def test_health(client, db):
    assert client.get(reverse("health")).json() == {"status": "ok"}


def test_a_refused_page_says_why_and_where_to_go(client_as, owner):
    response = client_as(owner).get(reverse("maintenance:schedules"))
    assert response.status_code == 403
    body = response.content.decode()
    assert "have access" in body and "your own tasks are under My tasks" in body


def test_the_dashboard_lists_my_tasks_due_now(client_as, owner, clock):
    from tests.factories import make_schedule

    make_schedule(owner=owner, title="Quarterly access review", rrule="", start_date=clock.today)
    body = client_as(owner).get(reverse("dashboard")).content.decode()
    assert "Your tasks now" in body and "Quarterly access review" in body
