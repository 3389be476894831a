"""The evidence library's filter boxes in a real Chromium on the demo organisation: typing in the control box
brings suggestions from the server (the page no longer lists every control), a suggestion chosen filters the
list and stays shown in its box; the page at desktop and phone widths. Screenshots in test-artifacts/."""

import re

import pytest
from playwright.sync_api import expect

from controls.models import Control
from isms.web.demo import demo_load

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return demo_load(password="browser-test-pass")


def test_the_control_box_suggests_as_one_types_and_filters(live_server, page, screenshot, sign_in, demo):
    sign_in("compliance", "browser-test-pass")
    page.goto(f"{live_server.url}/evidence/")
    box = page.get_by_label("Control", exact=True)
    expect(box).to_be_visible()
    assert page.locator("#id_control-suggestions option").count() == 0  # nothing drawn until asked
    screenshot("evidence-library-boxes")

    vm = Control.objects.get(reference="VM-01")
    label = f"{vm.reference} {vm.name}"
    box.press_sequentially("vm-0", delay=30)
    suggestions = page.locator("#id_control-suggestions option")
    expect(suggestions.first).to_have_attribute("value", re.compile(r"^VM-0"))
    assert label in [suggestions.nth(i).get_attribute("value") for i in range(suggestions.count())]

    box.fill(label)  # what choosing the suggestion puts in the box
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r".*/evidence/\?.*control=VM-01.*"))
    expect(page.get_by_label("Control", exact=True)).to_have_value(label)
    expect(page.get_by_test_id("result-count")).to_be_visible()
    screenshot("evidence-library-control-chosen")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("evidence-library-control-chosen-phone")

    # Words that fit several controls: a message next to the box says what to type; the list is not filtered.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/evidence/?control=-0")
    expect(page.get_by_text(re.compile("Several controls match “-0”"))).to_be_visible()
    expect(page.get_by_label("Control", exact=True)).to_have_attribute("aria-invalid", "true")
