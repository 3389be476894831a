"""Submitted evidence is immutable: a correction is a new version linked to the old one, and only an
administrator deletes, with a reason, leaving a tombstone while the file leaves storage."""

import hashlib

from django.urls import reverse

from evidence.models import EvidenceItem
from tests.evidence.conftest import stored_files, upload


def test_a_correction_is_version_2_linked_to_version_1(client, owner, world, media_root):
    v1 = world["mine_file"]
    client.force_login(owner)
    response = client.post(
        reverse("evidence:correct", args=[v1.pk]),
        {
            "type": "file",
            "title": "AC-01 report (corrected)",
            "file": upload("fixed.txt", b"the right report\n"),
            "correction_reason": "The wrong month's report was attached.",
        },
    )
    v2 = EvidenceItem.objects.get(supersedes=v1)
    assert response.status_code == 302 and response["Location"] == reverse("evidence:detail", args=[v2.pk])
    assert v2.version == 2 and v2.title == "AC-01 report (corrected)"
    assert v2.occurrence_id == v1.occurrence_id and v2.control_id == v1.control_id  # still evidence for the same
    assert v2.sha256 == hashlib.sha256(b"the right report\n").hexdigest()
    assert v2.submitted_by == owner
    # Version 1 no longer counts, but is still there, unchanged, readable and downloadable.
    assert list(EvidenceItem.objects.live().filter(occurrence=v1.occurrence)) == [v2]
    v1_before = {f.name: getattr(v1, f.attname) for f in EvidenceItem._meta.concrete_fields}
    v1.refresh_from_db()
    assert {f.name: getattr(v1, f.attname) for f in EvidenceItem._meta.concrete_fields} == v1_before
    page = client.get(reverse("evidence:detail", args=[v1.pk])).content.decode()
    assert "Superseded" in page and reverse("evidence:detail", args=[v2.pk]) in page
    assert "Add a corrected version" not in page
    assert client.get(reverse("evidence:download", args=[v1.pk])).status_code == 200
    page = client.get(reverse("evidence:detail", args=[v2.pk])).content.decode()
    assert "Version 1" in page and reverse("evidence:detail", args=[v1.pk]) in page
    assert len(stored_files(media_root)) == 3  # versions 1 and 2 of this one, and Olga's file


def test_only_the_newest_version_takes_a_correction(client, compliance, world):
    v1 = world["mine_file"]
    client.force_login(compliance)
    why = {"correction_reason": "Re-run"}
    client.post(reverse("evidence:correct", args=[v1.pk]), {"type": "note", "note": "Scan re-run; see ticket.", **why})
    response = client.post(
        reverse("evidence:correct", args=[v1.pk]), {"type": "note", "note": "again", **why}, follow=True
    )
    assert "Only the newest version" in response.content.decode()
    assert EvidenceItem.objects.filter(occurrence=v1.occurrence).count() == 2


def test_a_correction_with_bad_input_records_nothing(client, owner, world):
    v1 = world["mine_file"]
    client.force_login(owner)
    response = client.post(reverse("evidence:correct", args=[v1.pk]), {"type": "link", "url": "javascript:alert(1)"})
    assert response.status_code == 200 and "is not a web address" in response.content.decode()
    assert not EvidenceItem.objects.filter(supersedes=v1).exists()


def test_delete_needs_an_administrator_and_a_reason_and_leaves_a_tombstone(
    client, admin_user, compliance, world, media_root, django_capture_on_commit_callbacks
):
    item = world["mine_file"]
    stored = media_root / item.file.name
    assert stored.exists()
    url = reverse("evidence:delete", args=[item.pk])

    client.force_login(compliance)
    assert client.post(url, {"reason": "wrong file"}).status_code == 403

    client.force_login(admin_user)
    response = client.post(url, {"reason": "   "})
    assert response.status_code == 200 and "reason" in response.content.decode().lower()
    item.refresh_from_db()
    assert not item.is_deleted and stored.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"reason": "Uploaded the payroll export by mistake"})
    assert response.status_code == 302
    tombstone = EvidenceItem.objects.get(pk=item.pk)
    assert tombstone.deleted_by == admin_user and tombstone.deleted_at is not None
    assert tombstone.deletion_reason == "Uploaded the payroll export by mistake"
    assert tombstone.sha256 == item.sha256 and tombstone.file.name == ""
    assert not stored.exists()
    assert not EvidenceItem.objects.live().filter(pk=item.pk).exists()

    page = client.get(reverse("evidence:detail", args=[item.pk])).content.decode()
    assert "Uploaded the payroll export by mistake" in page and str(admin_user) in page and item.sha256 in page
    assert reverse("evidence:download", args=[item.pk]) not in page
    assert "Add a corrected version" not in page
    assert client.get(reverse("evidence:download", args=[item.pk])).status_code == 404
    # Deleting twice changes nothing.
    response = client.post(url, {"reason": "again"})
    assert response.status_code == 302
    assert EvidenceItem.objects.get(pk=item.pk).deletion_reason == "Uploaded the payroll export by mistake"


def test_the_admin_site_only_shows_evidence(client, admin_user, world):
    item = world["mine_file"]
    client.force_login(admin_user)
    assert client.get(reverse("admin:evidence_evidenceitem_changelist")).status_code == 200
    change = client.get(reverse("admin:evidence_evidenceitem_change", args=[item.pk]))
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
    assert client.post(reverse("admin:evidence_evidenceitem_change", args=[item.pk]), {"title": "x"}).status_code == 403
    assert client.get(reverse("admin:evidence_evidenceitem_add")).status_code == 403
    assert (
        client.post(reverse("admin:evidence_evidenceitem_delete", args=[item.pk]), {"post": "yes"}).status_code == 403
    )
    item.refresh_from_db()
    assert item.title != "x" and not item.is_deleted
