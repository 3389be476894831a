"""The coverage strip, the library and an evidence page as a person sees them, in a real Chromium on the demo
organisation. Screenshots go to test-artifacts/screenshots/ for a person to look at."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from controls.models import Control, Requirement
from evidence.models import EvidenceItem
from evidence.services import evidence_add_file, evidence_add_note
from isms.maintenance.models import Occurrence
from isms.web.demo import demo_load

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    users = demo_load(password="browser-test-pass")
    vm = Control.objects.get(reference="VM-01")
    done = Occurrence.objects.filter(schedule__in=vm.schedules.all(), state="done").order_by("due_date")
    for occ in done:
        if occ.evidence.filter(type="file").exists() or occ.pk % 4 == 0:
            continue  # one in four done without a report: a gap the auditor would ask about
        evidence_add_file(
            upload=SimpleUploadedFile(
                f"scan-{occ.due_date:%Y-%m}.csv", b"host,severity,cve\nweb01,low,CVE-2024-0001\n"
            ),
            title=f"Authenticated scan report {occ.due_date:%B %Y}",
            by=occ.owner,
            source="api",
            occurrence=occ,
            control=vm,
            effective_date=occ.due_date,
        )
    evidence_add_note(
        note="Vulnerability management procedure v2 approved by the CISO",
        by=users["compliance"],
        source="web",
        control=vm,
        effective_date=done.first().due_date,
    )
    return {"vm": vm, "users": users}


def test_coverage_strip_library_and_detail(live_server, page, screenshot, sign_in, demo):
    sign_in("compliance", "browser-test-pass")
    vm = demo["vm"]
    page.goto(f"{live_server.url}/evidence/coverage/control/{vm.pk}/")
    assert page.get_by_role("heading", name="Coverage of VM-01").is_visible()
    assert page.get_by_test_id("coverage-summary").is_visible()
    strip = page.get_by_test_id("strip").first
    box = strip.bounding_box()
    assert box["width"] > 900 and box["height"] > 20
    marks = strip.locator(".cov-mark")
    assert marks.count() >= 10
    lefts = [marks.nth(i).bounding_box()["x"] for i in range(marks.count())]
    assert lefts == sorted(lefts) and box["x"] <= lefts[0] and lefts[-1] <= box["x"] + box["width"]
    screenshot("coverage-control-vm01")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("coverage-control-vm01-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    requirement = Requirement.objects.get(framework__code="gdpr", identifier="Art. 32")
    page.goto(f"{live_server.url}/evidence/coverage/requirement/{requirement.pk}/")
    # A requirement's page summarises each mapped control on one line (its own page has the detailed strips).
    assert page.get_by_test_id("control-row").count() >= 2
    screenshot("coverage-requirement-gdpr-32")

    page.goto(f"{live_server.url}/evidence/")
    assert page.get_by_role("heading", name="Evidence", exact=True).is_visible()
    screenshot("evidence-library")
    page.get_by_label("Source").select_option("api")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/evidence/?*source=api*")
    screenshot("evidence-library-filtered")

    item = EvidenceItem.objects.filter(type="file").first()
    page.goto(f"{live_server.url}/evidence/{item.pk}/")
    assert page.get_by_test_id("sha256").inner_text() == item.sha256
    assert page.get_by_role("link", name="Download").is_visible()
    screenshot("evidence-detail")

    page.get_by_role("link", name="Add a corrected version").click()
    file_input, note_input = page.locator("#id_file"), page.locator("#id_note")
    # expect() waits for the page's script to have run (a loaded machine may be slower than the click).
    expect(file_input).to_be_visible()
    expect(note_input).to_be_hidden()
    page.get_by_role("radio", name="Note").check()
    expect(note_input).to_be_visible()
    expect(file_input).to_be_hidden()
    screenshot("evidence-correct-form")
