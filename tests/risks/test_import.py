"""Import from CSV or Excel: the same columns as the download, a preview with each row's errors, nothing written
until the whole file is valid, and a download imported again changes nothing."""

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from risks.models import Assessment, Risk


def download(client, fmt: str) -> bytes:
    response = client.get(reverse("risks:index"), {"export": fmt})
    assert response.status_code == 200
    return response.content


def check_and_import(client, name: str, content: bytes):
    preview = client.post(reverse("risks:import"), {"file": SimpleUploadedFile(name, content)})
    assert preview.status_code == 200
    return preview, client.post(reverse("risks:import"), {"confirm": "1"})


def test_a_round_trip_changes_nothing(clock, client_as, compliance, owner, make_risk, control):
    make_risk(owner, controls=[control], requirements=list(control.requirements.all()), target_likelihood=2,
              target_impact=2, treatment_plan="=SUM(A1) starts like a formula", review_months=4)  # fmt: skip
    make_risk(owner, title="Phishing", treatment="transfer")
    client = client_as(compliance)
    for fmt in ("csv", "xlsx"):
        before = list(Risk.objects.order_by("pk").values())
        assessments = Assessment.objects.count()
        preview, done = check_and_import(client, f"register.{fmt}", download(client, fmt))
        assert [row.action for row in preview.context["rows"]] == ["unchanged", "unchanged"], fmt
        assert done.status_code == 302
        assert list(Risk.objects.order_by("pk").values()) == before, fmt
        assert Assessment.objects.count() == assessments, fmt


def test_an_edited_download_updates_and_adds(clock, client_as, compliance, owner, make_risk):
    make_risk(owner)
    client = client_as(compliance)
    rows = list(csv.DictReader(io.StringIO(download(client, "csv").decode("utf-8-sig"))))
    rows[0]["Residual likelihood"] = "2"
    new = dict(rows[0], Reference="", Title="Supplier breach", Owner=owner.username)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows([rows[0], new])
    preview, done = check_and_import(client, "edited.csv", out.getvalue().encode())
    assert [(r.action, r.changed) for r in preview.context["rows"]] == [
        ("update", ["residual_likelihood"]),
        ("add", []),
    ]
    assert done.status_code == 302
    risk = Risk.objects.get(reference="R-01")
    assert risk.residual_score == 6
    last = risk.assessments.order_by("-number").first()
    assert last.kind == "import" and last.reason == "Imported from edited.csv."
    assert Risk.objects.get(title="Supplier breach").reference == "R-02"


def test_a_bad_row_is_shown_with_its_reason_and_nothing_is_written(clock, client_as, compliance, owner, make_risk):
    make_risk(owner)
    client = client_as(compliance)
    rows = list(csv.DictReader(io.StringIO(download(client, "csv").decode("utf-8-sig"))))
    good = dict(rows[0], Reference="", Title="A good new row")
    bad = dict(rows[0], Reference="", Title="Bad", **{"Inherent impact": "7", "Owner": "nobody@example.com"})
    gone = dict(rows[0], Reference="R-99")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows([good, bad, gone])
    preview = client.post(reverse("risks:import"), {"file": SimpleUploadedFile("bad.csv", out.getvalue().encode())})
    page = preview.content.decode()
    assert "2 rows cannot be imported" in page and "nothing will be written" in page
    assert "Inherent impact 7 is outside the matrix: use 1 to 5." in page
    assert "Owner “nobody@example.com”: no active user" in page
    assert "No risk R-99 in the register" in page
    assert "Import 3 rows" not in page  # no button to write a file with errors
    client.post(reverse("risks:import"), {"confirm": "1"})
    assert list(Risk.objects.values_list("reference", flat=True)) == ["R-01"]


def test_a_file_without_the_columns_says_so(client_as, compliance):
    response = client_as(compliance).post(
        reverse("risks:import"), {"file": SimpleUploadedFile("x.csv", b"Name,Score\nA,3\n")}
    )
    assert "Columns missing: Title, Asset or process" in response.content.decode()
