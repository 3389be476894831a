"""The compliance team's engagements: opening one (with auditors invited by email), changing it, ending it with a
reason, the list and its downloads, an engagement's page and the auditors' log."""

from __future__ import annotations

import datetime
import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audits.services import audit_create
from isms.accounts.models import User
from isms.foundation.roles import Role
from isms.notices import engine
from isms.notices.models import Notice
from portal.models import AuditorAction, Engagement, EvidenceRequest
from portal.services import action_record, engagement_end, engagement_save
from tests.factories import UserFactory, make_control, make_requirement

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)
PASSWORD = "a long and private passphrase 2026"


def open_engagement(by, *, title="Stage 2 audit", auditors=(), today=None, **fields) -> Engagement:
    today = today or datetime.date(2026, 3, 10)
    values = {
        "title": title,
        "certification_body": "Example Certification Ltd",
        "audit": None,
        "period_start": today - 365 * DAY,
        "period_end": today - DAY,
        "access_starts_on": today - DAY,
        "access_ends_on": today + 14 * DAY,
        "areas": ["risks"],
        "frameworks": [make_requirement().framework],
        "auditors": auditors,
    }
    values.update(fields)
    return engagement_save(by=by, **values)


def form_data(framework, **fields) -> dict:
    data = {
        "title": "Surveillance audit 2026",
        "certification_body": "Example Certification Ltd",
        "period_start": "2025-03-01",
        "period_end": "2026-02-28",
        "access_starts_on": "2026-03-09",
        "access_ends_on": "2026-03-31",
        "frameworks": [framework.pk],
        "areas": ["risks", "nonconformities"],
    }
    data.update(fields)
    return data


def deliver_invitations() -> None:
    for notice in Notice.objects.filter(kind="accounts.invitation", sent_at__isnull=True):
        engine.deliver(notice.pk)


# ----------------------------------------------------------------------------------------------- opening one


def test_the_team_opens_an_engagement_inviting_two_auditors_by_email(client_as, compliance, clock):
    framework = make_requirement().framework
    lines = "ana.lima@cb.example, Ana Lima\n\nbo@cb.example"
    response = client_as(compliance).post(reverse("portal:engagement_new"), form_data(framework, invite=lines))
    engagement = Engagement.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "portal:engagement_detail", args=[engagement.pk]
    )
    ana, bo = engagement.auditors.order_by("email")
    assert (ana.email, ana.first_name, ana.last_name, ana.role) == ("ana.lima@cb.example", "Ana", "Lima", Role.AUDITOR)
    assert bo.email == "bo@cb.example" and bo.role == Role.AUDITOR and not bo.has_usable_password()
    assert engagement.areas == ["risks", "nonconformities"] and engagement.created_by == compliance
    deliver_invitations()
    assert sorted(m.to[0] for m in mail.outbox) == ["ana.lima@cb.example", "bo@cb.example"]  # one email each
    page = client_as(compliance).get(response["Location"]).content.decode()
    assert "Ana Lima" in page and "Pending" in page and "Not set up yet" in page


def test_an_auditor_invited_through_an_engagement_accepts_and_lands_in_the_portal(client, compliance, clock):
    engagement = open_engagement(compliance, invite=[{"email": "ana@cb.example", "first_name": "Ana"}])
    deliver_invitations()
    link = re.search(r"http://\S+/accounts/invitation/\?token=\S+", mail.outbox[-1].body).group(0)
    parts = urlsplit(link)
    token = client.get(f"{parts.path}?{parts.query}").context["token"]
    done = client.post(reverse("invitation"), {"token": token, "password1": PASSWORD, "password2": PASSWORD})
    assert done.status_code == 302
    ana = User.objects.get(email="ana@cb.example")
    assert client.post(reverse("login"), {"username": ana.username, "password": PASSWORD}).status_code == 302
    assert ana in engagement.auditors.all()
    landing = client.get(reverse("portal:home"))
    assert landing.status_code in (200, 302)  # straight into the one engagement open


def test_an_expired_invitation_from_an_engagement_is_refused(client, compliance, admin_user, clock, settings):
    engagement = open_engagement(compliance, invite=[{"email": "ana@cb.example"}])
    deliver_invitations()
    link = re.search(r"http://\S+/accounts/invitation/\?token=\S+", mail.outbox[-1].body).group(0)
    detail = reverse("portal:engagement_detail", args=[engagement.pk])
    client.force_login(compliance)
    assert "Pending" in client.get(detail).content.decode()
    clock.advance(days=settings.INVITATION_DAYS, minutes=1)
    client.logout()
    parts = urlsplit(link)
    page = client.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 410 and "This invitation has expired" in page.content.decode()
    ana = User.objects.get(email="ana@cb.example")
    assert not ana.has_usable_password()
    # The team sees that it expired, and who sends a new one.
    client.force_login(compliance)
    page = client.get(detail).content.decode()
    assert "Expired" in page and "an administrator sends a new one from People" in page
    client.force_login(admin_user)
    page = client.get(detail).content.decode()
    assert f'href="{reverse("accounts:person", args=[ana.pk])}">send a new one' in page


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"period_end": "2025-01-01"}, "period_end", "The period under audit ends before it starts"),
        ({"access_ends_on": "2026-03-01"}, "access_ends_on", "Access ends before it starts"),
        ({"invite": "ana at cb"}, "invite", "Line 1: “ana at cb” is not an email address"),
        ({"invite": "a@cb.example\nA@cb.example"}, "invite", "on an earlier line already"),
        ({"frameworks": []}, "frameworks", "Choose at least one framework the audit covers"),
    ],
)
def test_bad_input_is_a_form_error_and_nothing_is_saved(client_as, compliance, clock, fields, field, words):
    framework = make_requirement().framework
    response = client_as(compliance).post(reverse("portal:engagement_new"), form_data(framework, **fields))
    assert response.status_code == 200
    assert any(words in e for e in response.context["form"].errors[field])
    assert not Engagement.objects.exists() and not User.objects.filter(role=Role.AUDITOR, email__contains="cb").exists()


def test_service_refusals_reach_the_form_beside_their_fields(client_as, compliance, owner, clock):
    annex = make_requirement().framework
    clause = make_requirement("iso27001-2022-clauses", "9.2", "Internal audit")
    internal = audit_create(
        by=compliance,
        kind="internal",
        title="Internal",
        planned_on=clock.today + 10 * DAY,
        lead_auditor=owner,
        scope=[],
    )
    page = client_as(compliance).post(
        reverse("portal:engagement_new"), form_data(annex, requirements=[clause.pk], audit=internal.pk)
    )
    form = page.context["form"]
    assert "audit" in form.errors  # an internal audit is not offered
    page = client_as(compliance).post(reverse("portal:engagement_new"), form_data(annex, requirements=[clause.pk]))
    assert "9.2 is not in the frameworks chosen" in page.context["form"].errors["requirements"][0]
    page = client_as(compliance).post(
        reverse("portal:engagement_new"), form_data(annex, invite=f"{owner.email}, Taken")
    )
    assert "belongs to an account that is not an active auditor's" in page.context["form"].errors["invite"][0]
    auditor = UserFactory(role=Role.AUDITOR, department=None, email="known@cb.example")
    page = client_as(compliance).post(reverse("portal:engagement_new"), form_data(annex, invite="KNOWN@cb.example"))
    error = page.context["form"].errors["invite"][0]
    assert f"already has an auditor account ({auditor})" in error and "Auditors with an account" in error
    assert not Engagement.objects.exists() and not Notice.objects.filter(kind="accounts.invitation").exists()


def test_the_service_refuses_what_the_form_cannot_catch(compliance, viewer, owner, clock):
    with pytest.raises(ValidationError) as refused:
        open_engagement(compliance, period_end=clock.today - 400 * DAY)
    assert "ends before it starts" in str(refused.value)
    with pytest.raises(ValidationError) as refused:
        open_engagement(compliance, auditors=[owner])
    assert "is not an active auditor account" in str(refused.value)
    with pytest.raises(ValidationError):
        open_engagement(compliance, frameworks=[])
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        open_engagement(viewer)
    assert not Engagement.objects.exists()


# ----------------------------------------------------------------------------------------------- changing, ending


def test_the_team_changes_an_engagement_and_adds_an_auditor(client_as, compliance, auditor, clock):
    engagement = open_engagement(compliance)
    client = client_as(compliance)
    page = client.get(reverse("portal:engagement_edit", args=[engagement.pk]))
    assert page.status_code == 200 and page.context["form"].initial["title"] == "Stage 2 audit"
    framework = engagement.frameworks.get()
    data = form_data(framework, title="Stage 2 audit (extended)", access_ends_on="2026-04-30", auditors=[auditor.pk])
    assert client.post(reverse("portal:engagement_edit", args=[engagement.pk]), data).status_code == 302
    engagement.refresh_from_db()
    assert engagement.title == "Stage 2 audit (extended)" and engagement.access_ends_on == datetime.date(2026, 4, 30)
    assert list(engagement.auditors.all()) == [auditor]


def test_ending_needs_a_reason_and_then_the_engagement_is_ended_early(client_as, compliance, auditor, clock):
    engagement = open_engagement(compliance, auditors=[auditor])
    client = client_as(compliance)
    url = reverse("portal:engagement_end", args=[engagement.pk])
    refused = client.post(url, {"reason": "  "})
    assert refused.status_code == 200 and "Say why the engagement ends" in refused.content.decode()
    engagement.refresh_from_db()
    assert engagement.ended_at is None
    done = client.post(url, {"reason": "Audit finished early"})
    assert done.status_code == 302
    engagement.refresh_from_db()
    assert engagement.ended_by == compliance and engagement.end_reason == "Audit finished early"
    assert engagement.get_status_display() == "Ended early"
    page = client.get(done["Location"]).content.decode()
    assert "Audit finished early" in page and "End the engagement now" not in page
    # An ended engagement is not changed: the edit page sends back with the reason, the service refuses.
    edit = client.get(reverse("portal:engagement_edit", args=[engagement.pk]))
    assert edit.status_code == 302
    with pytest.raises(ValidationError, match="open a new one"):
        engagement_save(by=compliance, engagement=engagement, frameworks=engagement.frameworks.all(), title="x")
    with pytest.raises(ValidationError, match="already ended"):
        engagement_end(engagement=engagement, by=compliance, reason="again")


# ----------------------------------------------------------------------------------------------- the list


def test_the_list_shows_each_status_filters_and_downloads(client_as, compliance, viewer, auditor, clock):
    today = clock.today
    open_engagement(compliance, title="Open one", auditors=[auditor])
    open_engagement(compliance, title="Later one", access_starts_on=today + 5 * DAY, access_ends_on=today + 9 * DAY)
    open_engagement(compliance, title="Past one", access_starts_on=today - 20 * DAY, access_ends_on=today - 2 * DAY)
    ended = open_engagement(compliance, title="Ended one")
    engagement_end(engagement=ended, by=compliance, reason="Wrong auditor")
    page = client_as(compliance).get(reverse("portal:engagements")).content.decode()
    for words in ("Open one", "Later one", "Past one", "Ended one", "Not open yet", "Access ended", "Ended early"):
        assert words in page
    assert "Open an engagement" in page and str(auditor) in page
    only_open = client_as(compliance).get(reverse("portal:engagements"), {"status": "open"}).content.decode()
    assert "Open one" in only_open and "Later one" not in only_open and "Ended one" not in only_open
    csv = client_as(compliance).get(reverse("portal:engagements"), {"export": "csv"})
    assert csv["Content-Disposition"].startswith("attachment")
    text = csv.content.decode("utf-8-sig")
    assert "Period under audit" in text and "Ended early" in text and "<" not in text
    xlsx = client_as(compliance).get(reverse("portal:engagements"), {"export": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    read_only = client_as(viewer).get(reverse("portal:engagements")).content.decode()
    assert "Past one" in read_only and "Open an engagement" not in read_only


def test_an_empty_list_says_how_to_open_one(client_as, compliance, clock):
    page = client_as(compliance).get(reverse("portal:engagements")).content.decode()
    assert "No engagements yet. Open one with “Open an engagement”" in page


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_list_and_the_log_take_as_many_queries_for_many_rows_as_for_few(client_as, compliance, clock):
    client = client_as(compliance)
    first_auditor = UserFactory(role=Role.AUDITOR, department=None)
    engagement = open_engagement(compliance, auditors=[first_auditor])
    action_record(user=first_auditor, kind="view", what="Opened a page", engagement=engagement)
    list_url, log_url = reverse("portal:engagements"), reverse("portal:engagement_log", args=[engagement.pk])
    few = (_queries(client, list_url), _queries(client, log_url))
    for n in range(12):
        person = UserFactory(role=Role.AUDITOR, department=None)
        more = open_engagement(compliance, title=f"Engagement {n}", auditors=[person, first_auditor])
        engagement.auditors.add(person)
        for _ in range(3):
            action_record(user=person, kind="view", what="Opened a page", engagement=engagement)
            action_record(user=person, kind="refused", what="Tried", engagement=more)
    assert (_queries(client, list_url), _queries(client, log_url)) == few


# ----------------------------------------------------------------------------------------------- its page and log


def test_the_page_shows_scope_auditors_and_counts(client_as, compliance, viewer, auditor, clock):
    requirement = make_requirement()
    other = make_requirement(identifier="8.13", title="Information backup")
    make_control(compliance, reference="AC-01", requirements=[requirement])
    make_control(compliance, reference="BK-01", name="Backups", requirements=[other])
    auditor.set_password(PASSWORD)
    auditor.save()
    engagement = open_engagement(compliance, auditors=[auditor], requirements=[other])
    for number, state in ((1, "open"), (2, "open"), (3, "accepted")):
        EvidenceRequest.objects.create(
            engagement=engagement, number=number, text="Restore test", owner=compliance, due_on=clock.today, state=state
        )
    page = client_as(compliance).get(reverse("portal:engagement_detail", args=[engagement.pk])).content.decode()
    requests = reverse("portal:requests", kwargs={"engagement": engagement.pk})
    assert f'Evidence requests: <a href="{requests}">3</a>' in page
    assert f'Waiting for an answer: <a href="{requests}?state=open">2</a>' in page
    assert "1 requirement" in page and "8.13 Information backup" in page and "BK-01 Backups" in page
    assert "AC-01" not in page  # out of the narrowed scope
    assert "Accepted" in page and "Risk register and treatment plan" in page
    assert "View the auditors&#x27; log" in page or "View the auditors' log" in page
    assert "End the engagement now" in page and "signed out at once" in page
    preview = reverse("portal:engagement", kwargs={"engagement": engagement.pk})
    assert f'href="{preview}"' in page  # Preview as auditor
    read_only = client_as(viewer).get(reverse("portal:engagement_detail", args=[engagement.pk])).content.decode()
    assert "End the engagement now" not in read_only and "auditors&#x27; log" not in read_only
    assert "Preview as auditor" not in read_only


def test_the_log_shows_who_what_when_where_and_refusals(client_as, compliance, clock):
    alice = UserFactory(username="alice", first_name="Alice", last_name="Audit", role=Role.AUDITOR, department=None)
    stranger = UserFactory(username="sam", first_name="Sam", role=Role.AUDITOR, department=None)
    engagement = open_engagement(compliance, auditors=[alice])
    action_record(user=alice, kind="view", what="Opened control AC-01", engagement=engagement)
    action_record(user=alice, kind="refused", what="Tried to change something", engagement=engagement, status_code=403)
    action_record(user=alice, kind="view", what="Opened the portal's list of engagements")  # outside any engagement
    action_record(user=stranger, kind="view", what="Someone else's page")
    AuditorAction.objects.filter(what="Opened control AC-01").update(ip="203.0.113.9", user_agent="Firefox/140")
    client = client_as(compliance)
    url = reverse("portal:engagement_log", args=[engagement.pk])
    page = client.get(url).content.decode()
    assert "Opened control AC-01" in page and "203.0.113.9" in page and "Firefox/140" in page
    assert "Outside any engagement" in page and "Opened the portal&#x27;s list" in page
    assert "Someone else" not in page
    assert 'class="table-danger' in page and "Refused (403)" in page
    refused = client.get(url, {"kind": "refused"}).content.decode()
    assert "Tried to change something" in refused and "Opened control AC-01" not in refused
    outside = client.get(url, {"where": "outside"}).content.decode()
    assert "Opened the portal&#x27;s list" in outside and "Opened control AC-01" not in outside
    later = client.get(url, {"after": "2026-03-11"}).content.decode()
    assert "Nothing matches these filters" in later
    csv = client.get(url, {"export": "csv"}).content.decode("utf-8-sig")
    assert "203.0.113.9" in csv and "Firefox/140" in csv and "Refused (403)" in csv


def test_an_empty_log_says_what_will_be_written(client_as, compliance, clock):
    engagement = open_engagement(compliance)
    page = client_as(compliance).get(reverse("portal:engagement_log", args=[engagement.pk])).content.decode()
    assert "every page an auditor of this engagement opens" in page
