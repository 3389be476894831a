"""ICS feeds: a secret URL per person and one for the organisation, readable by any calendar app."""

import datetime
import zoneinfo

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from icalendar import Calendar

from isms.maintenance import feeds
from isms.maintenance.models import CalendarFeed, Occurrence
from isms.maintenance.services import schedule_save
from isms.organisation.models import Organisation
from tests import factories

TODAY = datetime.date(2026, 6, 15)
NOW = datetime.datetime(2026, 6, 15, 10, 0, tzinfo=zoneinfo.ZoneInfo("Europe/London"))


@pytest.fixture(autouse=True)
def frozen(clock):
    """Every test here runs on the shared stopped clock, at this module's moment."""
    clock.move_to(NOW)


def make_schedule(owner, title, *, rrule="FREQ=MONTHLY", start=datetime.date(2026, 1, 10), kind="control_activity"):
    return factories.make_schedule(
        owner, title=title, rrule=rrule, start_date=start, kind=kind, by=owner, today=TODAY, backfill=True
    )


def read(response) -> Calendar:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def events(cal: Calendar) -> dict[str, object]:
    return {str(e["uid"]): e for e in cal.walk("VEVENT")}


def user_feed_url(user) -> str:
    return reverse("maintenance:feed_user_ics", args=[feeds.user_feed(user).token])


def org_feed_url() -> str:
    return reverse("maintenance:feed_org_ics", args=[feeds.organisation_feed().token])


@pytest.fixture
def schedules(owner, compliance):
    return {
        "firewall": make_schedule(owner, "Review firewall rules"),
        "backups": make_schedule(compliance, "Test a backup restore"),
    }


def window():
    return Occurrence.objects.filter(
        due_date__gte=TODAY - datetime.timedelta(days=feeds.FEED_PAST_DAYS),
        due_date__lte=feeds.horizon(TODAY),
    )


def test_user_feed_holds_exactly_the_users_own_tasks(client, owner, schedules):
    cal = read(client.get(user_feed_url(owner)))  # no sign-in: calendar apps cannot

    assert str(cal["x-wr-calname"]) == f"ISMS tasks: {owner}"
    found = events(cal)
    mine = window().filter(owner=owner)
    assert mine.count() > 10
    assert set(found) == {f"occurrence-{pk}@isms" for pk in mine.values_list("pk", flat=True)}
    assert {str(e["summary"]) for e in found.values()} <= {"Review firewall rules", "Review firewall rules [missed]"}

    occ = mine.get(due_date=datetime.date(2026, 7, 10))
    event = found[f"occurrence-{occ.pk}@isms"]
    start, end = event.decoded("dtstart"), event.decoded("dtend")
    assert type(start) is datetime.date and start == datetime.date(2026, 7, 10)  # all-day, not a datetime
    assert type(end) is datetime.date and end == datetime.date(2026, 7, 11)
    link = settings.SITE_URL + reverse("maintenance:occurrence", args=[occ.pk])
    assert str(event["url"]) == link
    description = str(event["description"])
    assert link in description
    assert f"Owner: {owner}" in description
    assert "Kind: Control activity" in description
    assert "Status: Upcoming" in description


def test_organisation_feed_holds_everyones_tasks(client, owner, compliance, schedules):
    cal = read(client.get(org_feed_url()))

    assert str(cal["x-wr-calname"]) == f"ISMS calendar: {Organisation.current().name}"
    found = events(cal)
    assert set(found) == {f"occurrence-{pk}@isms" for pk in window().values_list("pk", flat=True)}
    titles = {str(e["summary"]) for e in found.values()}
    assert {"Review firewall rules", "Test a backup restore"} <= titles


def test_feed_covers_ninety_days_back_to_the_horizon_and_marks_resolved_tasks(client, owner, compliance, schedules):
    firewall = schedules["firewall"].occurrences
    too_old = firewall.get(due_date=datetime.date(2026, 3, 10))  # 97 days ago
    missed = firewall.get(due_date=datetime.date(2026, 4, 10))
    done = firewall.get(due_date=datetime.date(2026, 5, 10))
    skipped = firewall.get(due_date=datetime.date(2026, 6, 10))
    missed.state = Occurrence.State.MISSED
    missed.save()
    done.state, done.completed_on = Occurrence.State.DONE, datetime.date(2026, 5, 9)
    done.save()
    skipped.state = Occurrence.State.SKIPPED
    skipped.save()
    last = firewall.order_by("due_date").last()

    found = events(read(client.get(user_feed_url(owner))))

    assert f"occurrence-{too_old.pk}@isms" not in found
    assert str(found[f"occurrence-{last.pk}@isms"]["summary"]) == "Review firewall rules"
    assert last.due_date <= feeds.horizon(TODAY)
    assert str(found[f"occurrence-{missed.pk}@isms"]["summary"]) == "Review firewall rules [missed]"
    assert str(found[f"occurrence-{done.pk}@isms"]["summary"]) == "Review firewall rules [done]"
    assert str(found[f"occurrence-{skipped.pk}@isms"]["summary"]) == "Review firewall rules [skipped]"
    assert "Status: Done on time" in str(found[f"occurrence-{done.pk}@isms"]["description"])


def test_uid_is_stable_between_fetches(client, owner, schedules):
    url = user_feed_url(owner)
    assert set(events(read(client.get(url)))) == set(events(read(client.get(url))))


def test_unknown_token_or_wrong_kind_of_token_is_404(client, owner, schedules):
    personal = feeds.user_feed(owner).token
    organisation = feeds.organisation_feed().token

    assert client.get(reverse("maintenance:feed_user_ics", args=["not-a-token"])).status_code == 404
    assert client.get(reverse("maintenance:feed_org_ics", args=["not-a-token"])).status_code == 404
    assert client.get(reverse("maintenance:feed_org_ics", args=[personal])).status_code == 404
    assert client.get(reverse("maintenance:feed_user_ics", args=[organisation])).status_code == 404


def test_an_inactive_persons_feed_is_gone(client, owner, schedules):
    url = user_feed_url(owner)
    owner.is_active = False
    owner.save()
    assert client.get(url).status_code == 404


def test_feeds_page_shows_the_personal_link_and_makes_it_once(client_as, owner):
    client = client_as(owner)
    response = client.get(reverse("maintenance:feeds"))

    assert response.status_code == 200
    feed = CalendarFeed.objects.get(user=owner)
    assert len(feed.token) >= 43  # token_urlsafe(32)
    content = response.content.decode()
    assert settings.SITE_URL + reverse("maintenance:feed_user_ics", args=[feed.token]) in content
    assert "organisation.ics" not in content  # owners see their own work only
    assert "Outlook" in content and "Google Calendar" in content

    client.get(reverse("maintenance:feeds"))
    assert CalendarFeed.objects.get(user=owner).token == feed.token


@pytest.mark.parametrize("role", ["compliance", "admin", "viewer"])
def test_managers_and_viewers_also_get_the_organisation_link(client_as, users, role):
    content = client_as(users[role]).get(reverse("maintenance:feeds")).content.decode()

    org = CalendarFeed.objects.get(is_organisation=True)
    assert settings.SITE_URL + reverse("maintenance:feed_org_ics", args=[org.token]) in content
    can_replace = reverse("maintenance:feed_org_regenerate") in content
    assert can_replace is (role != "viewer")


def test_regenerating_kills_the_old_link_and_the_new_one_works(client, client_as, owner, schedules):
    old = user_feed_url(owner)
    assert client.get(old).status_code == 200

    response = client_as(owner).post(reverse("maintenance:feed_regenerate"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("maintenance:feeds")
    assert "old link no longer works" in response.content.decode()

    new = user_feed_url(owner)
    assert new != old
    assert client.get(old).status_code == 404
    assert read(client.get(new))


def test_regenerate_is_post_only(client_as, owner):
    assert client_as(owner).get(reverse("maintenance:feed_regenerate")).status_code == 405


def test_a_manager_regenerates_the_organisation_link(client, client_as, compliance, schedules):
    old = org_feed_url()
    response = client_as(compliance).post(reverse("maintenance:feed_org_regenerate"))
    assert response.status_code == 302 and response["Location"] == reverse("maintenance:feeds")

    assert client.get(old).status_code == 404
    assert read(client.get(org_feed_url()))


@pytest.mark.parametrize("role", ["owner", "viewer"])
def test_others_cannot_regenerate_the_organisation_link(client_as, users, role):
    token = feeds.organisation_feed().token
    assert client_as(users[role]).post(reverse("maintenance:feed_org_regenerate")).status_code == 403
    assert CalendarFeed.objects.get(is_organisation=True).token == token


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_feed_query_count_does_not_grow_with_the_number_of_tasks(client, owner, compliance, department):
    def add(n, offset):
        for i in range(n):
            schedule_save(
                owner=owner if i % 2 else compliance,
                department=department if i % 3 else None,
                title=f"One-off task {offset + i}",
                start_date=TODAY + datetime.timedelta(days=offset + i),
                rrule="",
                reminder_days=[14, 3, 1],
                grace_days=7,
                kind="control_activity" if i % 2 else "risk_review",
                today=TODAY,
            )

    Organisation.current()  # made on first use; exists in any real installation
    org, mine = org_feed_url(), user_feed_url(owner)
    add(5, 0)
    few = _queries(client, org), _queries(client, mine)
    add(45, 10)
    assert Occurrence.objects.count() == 50
    many = _queries(client, org), _queries(client, mine)
    assert many == few
    assert max(many) <= 3


def test_a_feed_stops_when_its_owner_is_no_longer_staff(client, owner, schedules):
    url = user_feed_url(owner)
    owner.role = "auditor"
    owner.save()
    assert client.get(url).status_code == 404
