"""The login and the emailed task-link pages take at most RATE_LIMIT_REQUESTS posts per address in each
RATE_LIMIT_WINDOW_SECONDS; past that the sender gets a page saying to wait, and nothing is recorded."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from isms.maintenance.models import TaskLinkUse


@pytest.fixture(autouse=True)
def limits(settings):
    settings.RATE_LIMIT_REQUESTS = 5
    settings.RATE_LIMIT_WINDOW_SECONDS = 60
    cache.clear()
    yield
    cache.clear()


def test_the_defaults_are_twenty_a_minute():
    from isms import settings as production

    assert production.RATE_LIMIT_REQUESTS == 20 and production.RATE_LIMIT_WINDOW_SECONDS == 60


def assert_told_to_wait(response):
    assert response.status_code == 429
    assert int(response["Retry-After"]) <= 60
    body = response.content.decode()
    assert "Too many attempts from your network address" in body and "wait a minute" in body


def test_login_posts_are_limited_per_address(client, clock, db):
    url = reverse("login")

    def attempt(n, **extra):  # a new name each time, so the per-name lockout is not what answers
        return client.post(url, {"username": f"guess{n}", "password": "x"}, **extra)

    for n in range(5):
        assert attempt(n).status_code == 200
    assert_told_to_wait(attempt(5))
    # The sign-in page itself still opens; another address is not held up.
    assert client.get(url).status_code == 200
    assert attempt(6, REMOTE_ADDR="10.0.0.9").status_code == 200
    clock.advance(seconds=61)
    assert attempt(7).status_code == 200


def test_task_link_posts_are_limited_and_not_logged_past_the_limit(client, clock, db):
    url = reverse("maintenance:task_link")
    for _ in range(5):
        assert client.post(url, {"token": "forged"}).status_code != 429
    uses = TaskLinkUse.objects.count()
    for _ in range(20):
        assert_told_to_wait(client.post(url, {"token": "forged"}))
    assert TaskLinkUse.objects.count() == uses  # the flood leaves no rows
    assert client.get(url).status_code == 200


def test_posts_to_an_opened_task_share_the_limit(client, clock, db):
    for _ in range(5):
        client.post(reverse("maintenance:task_link"), {"token": "forged"})
    assert_told_to_wait(client.post(reverse("maintenance:task_link_task", args=[1]), {}))


def test_behind_the_proxy_each_client_counts_for_itself(client, clock, db, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    url = reverse("maintenance:task_link")
    proxied = {"REMOTE_ADDR": "172.18.0.5", "HTTP_X_FORWARDED_PROTO": "https"}
    for _ in range(5):
        client.post(url, {"token": "forged"}, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxied)
    assert_told_to_wait(client.post(url, {"token": "forged"}, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxied))
    assert client.post(url, {"token": "forged"}, HTTP_X_FORWARDED_FOR="198.51.100.2", **proxied).status_code != 429
