"""A queued notice about a real task, for the engine's tests, and a worker that dies the way SIGKILL kills it."""

import datetime
from unittest import mock

import pytest
from django.core.mail import EmailMessage

from isms.maintenance.notices import Slot
from isms.notices import engine
from tests.factories import make_schedule


class WorkerKilled(BaseException):  # noqa: N818 - named for what it stands for
    """SIGKILL: the process stops where it is and nothing after that line runs (no `except Exception`)."""


@pytest.fixture
def make_notice(owner, clock):
    """make_notice(title) -> an unsent 'Assigned to you' notice to `owner` about a task due in 30 days."""

    def make(title: str = "Restore test of the backups"):
        schedule = make_schedule(owner, title=title, rrule="", start_date=clock.today + datetime.timedelta(days=30))
        occ = schedule.occurrences.get()
        with mock.patch.object(engine, "_enqueue"):
            return engine.notice_create(
                key=f"occ:{occ.pk}:assigned:test", kind=Slot.ASSIGNED, recipient=owner, subject=occ
            )

    return make


@pytest.fixture
def killed_after_acceptance():
    """A context manager: while it is open, the mail server accepts each email and the worker dies right after."""
    accept = EmailMessage.send

    def send(self, fail_silently=False):
        accept(self, fail_silently)
        raise WorkerKilled

    return mock.patch.object(EmailMessage, "send", send)
