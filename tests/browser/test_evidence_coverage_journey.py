"""A control owner opens their task, uploads the evidence and marks it done; the compliance manager then
sees it in the control's coverage strip. In a real Chromium."""

import pytest
from django.utils import timezone

from tests.factories import UserFactory, make_control, make_requirement

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_uploads_evidence_and_the_manager_sees_it_in_coverage(live_server, page, screenshot, sign_in, tmp_path):
    from controls.services import activity_adopt

    owner = UserFactory(username="olivia", first_name="Olivia", role="owner")
    UserFactory(username="chris", first_name="Chris", role="compliance")
    control = make_control(
        owner=owner,
        reference="VM-01",
        name="Vulnerability management",
        requirements=[make_requirement("iso27001-2022-annex-a", "8.8", "Management of technical vulnerabilities")],
    )
    activity_adopt(
        control=control,
        template="vulnerability_scan",
        owner=owner,
        start_date=timezone.localdate(),
    )
    report = tmp_path / "scan-report.pdf"
    report.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")

    base = live_server.url
    sign_in("olivia")
    page.get_by_role("link", name="Calendar").click()
    page.get_by_role("link", name="My tasks").click()
    page.get_by_role("link", name="Vulnerability scan and remediation: Vulnerability management").first.click()
    page.get_by_label("Note").fill("Monthly scan run; no critical findings.")
    page.get_by_label("Evidence files").set_input_files(str(report))
    screenshot("owner-completes-task")
    page.get_by_role("button", name="Mark done").click()
    assert page.get_by_text("Marked done (done on time).").is_visible()
    assert page.get_by_role("link", name="scan-report.pdf").is_visible()

    page.locator("#user-menu").click()
    page.get_by_role("button", name="Sign out").click()
    sign_in("chris")
    page.goto(f"{base}/controls/{control.pk}/")
    page.get_by_role("link", name="Coverage").click()
    page.wait_for_url(f"**/evidence/coverage/control/{control.pk}/**")
    mark = page.locator('[data-testid="strip"] .cov-done_on_time')
    assert mark.count() == 1
    assert "1 piece of evidence" in mark.get_attribute("title")
    assert page.get_by_role("cell", name="Done on time").count() >= 1
    screenshot("coverage-after-upload")
