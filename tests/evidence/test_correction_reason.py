"""A correction says why it replaces the previous version (as a deletion does), and the version history shows it."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from evidence.models import EvidenceItem
from evidence.services import evidence_add_note
from tests.evidence.conftest import upload


def test_the_service_refuses_a_correction_without_a_reason(owner, world):
    v1 = world["mine_file"]
    with pytest.raises(ValidationError, match="Say why this version replaces version 1"):
        evidence_add_note(note="Scan re-run", by=owner, source="web", supersedes=v1)
    with pytest.raises(ValidationError, match="Say why"):
        evidence_add_note(note="Scan re-run", by=owner, source="web", supersedes=v1, correction_reason="   ")
    assert not EvidenceItem.objects.filter(supersedes=v1).exists()
    v2 = evidence_add_note(
        note="Scan re-run", by=owner, source="web", supersedes=v1, correction_reason="The first scan missed a subnet."
    )
    assert v2.correction_reason == "The first scan missed a subnet."


def test_new_evidence_needs_no_reason(owner, world):
    item = evidence_add_note(note="Checked", by=owner, source="web", control=world["mine"])
    assert item.correction_reason == ""


def test_the_correction_page_asks_for_the_reason_and_the_history_shows_it(client, owner, world):
    v1 = world["mine_file"]
    client.force_login(owner)
    url = reverse("evidence:correct", args=[v1.pk])
    assert "Why is it corrected?" in client.get(url).content.decode()
    response = client.post(url, {"type": "file", "file": upload("fixed.txt", b"the right report\n")})
    assert response.status_code == 200
    assert "Say why this version replaces version 1" in response.content.decode()
    assert not EvidenceItem.objects.filter(supersedes=v1).exists()

    response = client.post(
        url,
        {
            "type": "file",
            "file": upload("fixed.txt", b"the right report\n"),
            "correction_reason": "Attached last month's report by mistake.",
        },
    )
    v2 = EvidenceItem.objects.get(supersedes=v1)
    assert response.status_code == 302 and v2.correction_reason == "Attached last month's report by mistake."
    for page in (reverse("evidence:detail", args=[v2.pk]), reverse("evidence:detail", args=[v1.pk])):
        versions = client.get(page).content.decode().split('data-testid="versions"')[1].split("</ul>")[0]
        assert "Attached last month&#x27;s report by mistake." in versions


def test_adding_evidence_does_not_ask_for_a_reason(client, owner, world):
    client.force_login(owner)
    page = client.get(reverse("evidence:create", args=["control", world["mine"].pk])).content.decode()
    assert "Why is it corrected?" not in page
