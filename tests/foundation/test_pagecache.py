"""The page cache (isms/foundation/pagecache.py): a page is served again only while nothing it could show has
changed — any committed write, another day, another person or session, a message waiting, a partial — and its
form still posts. These tests commit for real (transaction=True): the version changes when a write commits."""

import pytest
from django.db import connection, transaction
from django.test import Client, override_settings

from isms.accounts.models import Department
from isms.foundation import pagecache
from tests.factories import UserFactory

PAGE, MISSING, POST = "/pagecache/", "/pagecache/missing/", "/pagecache/post/"
pytestmark = pytest.mark.urls("tests.foundation.pagecache_urls")
committing = pytest.mark.django_db(transaction=True)


@pytest.fixture
def person():
    return UserFactory(username="reader")


@pytest.fixture
def browser(person):
    """A signed-in browser that already holds its CSRF cookie (the first page sets it)."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(person)
    client.get(PAGE)
    return client


def cache_state(response) -> str | None:
    return response.get(pagecache.HEADER)


@committing
def test_a_page_is_served_again_until_a_write(browser):
    Department.objects.create(name="Finance")
    first = browser.get(PAGE)
    again = browser.get(PAGE)
    assert cache_state(first) == "miss" and cache_state(again) == "hit"
    assert again.content == first.content and b"Finance" in again.content

    Department.objects.create(name="Legal")  # a model save, committed
    after = browser.get(PAGE)
    assert cache_state(after) == "miss" and b"Finance, Legal" in after.content


@committing
@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda: Department.objects.filter(name="Finance").update(name="Audit"), id="queryset update"),
        pytest.param(lambda: Department.objects.filter(name="Finance").delete(), id="queryset delete"),
        pytest.param(
            lambda: connection.cursor().execute("UPDATE accounts_department SET name = 'Audit' WHERE name = 'Finance'"),
            id="raw SQL",
        ),
    ],
)
def test_writes_that_send_no_signal_end_the_copy_too(browser, write):
    Department.objects.create(name="Finance")
    browser.get(PAGE)
    assert cache_state(browser.get(PAGE)) == "hit"
    write()
    after = browser.get(PAGE)
    assert cache_state(after) == "miss" and b"Finance" not in after.content


@committing
def test_a_write_seen_only_when_committed(browser):
    Department.objects.create(name="Finance")
    browser.get(PAGE)
    with transaction.atomic():
        Department.objects.create(name="Legal")
        # Inside the writing transaction the page is built, not served or stored (it may roll back).
        assert pagecache._pending(connection)
        inside = browser.get(PAGE)
        assert cache_state(inside) is None and b"Legal" in inside.content
    assert not pagecache._pending(connection)
    assert b"Legal" in browser.get(PAGE).content


@committing
def test_a_rolled_back_write_leaves_the_cache_usable(browser):
    Department.objects.create(name="Finance")
    browser.get(PAGE)
    with pytest.raises(RuntimeError), transaction.atomic():
        Department.objects.create(name="Legal")
        raise RuntimeError("undo")
    assert not pagecache._pending(connection)
    assert cache_state(browser.get(PAGE)) == "hit"


@committing
def test_another_person_or_session_gets_a_copy_of_their_own_and_its_form_posts(person, browser):
    browser.get(PAGE)
    assert cache_state(browser.get(PAGE)) == "hit"

    other = Client(enforce_csrf_checks=True)
    other.force_login(UserFactory(username="someone-else"))
    other.get(PAGE)
    assert cache_state(other.get(PAGE)) == "miss"

    second_session = Client(enforce_csrf_checks=True)  # the same person in another browser
    second_session.force_login(person)
    second_session.get(PAGE)
    page = second_session.get(PAGE)
    assert cache_state(page) == "miss"
    token = page.content.split(b'name="csrfmiddlewaretoken" value="')[1].split(b'"')[0].decode()
    assert second_session.post(POST, {"csrfmiddlewaretoken": token}).status_code == 302


@committing
def test_a_waiting_message_is_shown_not_a_stored_page(browser):
    browser.get(PAGE)
    assert cache_state(browser.get(PAGE)) == "hit"
    token = browser.cookies["csrftoken"].value
    browser.post(POST, {"csrfmiddlewaretoken": token})
    shown = browser.get(PAGE)
    assert b"Saved." in shown.content and cache_state(shown) is None
    assert b"Saved." not in browser.get(PAGE).content  # shown once; the stored page never had it


@committing
def test_another_day_builds_the_page_again(browser, clock):
    browser.get(PAGE)
    assert cache_state(browser.get(PAGE)) == "hit"
    clock.advance(days=1)
    assert cache_state(browser.get(PAGE)) == "miss"


@committing
def test_a_partial_is_not_the_whole_page(browser):
    browser.get(PAGE)
    assert cache_state(browser.get(PAGE, headers={"HX-Request": "true"})) == "miss"
    assert cache_state(browser.get(PAGE + "?page=2")) == "miss"


@committing
def test_only_complete_pages_are_stored(browser):
    assert browser.get(MISSING).status_code == 404
    assert cache_state(browser.get(MISSING)) is None


@committing
def test_signed_out_and_first_visits_are_never_served_from_the_cache(person):
    fresh = Client()
    fresh.force_login(person)
    assert cache_state(fresh.get(PAGE)) is None  # no CSRF cookie yet: the page sets one
    fresh.logout()
    assert fresh.get(PAGE).status_code == 302


@committing
@override_settings(PAGE_CACHE_SECONDS=0)
def test_zero_seconds_turns_it_off(browser):
    assert cache_state(browser.get(PAGE)) is None and cache_state(browser.get(PAGE)) is None


@committing
def test_a_missing_version_row_is_recreated(browser):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM foundation_dataversion")
    assert len(pagecache.current_version()) == 32


@pytest.mark.parametrize(
    ("sql", "is_write"),
    [
        ('INSERT INTO "maintenance_occurrence" ("title") VALUES (%s)', True),
        ('UPDATE "evidence_evidenceitem" SET "title" = %s', True),
        ('DELETE FROM "controls_control" WHERE "id" = %s', True),
        ('  update "accounts_user" set "last_login" = %s', True),
        ('SELECT "id" FROM "maintenance_occurrence" FOR UPDATE', False),
        ('UPDATE "django_session" SET "session_data" = %s', False),
        ('INSERT INTO "axes_accessattempt" ("username") VALUES (%s)', False),
        ("UPDATE foundation_dataversion SET token = %s", False),
        ("SAVEPOINT s1", False),
    ],
)
def test_which_statements_are_writes(sql, is_write):
    assert pagecache._is_write(sql) is is_write
