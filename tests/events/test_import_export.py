"""Imports: the list's download is the template; a preview with each row's errors; all or nothing."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from events import services, transfer
from events.models import Change, Incident, Objective, Supplier

from .conftest import objective_fields

INCIDENT_HEADER = "Title,What happened,Occurred on,Detected on,Severity,Handler,Risks\n"


def _upload(client, register: str, text: str, name: str = "file.csv"):
    url = reverse("events:import", args=[register])
    return client.post(url, {"file": SimpleUploadedFile(name, text.encode())})


def _confirm(client, register: str):
    return client.post(reverse("events:import", args=[register]), {"confirm": "1"})


def test_an_incident_file_with_one_bad_row_shows_why_and_writes_nothing(client_as, clock, compliance, owner, severity):
    client = client_as(compliance)
    text = INCIDENT_HEADER + (
        f"Lost phone,Left on a train,2026-03-01,2026-03-02,Medium,{owner.email},\n"
        f"Phishing,Clicked,2026-03-05,2026-03-04,Medium,{owner.email},\n"
        f"Outage,Down for an hour,2026-03-01,2026-03-01,Huge,nobody@example.com,R-99\n"
    )
    page = _upload(client, "incidents", text).content.decode()
    assert "2 rows cannot be imported as they stand: nothing will be written." in page
    assert "after it was detected" in page
    assert "Severity “Huge” is not on the scale" in page
    assert "Handler “nobody@example.com”: no active user" in page
    assert "Risks: “R-99” is not in the register." in page
    assert "Import 3 rows" not in page
    response = _confirm(client, "incidents")  # forcing it writes nothing either
    assert response.status_code == 302
    assert not Incident.objects.exists()


def test_a_valid_incident_file_is_imported_and_each_risk_reviewed(
    client_as, clock, compliance, owner, severity, two_risks
):
    client = client_as(compliance)
    first, _ = two_risks
    text = (
        INCIDENT_HEADER + f"Lost phone,Left on a train,2026-03-01,2026-03-02,Medium,{owner.email},{first.reference}\n"
    )
    assert "Every row is valid" in _upload(client, "incidents", text).content.decode()
    _confirm(client, "incidents")
    incident = Incident.objects.get()
    assert incident.owner == owner and list(incident.risks.all()) == [first]
    assert incident.risk_reviews.count() == 1


def test_the_supplier_download_imported_again_changes_nothing(client_as, clock, compliance, owner, supplier):
    services.certificate_save(
        by=compliance, supplier=supplier, name="ISO/IEC 27001", expires_on=clock.today + datetime.timedelta(days=99)
    )
    services.supplier_save(by=compliance, name="CleanCo", service="Cleaning", criticality="low", owner=owner,
                           contract_end=clock.today + datetime.timedelta(days=400), notice_days=30)  # fmt: skip
    client = client_as(compliance)
    download = client.get(reverse("events:suppliers"), {"export": "xlsx"}).content
    rows = transfer.preview(transfer.REGISTERS["suppliers"], "suppliers.xlsx", download)
    assert [(r.label, r.action, r.errors) for r in rows] == [("CleanCo", "unchanged", []), ("PayFlow", "unchanged", [])]

    csv = client.get(reverse("events:suppliers"), {"export": "csv"}).content.decode("utf-8-sig")
    csv = csv.replace("Cleaning", "Office cleaning") + f"NewCo,Printing,medium,,{owner.username}\n"
    response = _upload(client, "suppliers", csv)
    assert "Every row is valid" in response.content.decode()
    _confirm(client, "suppliers")
    assert Supplier.objects.get(name="CleanCo").service == "Office cleaning"
    assert Supplier.objects.get(name="NewCo").next_review_on is not None  # on the calendar like any supplier


def test_changes_and_objectives_import_with_the_same_checks_as_their_forms(client_as, clock, compliance, owner):
    client = client_as(compliance)
    questions = ",".join(f'"{q}"' for _, q, _ in __import__("events.models").models.QUESTIONS)
    text = f"What changes,When,Owner,{questions}\nNew office,2026-05-01,{owner.email},,,,,,,\n"
    assert "The questions are not answered: each needs Yes or No." in _upload(client, "changes", text).content.decode()
    text = f"What changes,When,Owner,{questions}\nNew office,2026-05-01,{owner.email},Yes,No,No,Yes,No,No,No\n"
    _upload(client, "changes", text)
    _confirm(client, "changes")
    change = Change.objects.get()
    assert set(change.reviews.values_list("kind", flat=True)) == {"scope", "risks"}

    services.objective_save(by=compliance, **objective_fields(owner, clock.today))
    download = client.get(reverse("events:objectives"), {"export": "csv"}).content
    rows = transfer.preview(transfer.REGISTERS["objectives"], "o.csv", download)
    assert [(r.action, r.errors) for r in rows] == [("unchanged", [])]
    bad = download.decode("utf-8-sig").replace(",90,", ",50,")
    (row,) = transfer.preview(transfer.REGISTERS["objectives"], "o.csv", bad.encode())
    assert row.errors == ["The target is where the baseline already is: set the level to reach."]
    assert Objective.objects.get().target == 90


def test_a_file_that_is_not_a_spreadsheet_is_refused(clock, compliance):
    with pytest.raises(transfer.FileRefused, match="Columns missing: Name, Service provided"):
        transfer.preview(transfer.REGISTERS["suppliers"], "x.csv", b"hello\nworld\n")
    with pytest.raises(transfer.FileRefused, match="could not be read as an Excel workbook"):
        transfer.preview(transfer.REGISTERS["suppliers"], "x.xlsx", b"not a zip")
