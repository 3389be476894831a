"""Audit readiness in a browser: the compliance manager and leadership (viewer) read the page and a department's,
at 1280 and 390 px (screenshots in test-artifacts/screenshots/readiness-*), each checked by axe-core; the viewer
finds no button to fix anything, the compliance manager follows one."""

import datetime

import pytest

from audits.models import Severity
from audits.services import nc_raise
from risks.models import Risk
from tests.browser.conftest import PASSWORD
from tests.portal.test_readiness import TODAY, _risk, org  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_readiness_in_a_browser(live_server, page, screenshot, sign_in, org, compliance, viewer, owner):  # noqa: F811
    late = _risk(compliance, owner, "Late review")
    Risk.objects.filter(pk=late.pk).update(next_review_on=TODAY - datetime.timedelta(days=5))
    nc_raise(
        by=compliance,
        source="self",
        title="Backups not tested",
        description="No restore test this year.",
        owner=owner,
        severity=Severity.MAJOR,
        raised_on=TODAY - datetime.timedelta(days=100),
    )
    for user in ("viewer", "compliance"):
        page.context.clear_cookies()  # signed out
        sign_in(user, PASSWORD)
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{live_server.url}/portal/readiness/")
            page.get_by_role("heading", name="Audit readiness", exact=True).wait_for()
            screenshot(f"readiness-{user}-{width}")
            page.goto(f"{live_server.url}/portal/readiness/departments/{owner.department.pk}/")
            page.get_by_role("heading", name="Audit readiness: IT").wait_for()
            screenshot(f"readiness-{user}-department-{width}")
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"{live_server.url}/portal/readiness/")
        fix = page.get_by_role("link", name="Record the review")
        if user == "viewer":
            assert fix.count() == 0
            assert page.get_by_role("link", name="R-01 Late review").count() == 1  # reading stays
        else:
            fix.click()
            page.wait_for_url(f"{live_server.url}/risks/{late.pk}/review/")
