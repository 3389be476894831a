"""The library filtered by a control lists the evidence filed for the control and every item on a task of its
periodic activities, wherever it was recorded from: live versions only unless every version is asked for."""

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evidence.models import EvidenceItem
from evidence.services import evidence_add_link, evidence_add_note, evidence_delete
from tests.evidence.test_library import listed

fill = importlib.import_module("evidence.migrations.0009_task_control_library_index").file_task_evidence_for_its_control


@pytest.fixture
def on_tasks(world, compliance, owner, admin_user):
    """Besides the world's two task files: a script's link naming only the task of AC-01 (corrected since), a
    note on HR-01's task that was filed for AC-01, and a deleted link on AC-01's task."""
    scan = evidence_add_link(
        url="https://ci.example.com/runs/1", by=compliance, source="api", occurrence=world["mine_occ"]
    )
    scan_fixed = evidence_add_link(
        url="https://ci.example.com/runs/2",
        by=compliance,
        source="api",
        supersedes=scan,
        correction_reason="The first run was a dry run.",
    )
    crossed = evidence_add_note(
        note="Leavers checked against both lists",
        by=owner,
        source="api",
        occurrence=world["theirs_occ"],
        control=world["mine"],
    )
    crossed_fixed = evidence_add_note(
        note="Leavers checked against both lists (HR and IT)",
        by=owner,
        source="web",
        supersedes=crossed,
        correction_reason="Said which lists.",
    )
    gone = evidence_add_link(url="https://ci.example.com/runs/3", by=owner, source="web", occurrence=world["mine_occ"])
    evidence_delete(item=gone, by=admin_user, reason="Pasted the wrong run")
    return {
        **world,
        "scan": scan,
        "scan_fixed": scan_fixed,
        "crossed": crossed,
        "crossed_fixed": crossed_fixed,
        "gone": gone,
    }


def expect(t) -> dict:
    """What the filter listed before the control was filed on task evidence: filed for the control, or on a task
    of its activities (AC-01 = mine, HR-01 = theirs)."""
    return {
        ("mine", False): {t["mine_file"].pk, t["scan_fixed"].pk, t["crossed_fixed"].pk},
        ("mine", True): {t["mine_file"].pk, t["scan"].pk, t["scan_fixed"].pk, t["crossed"].pk, t["crossed_fixed"].pk}
        | {t["gone"].pk},
        ("theirs", False): {t["theirs_file"].pk, t["crossed_fixed"].pk},
        ("theirs", True): {t["theirs_file"].pk, t["crossed"].pk, t["crossed_fixed"].pk},
    }


def assert_lists_as_before(client, t) -> None:
    for (key, every), items in expect(t).items():
        params = {"control": t[key].pk, **({"all_versions": "on"} if every else {})}
        assert listed(client, **params) == items, (key, every)
    assert listed(client, control=t["mine"].pk, type="link") == {t["scan_fixed"].pk}
    assert listed(client, control=t["theirs"].pk, type="note") == {t["crossed_fixed"].pk}


def test_a_control_lists_its_own_evidence_and_everything_on_its_tasks(client, compliance, on_tasks):
    client.force_login(compliance)
    assert_lists_as_before(client, on_tasks)
    # Evidence on a control's task counts for that control, as when the task is completed with it.
    scan_fixed = EvidenceItem.objects.get(pk=on_tasks["scan_fixed"].pk)
    assert scan_fixed.control == on_tasks["mine"]


def test_items_recorded_before_the_control_was_filed_on_task_evidence_list_the_same(client, compliance, on_tasks):
    """The migration files older task evidence for its control, so the filter lists exactly what it did."""
    t = on_tasks
    EvidenceItem.objects.filter(pk__in=[t["scan"].pk, t["scan_fixed"].pk, t["gone"].pk]).update(control=None)
    EvidenceItem.objects.update(task_control=None)
    with connection.schema_editor() as editor:
        fill(apps, editor)
    client.force_login(compliance)
    assert_lists_as_before(client, t)


def test_the_control_filter_takes_the_same_number_of_queries_with_or_without_cross_filed_items(
    client, compliance, owner, world
):
    client.force_login(compliance)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("evidence:index"), {"control": world["theirs"].pk})
        assert response.status_code == 200
        return len(ctx.captured_queries)

    queries()  # the first request also reads the session and what is cached afterwards
    few = queries()
    for n in range(5):
        evidence_add_note(
            note=f"cross {n}", by=owner, source="api", occurrence=world["theirs_occ"], control=world["mine"]
        )
    assert len(listed(client, control=world["theirs"].pk)) == 6
    assert queries() == few
