"""Fixtures the calendar's tests share: delivering notices in-process, or not at all, and one task to open."""

import pytest
from django.utils import timezone

from isms.maintenance import links
from isms.notices import engine
from tests.factories import make_schedule


@pytest.fixture
def send_now(monkeypatch, django_capture_on_commit_callbacks):
    """Deliver queued notices in-process, as the worker would, instead of through a broker."""

    def enqueue(ids):
        for pk in ids:
            engine.deliver(pk, now=timezone.now())

    monkeypatch.setattr(engine, "_enqueue", enqueue)
    return django_capture_on_commit_callbacks


@pytest.fixture
def no_broker(monkeypatch):
    """Queued notices go nowhere: for tests about pages, not email."""
    monkeypatch.setattr(engine, "_enqueue", lambda ids: None)


@pytest.fixture
def link_task(clock, owner):
    """The owner's one-off task due today, as an emailed link opens it."""
    return make_schedule(owner=owner, title="Review firewall rules", rrule="", start_date=clock.today).occurrences.get()


def token_of(occ) -> str:
    """The token an emailed task link carries (after the #)."""
    return links.task_link_url(occ).split("#", 1)[1]
