"""Around every request an auditor makes (portal/middleware.py): it is logged with who, what, when and from where;
anything but reading is refused and logged as refused; the session ends when the engagement ends or its access
window closes; an auditor outside the window sees nothing of the engagement."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from isms.foundation import reach
from isms.foundation.roles import Role
from portal.models import AuditorAction, Engagement
from portal.services import engagement_end, engagement_save
from tests.conftest import local
from tests.factories import UserFactory, make_requirement

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 3, 10)
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
FROM = {"REMOTE_ADDR": "203.0.113.7", "HTTP_USER_AGENT": BROWSER}


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", first_name="Alice", role=Role.AUDITOR, department=None)


def engage(compliance, auditor, **fields) -> Engagement:
    values = {
        "title": "Surveillance audit",
        "certification_body": "Example Certification Ltd",
        "audit": None,
        "period_start": datetime.date(2025, 3, 1),
        "period_end": datetime.date(2026, 2, 28),
        "access_starts_on": TODAY - datetime.timedelta(days=1),
        "access_ends_on": TODAY + datetime.timedelta(days=14),
        "areas": [],
        "frameworks": [make_requirement().framework],
        "auditors": [auditor],
        **fields,
    }
    return engagement_save(by=compliance, **values)


def portal_url(engagement: Engagement) -> str:
    return reverse("portal:engagement", kwargs={"engagement": engagement.pk})


def test_an_engaged_auditors_request_is_logged_with_address_and_browser(client, compliance, alice, clock):
    engagement = engage(compliance, alice)
    client.force_login(alice)
    response = client.get(portal_url(engagement), **FROM)
    assert response.status_code == 200
    line = AuditorAction.objects.get(user=alice)
    assert (line.kind, line.method, line.status_code) == (AuditorAction.Kind.VIEW, "GET", 200)
    assert line.engagement == engagement and line.path == portal_url(engagement)
    assert line.ip == "203.0.113.7" and line.user_agent == BROWSER and line.at == clock.now


def test_a_post_to_a_staff_page_is_refused_and_logged_as_refused(client, compliance, alice, clock):
    engagement = engage(compliance, alice)
    client.force_login(alice)
    before = engagement.title
    response = client.post(
        reverse("portal:engagement_edit", args=[engagement.pk]), {"title": "Changed by the auditor"}, **FROM
    )
    assert response.status_code == 403 and b"have access" in response.content
    control_post = client.post(reverse("controls:create"), {"reference": "X-1"}, **FROM)
    assert control_post.status_code == 403
    engagement.refresh_from_db()
    assert engagement.title == before
    refused = AuditorAction.objects.filter(user=alice, kind=AuditorAction.Kind.REFUSED).order_by("pk")
    assert refused.count() == 2
    assert all(r.status_code == 403 and r.method == "POST" and r.ip == "203.0.113.7" for r in refused)
    assert "refused" in refused[0].what


def test_a_staff_page_an_auditor_opens_is_refused_and_logged(client, compliance, alice, clock):
    engage(compliance, alice)
    client.force_login(alice)
    assert client.get(reverse("controls:index"), **FROM).status_code == 403
    line = AuditorAction.objects.get(user=alice)
    assert line.status_code == 403 and "(refused: 403)" in line.what


def test_ending_the_engagement_ends_the_auditors_session_at_the_next_request(client, compliance, alice, clock):
    engagement = engage(compliance, alice)
    client.force_login(alice)
    assert client.get(portal_url(engagement)).status_code == 200
    engagement_end(engagement=engagement, by=compliance, reason="Audit finished early")
    response = client.get(portal_url(engagement), follow=True)
    assert response.redirect_chain[0] == (reverse("login"), 302)
    page = response.content.decode()
    assert "You were signed out because your access to the audit (Surveillance audit) has ended" in page
    assert "_auth_user_id" not in client.session


def test_the_end_of_the_access_window_ends_the_session_too(client, compliance, alice, clock):
    engagement = engage(compliance, alice)
    # Signed in late on the last day of access (which still counts), still at work past midnight.
    clock.move_to(local(engagement.access_ends_on, 23, 50))
    client.force_login(alice)
    assert client.get(portal_url(engagement)).status_code == 200
    clock.advance(minutes=20)
    response = client.get(portal_url(engagement), follow=True)
    assert response.redirect_chain[0] == (reverse("login"), 302)
    assert "your access to the audit (Surveillance audit) has ended" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_auditor_outside_the_window_sees_nothing_of_the_engagement(client, compliance, alice, clock):
    later = engage(
        compliance,
        alice,
        access_starts_on=TODAY + datetime.timedelta(days=5),
        access_ends_on=TODAY + datetime.timedelta(days=9),
    )
    client.force_login(alice)
    assert client.get(portal_url(later), **FROM).status_code == 404
    assert not reach.visible(alice, Engagement).exists()
    home = client.get(reverse("portal:home"))
    assert home.status_code == 200 and "Surveillance audit" in home.content.decode()  # listed as coming
    line = AuditorAction.objects.filter(user=alice, path=portal_url(later)).get()
    assert line.engagement is None and line.status_code == 404  # the line names no engagement it was refused


def test_another_auditors_engagement_is_a_404_whatever_the_id(client, compliance, alice, auditor, clock):
    theirs = engage(compliance, alice)
    client.force_login(auditor)
    assert client.get(portal_url(theirs)).status_code == 404
    assert client.get(reverse("portal:engagement", kwargs={"engagement": theirs.pk + 1000})).status_code == 404


def test_an_auditors_sign_in_is_a_line_in_the_log_of_their_engagement(client, compliance, alice, clock):
    engagement = engage(compliance, alice)
    response = client.post(
        reverse("login"), {"username": alice.username, "password": "correct horse battery staple"}, **FROM
    )
    assert response.status_code == 302
    line = AuditorAction.objects.get(user=alice, kind=AuditorAction.Kind.SIGN_IN)
    assert (line.engagement, line.what, line.ip) == (engagement, "Signed in", "203.0.113.7")
