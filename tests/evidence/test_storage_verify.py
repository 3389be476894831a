"""The nightly storage check: a file left in storage with no evidence row (an upload that crashed between
storing the file and recording it) is removed once it is a day old; every stored file is re-hashed against its
recorded SHA-256 over the nights, in bounded batches, and the compliance team is told once of each file that
changed or went missing."""

import datetime
import os

import pytest
from django.core.files.storage import default_storage

from evidence.models import EvidenceItem
from evidence.services import evidence_add_file, evidence_storage_verify
from isms.beat import BEAT_SCHEDULE
from isms.notices.models import Notice
from tests.evidence.conftest import upload
from tests.factories import make_control

KIND = "evidence.integrity"


def stored_file(name: str, age: datetime.timedelta, now: datetime.datetime) -> str:
    stored = default_storage.save(name, upload(content=b"half an upload"))
    when = (now - age).timestamp()
    os.utime(default_storage.path(stored), (when, when))
    return stored


@pytest.fixture
def control(owner):
    return make_control(owner)


@pytest.fixture
def item(clock, owner, control):
    return evidence_add_file(upload=upload("scan.txt"), by=owner, source="web", control=control)


def test_orphan_files_older_than_a_day_are_removed(clock, item):
    now = clock.now
    old = stored_file("evidence/2026/03/crashed-upload", datetime.timedelta(days=2), now)
    young = stored_file("evidence/2026/03/upload-in-progress", datetime.timedelta(hours=2), now)
    result = evidence_storage_verify(now=now)
    assert not default_storage.exists(old)
    assert default_storage.exists(young)  # may still be recorded: an upload in progress
    assert default_storage.exists(item.file.name)  # has its row
    assert result.orphans_removed == 1 and result.mismatched == 0


def test_a_changed_file_is_reported_to_the_compliance_team_once(clock, item, compliance):
    path = default_storage.path(item.file.name)
    with open(path, "ab") as f:
        f.write(b"tampered")
    evidence_storage_verify(now=clock.now)
    notices = Notice.objects.filter(kind=KIND)
    assert [n.recipient for n in notices] == [compliance]
    assert notices.get().data["problem"] == "changed"
    clock.advance(days=1)
    evidence_storage_verify(now=clock.now)
    assert Notice.objects.filter(kind=KIND).count() == 1  # once per mismatch, however many nights it stays


def test_a_missing_file_is_reported_and_the_email_reads_as_words(clock, item, compliance, mailoutbox):
    os.remove(default_storage.path(item.file.name))
    result = evidence_storage_verify(now=clock.now)
    assert result.mismatched == 1
    notice = Notice.objects.get(kind=KIND)
    assert notice.data["problem"] == "missing"
    from isms.notices.engine import deliver

    deliver(notice.pk, now=clock.now)
    [mail] = mailoutbox
    assert "scan.txt" in mail.subject and "missing" in mail.subject.lower()
    assert "SHA-256" in mail.body and item.sha256 in mail.body
    assert f"/evidence/{item.pk}/" in mail.body


def test_an_unchanged_store_tells_nobody(clock, item, compliance):
    result = evidence_storage_verify(now=clock.now)
    assert result.checked == 1 and result.mismatched == 0
    assert not Notice.objects.filter(kind=KIND).exists()


def test_re_hashing_is_bounded_per_night_and_covers_every_file_over_the_nights(clock, owner, control):
    items = [
        evidence_add_file(upload=upload(f"r{i}.txt", f"report {i}".encode()), by=owner, source="web", control=control)
        for i in range(7)
    ]
    checked = []
    for _ in range(4):
        result = evidence_storage_verify(now=clock.now, max_files=2)
        assert result.checked <= 3
        checked += result.checked_ids
        clock.advance(days=1)
    assert set(checked) == {i.pk for i in items}


def test_a_deleted_items_tombstone_is_not_checked(clock, item, admin_user):
    from evidence.services import evidence_delete

    evidence_delete(item=item, by=admin_user, reason="uploaded to the wrong control")
    assert evidence_storage_verify(now=clock.now).checked == 0
    assert EvidenceItem.objects.filter(pk=item.pk).exists()


def test_beat_runs_it_nightly():
    entry = BEAT_SCHEDULE["verify-evidence-storage"]
    assert entry["task"] == "evidence.verify_storage"
