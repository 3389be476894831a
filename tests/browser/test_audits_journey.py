"""The audit programme in a browser: the compliance manager reads the coverage matrix, an audit's checklist, the
nonconformity log and a nonconformity waiting for its check; leadership (viewer) records a decision at the open
management review and finds it on the page. Every page at 1280 and 390 px (screenshots in
test-artifacts/screenshots/audits-*), each checked by axe-core."""

import datetime

import pytest

from audits import services
from audits.models import Result, Source
from controls.models import Framework, Requirement
from isms.foundation.roles import Role
from tests.audits.conftest import CATALOGUES, task_of
from tests.factories import DepartmentFactory, UserFactory, make_certificate, make_control

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _world(today):
    from controls.catalogue import load_catalogue
    from controls.services import soa_approve
    from isms.maintenance.services import occurrence_complete

    it, hr = DepartmentFactory(name="IT"), DepartmentFactory(name="HR")
    compliance = UserFactory(
        username="carla", first_name="Carla", last_name="Compliance", role=Role.COMPLIANCE, department=it
    )
    owner = UserFactory(username="omar", first_name="Omar", last_name="Owner", role=Role.OWNER, department=it)
    auditor = UserFactory(username="hana", first_name="Hana", last_name="Hughes", role=Role.OWNER, department=hr)
    UserFactory(username="vera", first_name="Vera", last_name="Viewer", role=Role.VIEWER, department=it)
    load_catalogue(CATALOGUES / "iso27001-2022-clauses.yaml")
    load_catalogue(CATALOGUES / "iso27001-2022-annex-a.yaml")
    soa_approve(framework=Framework.objects.get(code="iso27001-2022-annex-a"), by=compliance, note="First")
    make_control(
        owner, "BC-01", "Backups", requirements=[Requirement.objects.get(identifier="8.13", framework__has_soa=True)]
    )
    certificate = make_certificate(issue_date=today - datetime.timedelta(days=60))
    programme = services.programme_ensure(certificate=certificate)
    slots = services.programme_plan(
        programme=programme, by=compliance, audits_per_year=11, items_per_audit=8, lead_auditor=auditor
    )
    services.programme_fill(programme=programme, by=compliance)
    past = services.audit_create(
        by=compliance, programme=programme, kind="internal", title="Internal audit of access control",
        planned_on=today - datetime.timedelta(days=20), lead_auditor=auditor, departments=[it],
        scope=list(Requirement.objects.filter(framework__has_soa=True, identifier__in=["5.15", "5.18", "8.2"])),
    )  # fmt: skip
    rows = list(past.rows.all())
    services.row_record(row=rows[0], by=auditor, result=Result.CONFORMING)
    services.row_record(row=rows[1], by=auditor, result=Result.MINOR, notes="Leavers kept access for a week.")
    services.row_record(row=rows[2], by=auditor, result=Result.OFI, notes="Automate the access review export.")
    services.audit_sign_off(audit=past, by=auditor, summary="Access control sampled.", conclusion="One minor.")
    nc = past.nonconformities.get()
    services.nc_update(
        nc=nc, by=compliance, root_cause="No leaver checklist.", cause_category="process", checker=compliance
    )
    action = services.action_add(nc=nc, by=compliance, title="Leaver checklist", owner=owner, due_on=today)
    occurrence_complete(occurrence=task_of(action, services.CORRECTIVE_ACTION), by=owner)
    services.nc_raise(
        by=compliance, source=Source.SELF, title="Visitor log gaps", description="Two days unsigned", owner=owner
    )
    review = services.review_plan(by=compliance, planned_on=today, chair=compliance)
    services.review_open(review=review, by=compliance)
    return {"audit": past, "nc": nc, "review": review, "slot": slots[0]}


def test_the_audit_programme_in_a_browser(live_server, page, screenshot, sign_in, clock):
    from tests.browser.conftest import PASSWORD

    world = _world(clock.today)
    sign_in("carla", PASSWORD)
    pages = {
        "programme": "/audits/",
        "audits": "/audits/audits/",
        "audit": f"/audits/audits/{world['audit'].pk}/",
        "slot": f"/audits/audits/{world['slot'].pk}/",
        "ncs": "/audits/nonconformities/",
        "nc": f"/audits/nonconformities/{world['nc'].pk}/",
        "nc-edit": f"/audits/nonconformities/{world['nc'].pk}/edit/",
        "check": f"/audits/checks/{world['nc'].checks.get().pk}/",
        "reviews": "/audits/reviews/",
        "review": f"/audits/reviews/{world['review'].pk}/",
        "minutes": f"/audits/reviews/{world['review'].pk}/minutes/",
        "parties": "/audits/parties/",
    }
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for name, url in pages.items():
            page.goto(live_server.url + url)
            screenshot(f"audits-{name}-{width}")
    page.goto(live_server.url + "/audits/")
    assert page.get_by_role("region", name="Coverage matrix").is_visible()
    page.goto(live_server.url + f"/audits/audits/{world['audit'].pk}/")
    assert page.get_by_text("Leavers kept access for a week.").is_visible()
    page.goto(live_server.url + "/audits/nonconformities/")
    assert page.get_by_role("link", name=world["nc"].reference).is_visible()

    # Leadership records its decision at the open review.
    page.context.clear_cookies()
    sign_in("vera", PASSWORD)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + f"/audits/reviews/{world['review'].pk}/")
    page.get_by_label("Decision").fill("Fund a leaver automation tool.")
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_load_state()
    assert page.get_by_text("Fund a leaver automation tool.").is_visible()
    screenshot("audits-review-viewer-decision-1280")
