"""A control owner records a change that brings in a new supplier; the compliance manager finds the supplier review
and the risk reviews it opened on the calendar. In a real Chromium; screenshots in test-artifacts/screenshots/."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from events import services
from events.models import QUESTIONS, Change
from isms.foundation.roles import Role
from risks.services import risk_create
from tests.factories import DepartmentFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world():
    it = DepartmentFactory(name="IT")
    compliance = UserFactory(username="chris", first_name="Chris", last_name="Compliance", role=Role.COMPLIANCE,
                             department=it)  # fmt: skip
    owner = UserFactory(username="olivia", first_name="Olivia", last_name="Owner", role=Role.OWNER, department=it)
    supplier = services.supplier_save(
        by=compliance, name="PayFlow Payroll", service="Payroll", criticality="high", owner=compliance
    )
    risk = risk_create(
        by=compliance, title="Supplier breach exposes our data", asset="Payroll SaaS", threat="Breach at a supplier",
        vulnerability="No supplier assessment", owner=compliance, inherent_likelihood=3, inherent_impact=4,
        residual_likelihood=2, residual_impact=4, treatment="mitigate",
    )  # fmt: skip
    services.supplier_save(by=compliance, supplier=supplier, risks=[risk])
    return {"compliance": compliance, "owner": owner, "supplier": supplier, "risk": risk}


def test_a_new_supplier_change_puts_its_reviews_on_the_compliance_managers_calendar(
    live_server, page, screenshot, sign_in, world
):
    today = timezone.localdate()
    planned = today + datetime.timedelta(days=20)
    sign_in("olivia")
    page.goto(f"{live_server.url}/events/changes/new/")
    page.get_by_label("What changes").fill("Payroll moves to PayFlow")
    page.get_by_label("When").fill(planned.isoformat())
    for _, question, _ in QUESTIONS:
        answer = "Yes" if "supplier" in question else "No"
        page.get_by_role("radiogroup", name=question).get_by_label(answer).check()
    page.get_by_label("Supplier", exact=True).select_option(label="PayFlow Payroll")
    page.get_by_label("Linked risks").select_option(label=str(world["risk"]))
    screenshot("change-form")
    page.get_by_role("button", name="Save the change").click()

    change = Change.objects.get()
    page.wait_for_url(f"{live_server.url}/events/changes/{change.pk}/")
    expect(page.get_by_text("Awaiting approval")).to_be_visible()
    expect(page.get_by_text("Supplier review", exact=False).first).to_be_visible()
    expect(page.get_by_text("Review of the affected risks").first).to_be_visible()
    screenshot("change-recorded")

    page.context.clear_cookies()
    sign_in("chris")
    page.goto(f"{live_server.url}/calendar/?year={planned.year}&month={planned.month}")
    expect(page.get_by_text(f"Review the supplier for change {change.reference}").first).to_be_attached()
    expect(page.get_by_text(f"Review the risks affected by change {change.reference}").first).to_be_attached()
    screenshot("change-reviews-on-calendar")
    # The risk named on the change is asked for a review out of cycle: its owner's review task is due today.
    page.goto(f"{live_server.url}/calendar/?year={today.year}&month={today.month}")
    expect(page.get_by_text(f"Review risk {world['risk'].reference}").first).to_be_attached()
