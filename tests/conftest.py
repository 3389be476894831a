"""Shared fixtures: named actors, one per role (admin, compliance, owner, viewer, auditor), a second control owner,
a deactivated one, and a frozen clock."""

import datetime
import os
from dataclasses import dataclass

import pytest
import time_machine
from django.utils import timezone

from isms.foundation.roles import Role
from tests.factories import DepartmentFactory, UserFactory

REQUIRE_SERVICES = os.environ.get("ISMS_REQUIRE_SERVICES") == "1"

#: The day the `clock` fixture stops time on, at 09:00 local time: a Tuesday in a working week.
FROZEN_TODAY = datetime.date(2026, 3, 10)


def skip_or_fail(reason: str) -> None:
    """Skip a test that needs a service missing here; in CI (ISMS_REQUIRE_SERVICES=1) fail instead."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (ISMS_REQUIRE_SERVICES=1 makes this a failure)")
    pytest.skip(reason)


def local(day: datetime.date, hour: int = 9, minute: int = 0) -> datetime.datetime:
    """An aware datetime at `hour:minute` local time (settings.TIME_ZONE) on `day`."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


@dataclass
class Clock:
    """Time stopped by time-machine; `move_to` and `advance` move it on, and it stays stopped there."""

    traveller: time_machine.Traveller

    @property
    def now(self) -> datetime.datetime:
        return timezone.now()

    @property
    def today(self) -> datetime.date:
        return timezone.localdate()

    def move_to(self, when: datetime.date | datetime.datetime) -> None:
        """Stop time at `when` (a date means 09:00 local time that day)."""
        if not isinstance(when, datetime.datetime):
            when = local(when)
        self.traveller.move_to(when)

    def advance(self, **delta) -> None:
        """Move on by a timedelta given as keywords: clock.advance(days=2)."""
        self.traveller.shift(datetime.timedelta(**delta))


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: the per-address rate limits (isms/foundation/ratelimit.py) count
    there, and every test client posts from the same address; and no page cached by an earlier test
    (isms/foundation/pagecache.py) can be served to this one."""
    from django.core.cache import cache, caches

    cache.clear()
    caches["pages"].clear()


@pytest.fixture
def clock():
    """Time stopped at 09:00 local time on FROZEN_TODAY; `clock.today`, `clock.move_to(...)`, `clock.advance(...)`."""
    with time_machine.travel(local(FROZEN_TODAY), tick=False) as traveller:
        yield Clock(traveller)


@pytest.fixture
def frozen_today(clock) -> datetime.date:
    """The frozen date itself, for tests that only need "today"; move on with the `clock` fixture."""
    return clock.today


@pytest.fixture
def department(db):
    return DepartmentFactory(name="IT")


@pytest.fixture
def users(db, department):
    """One user per role, keyed by the role's value."""
    return {
        role.value: UserFactory(username=role.value, role=role, department=department if role != Role.AUDITOR else None)
        for role in Role
    }


@pytest.fixture
def admin_user(users):
    return users["admin"]


@pytest.fixture
def compliance(users):
    return users["compliance"]


@pytest.fixture
def owner(users):
    return users["owner"]


@pytest.fixture
def viewer(users):
    return users["viewer"]


@pytest.fixture
def auditor(users):
    return users["auditor"]


@pytest.fixture
def engaged_auditor(db, compliance):
    """An auditor with an engagement open today over every framework that exists when first asked for and every
    area, its period the past year: what the portal shows; still an outsider to every staff page."""
    from controls.models import Framework
    from portal.models import Area
    from portal.services import engagement_save
    from tests.factories import make_requirement

    if not Framework.objects.exists():
        make_requirement()
    today = timezone.localdate()
    auditor = UserFactory(username="erin", first_name="Erin", last_name="Examiner", role=Role.AUDITOR, department=None)
    engagement_save(
        by=compliance,
        title="Surveillance audit",
        certification_body="Example Certification Ltd",
        audit=None,
        period_start=today - datetime.timedelta(days=365),
        period_end=today + datetime.timedelta(days=30),
        access_starts_on=today - datetime.timedelta(days=1),
        access_ends_on=today + datetime.timedelta(days=14),
        areas=list(Area.values),
        frameworks=Framework.objects.all(),
        auditors=[auditor],
    )
    return auditor


@pytest.fixture
def other_owner(db):
    """A second control owner, in another department: what `owner` must not reach, and the other way round."""
    return UserFactory(
        username="olga", first_name="Olga", last_name="Berg", role=Role.OWNER, department=DepartmentFactory(name="HR")
    )


@pytest.fixture
def inactive_user(db, department):
    """A control owner whose account was deactivated (a leaver): reaches nothing, not even their own work."""
    return UserFactory(
        username="leaver", first_name="Lee", last_name="Ver", role=Role.OWNER, department=department, is_active=False
    )


@pytest.fixture
def client_as(client):
    """client_as(user) -> the test client signed in as that user."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in
