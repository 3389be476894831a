"""The SoA as a compliance manager uses it, in a real Chromium: edit a line in place (htmx), see the form error
in the row, approve, read the version. Screenshots go to test-artifacts/screenshots/."""

import re

import pytest
from playwright.sync_api import expect

from controls.catalogue import CATALOGUE_DIR, load_catalogue
from controls.models import SoAEntry, SoAVersion
from tests.factories import make_control

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_edit_a_line_in_place_then_approve(live_server, page, screenshot, sign_in, users):
    annex_a = load_catalogue(CATALOGUE_DIR / "iso27001-2022-annex-a.yaml").framework
    make_control(users["owner"], "AC-01", requirements=annex_a.requirements.filter(identifier__in=["5.15", "8.2"]))
    sign_in("compliance")

    page.goto(f"{live_server.url}/controls/soa/")
    expect(page.get_by_role("heading", name="Statement of Applicability")).to_be_visible()
    expect(page.get_by_test_id("soa-counts")).to_contain_text("93 controls")
    screenshot("soa-working")

    line = SoAEntry.objects.get(requirement__identifier="7.5")
    row = page.locator(f"#entry-{line.pk}")
    row.get_by_role("link", name="Edit 7.5").click()
    expect(row.locator("form")).to_be_visible()
    assert page.url == f"{live_server.url}/controls/soa/"  # in place, no page change

    row.get_by_label("No: excluded").check()
    row.get_by_role("button", name="Save").click()
    expect(row.locator(".invalid-feedback")).to_contain_text("An excluded control needs a justification")
    screenshot("soa-inline-error")

    row.get_by_label("Justification").fill("A fully remote company: no premises of our own.")
    row.get_by_role("button", name="Save").click()
    expect(row.locator("form")).to_have_count(0)
    expect(row).to_contain_text("No: excluded")
    expect(row).to_contain_text("A fully remote company")
    expect(page.get_by_test_id("soa-counts")).to_contain_text("1 excluded")  # the summary followed (out of band)

    # Cancel puts the row back as it was.
    other = page.locator(f"#entry-{SoAEntry.objects.get(requirement__identifier='5.15').pk}")
    other.get_by_role("link", name="Edit 5.15").click()
    other.get_by_role("link", name="Cancel").click()
    expect(other.locator("form")).to_have_count(0)
    expect(other).to_contain_text("AC-01")

    page.get_by_role("link", name="Approve as a new version").click()
    expect(page.get_by_role("heading", name="Approve as version 1")).to_be_visible()
    page.get_by_label("Note").fill("First SoA for the stage 1 audit")
    screenshot("soa-approve")
    page.get_by_role("button", name="Approve").click()
    expect(page).to_have_url(re.compile(r"/controls/soa/versions/\d+/$"))
    expect(page.get_by_role("heading", name="Version 1")).to_be_visible()
    expect(page.locator("main")).to_contain_text("A fully remote company: no premises of our own.")
    screenshot("soa-version")
    assert SoAVersion.objects.get().approved_by == users["compliance"]

    # A second version with one changed line: the changes page shows what was and what is.
    page.goto(f"{live_server.url}/controls/soa/")
    expect(page.locator("main")).to_contain_text("no change since")
    row = page.locator(f"#entry-{SoAEntry.objects.get(requirement__identifier='5.1').pk}")
    row.get_by_role("link", name="Edit 5.1").click()
    row.get_by_label("Justification").fill("Required by clause 5.2 and our customers' contracts.")
    row.get_by_label("Implementation status").select_option("implemented")
    row.get_by_role("button", name="Save").click()
    expect(page.locator("main")).to_contain_text("1 line changed since")
    page.get_by_role("link", name="Approve as a new version").click()
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("heading", name="Version 2")).to_be_visible()
    page.get_by_role("link", name="What changed since version 1").click()
    expect(page.get_by_role("heading", name="Version 1 → version 2")).to_be_visible()
    expect(page.locator("table.soa-diff")).to_contain_text("Required by clause 5.2")
    screenshot("soa-changes")
