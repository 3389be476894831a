"""Evidence tests: a fresh MEDIA_ROOT per test (so "no file left behind" can be checked), and a small world of
controls, tasks and evidence with named actors."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from evidence.services import evidence_add_file
from evidence.services import occurrence_complete_with_evidence as occurrence_complete
from tests.conftest import FROZEN_TODAY
from tests.factories import make_control, make_requirement, make_schedule

D = datetime.date
TODAY = FROZEN_TODAY  # the shared `clock` (tests/conftest.py) stops time at 09:00 on this day


def at(day: datetime.date, hour: int = 10, minute: int = 30) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def upload(name: str = "report.txt", content: bytes = b"scan report: no critical findings\n"):
    return SimpleUploadedFile(name, content)


def stored_files(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture
def world(clock, owner, other_owner, compliance):
    """Two controls with a monthly activity each: the owner's (IT) and Olga's (HR), each with one done task
    carrying a file, and a requirement mapped to the owner's control."""
    requirement = make_requirement()
    mine = make_control(owner, reference="AC-01", name="User access management", requirements=[requirement])
    theirs = make_control(other_owner, reference="HR-01", name="Screening")
    objs = {"requirement": requirement, "mine": mine, "theirs": theirs}
    for key, control in (("mine", mine), ("theirs", theirs)):
        schedule = make_schedule(
            owner=control.owner,
            title=f"Monthly check of {control.reference}",
            start_date=D(2026, 2, 5),
            subject=control,
            today=D(2026, 1, 1),
        )
        occ = schedule.occurrences.get(due_date=D(2026, 2, 5))
        occurrence_complete(
            occurrence=occ, by=control.owner, files=[upload(f"{control.reference}.txt")], now=at(D(2026, 2, 4))
        )
        objs[f"{key}_occ"] = occ
        objs[f"{key}_file"] = occ.evidence.get()
    return objs


def add_file(by, **targets):
    return evidence_add_file(upload=upload(), by=by, source="web", **targets)
