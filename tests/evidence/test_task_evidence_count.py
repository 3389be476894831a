"""Each task's live evidence count is kept by the database (evidence.models.TaskEvidenceCount, migration 0010):
whoever writes evidence (the services, a bulk load, a plain update), a task's count is its live items, the one
coverage shows. Corrections, deletions and moves between tasks recount both tasks concerned."""

import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.db.models import Count
from django.utils import timezone

from evidence.models import EvidenceItem, TaskEvidenceCount
from evidence.services import evidence_add_note, evidence_delete
from tests.evidence.conftest import add_file


def kept() -> dict[int, int]:
    """What the database keeps: task id -> live items."""
    return dict(TaskEvidenceCount.objects.values_list("occurrence_id", "live"))


def counted() -> dict[int, int]:
    """What counting the items says (`live()`, as every list of evidence reads it)."""
    return dict(
        EvidenceItem.objects.live()
        .filter(occurrence__isnull=False)
        .values("occurrence")
        .annotate(n=Count("pk"))
        .values_list("occurrence", "n")
    )


def test_adding_correcting_deleting_and_moving_evidence_keeps_each_tasks_count(world, owner, admin_user):
    occ, other = world["mine_occ"], world["theirs_occ"]
    assert kept() == counted() == {occ.pk: 1, other.pk: 1}

    note = evidence_add_note(note="Reviewed with the team lead.", by=owner, source="web", occurrence=occ)
    assert kept()[occ.pk] == 2

    # A correction replaces version 1: still two live items on the task, the new version among them.
    correction = evidence_add_note(
        note="Reviewed with the team lead and HR.",
        by=owner,
        source="web",
        occurrence=occ,
        supersedes=note,
        correction_reason="HR took part too.",
    )
    assert kept()[occ.pk] == 2 and correction.version == 2

    evidence_delete(item=correction, by=admin_user, reason="Filed on the wrong task.")
    assert kept()[occ.pk] == 1  # the deleted version 2 no longer counts, nor version 1 it replaced

    # A plain update that moves an item to another task (no service involved) recounts both.
    EvidenceItem.objects.filter(pk=world["mine_file"].pk).update(occurrence=other)
    assert occ.pk not in kept()  # a task with no live evidence has no row
    assert kept()[other.pk] == 2
    assert kept() == counted()


def test_bulk_loaded_and_removed_items_are_counted(world, owner):
    occ = world["mine_occ"]
    now = timezone.now()
    EvidenceItem.objects.bulk_create(
        EvidenceItem(type="note", title=f"Note {i}", note="n", submitted_at=now, submitted_by=owner, occurrence=occ)
        for i in range(5)
    )
    assert kept()[occ.pk] == 6
    EvidenceItem.objects.filter(occurrence=occ, type="note").update(deleted_at=now)
    assert kept()[occ.pk] == 1
    EvidenceItem.objects.filter(occurrence=occ, type="note").delete()
    assert kept() == counted()


def test_evidence_not_on_a_task_is_not_counted(world, owner):
    before = kept()
    add_file(owner, control=world["mine"])
    add_file(owner, requirement=world["requirement"])
    assert kept() == before == counted()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite writes one transaction at a time")
def test_two_people_adding_evidence_to_one_task_at_once_are_both_counted(world, owner, other_owner):
    """Two transactions each add an item to the same task: the second's recount waits for the first to commit,
    then counts both (neither overwrites the other's count)."""
    occ = world["mine_occ"]
    first_added = threading.Event()
    release_first = threading.Event()
    errors = []

    def first():
        try:
            with transaction.atomic():
                evidence_add_note(note="From the first person.", by=owner, source="web", occurrence=occ)
                first_added.set()
                release_first.wait(10)
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            connections.close_all()

    def second():
        try:
            first_added.wait(10)
            with transaction.atomic():
                evidence_add_note(note="From the second person.", by=other_owner, source="web", occurrence=occ)
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    first_added.wait(10)
    assert _waits_on_a_recount(), "the second recount did not wait for the first transaction"
    release_first.set()
    for t in threads:
        t.join(20)
    assert not errors, errors
    assert kept()[occ.pk] == 3 == counted()[occ.pk]


def _waits_on_a_recount(deadline_s: float = 10.0) -> bool:
    """Whether another session comes to wait on a recount's lock (polled: it happens within milliseconds)."""
    end = time.monotonic() + deadline_s
    with connections["default"].cursor() as cursor:
        while time.monotonic() < end:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype IN ('tuple', 'transactionid') AND NOT granted")
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.005)
    return False
