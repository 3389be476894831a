"""Without a mouse: the month grid, the SoA inline editor and the digest's unsubscribe page worked with the keyboard
alone (Tab, Enter, Space, arrow keys), the focus ring visible on what has the focus, and the focus kept where the
person is after an inline edit swaps the row."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from controls.catalogue import CATALOGUE_DIR, load_catalogue
from controls.models import SoAEntry
from isms.maintenance.digests import digest_token
from tests.factories import make_schedule

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The name of what has the focus: its aria-label, else its label, else its text.
FOCUSED = """() => {
  const e = document.activeElement;
  if (!e) return "";
  const label = e.getAttribute("aria-label") || (e.labels && e.labels.length ? e.labels[0].textContent : "");
  return (label || e.textContent || "").replace(/\\s+/g, " ").trim();
}"""
RING = """() => {
  const s = getComputedStyle(document.activeElement);
  return (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== "none";
}"""


def tab_to(page, name: str | re.Pattern, most: int = 400, backwards: bool = False) -> None:
    """Press Tab (Shift+Tab) until the focused element is named `name`; fail if it never is."""
    for _ in range(most):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        focused = page.evaluate(FOCUSED)
        if name.search(focused) if isinstance(name, re.Pattern) else focused == name:
            assert page.evaluate(RING), f"{focused!r} has the focus but no visible focus ring"
            return
    pytest.fail(f"{name!r} never got the focus in {most} presses of Tab")


def test_the_month_grid_with_the_keyboard(live_server, page, sign_in, users):
    today = timezone.localdate()
    day = today.replace(day=14)
    make_schedule(users["owner"], title="Firewall rule review", rrule="", start_date=day)
    sign_in("owner")
    page.goto(f"{live_server.url}/calendar/")

    # From the top of the page to the task in its day, by Tab alone; Enter opens it.
    tab_to(page, re.compile(r"Firewall rule review"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile("Firewall rule review"))).to_be_visible()

    # Back to the month, then to the next month with the keyboard, and back again.
    page.go_back()
    tab_to(page, re.compile(r"Next month"))
    page.keyboard.press("Enter")
    following = (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    expect(page.get_by_role("heading", level=1)).to_have_text(following.strftime("%B %Y"))
    tab_to(page, re.compile(r"Previous month"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(day.strftime("%B %Y"))


def test_the_soa_inline_editor_with_the_keyboard(live_server, page, sign_in, users):
    load_catalogue(CATALOGUE_DIR / "iso27001-2022-annex-a.yaml")
    sign_in("compliance")
    page.goto(f"{live_server.url}/controls/soa/")
    line = SoAEntry.objects.get(requirement__identifier="5.1")  # the page makes the working lines
    posts = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" and r.headers.get("hx-request") else None)
    row = page.locator(f"#entry-{line.pk}")

    # Tab to the first line's Edit, Enter: the form opens in place and the focus is in it.
    tab_to(page, "Edit 5.1")
    page.keyboard.press("Enter")
    expect(row.locator("form")).to_be_visible()
    expect(row.get_by_label("Yes: included")).to_be_focused()

    # Arrow keys choose "excluded"; Tab to the justification and type; Tab on to Save; Enter saves.
    page.keyboard.press("ArrowDown")
    expect(row.get_by_label("No: excluded")).to_be_checked()
    tab_to(page, "Justification", most=3)
    expect(row.get_by_label("Justification")).to_be_focused()
    page.keyboard.type("Set by the group's parent company, not by us.")
    tab_to(page, "Save", most=6)
    page.keyboard.press("Enter")
    expect(row.locator("form")).to_have_count(0)
    expect(row).to_contain_text("No: excluded")
    expect(row).to_contain_text("Set by the group's parent company")
    # The focus comes back to the line's Edit, not to the top of the page.
    expect(row.get_by_role("link", name="Edit 5.1")).to_be_focused()
    assert posts and posts[-1].headers.get("x-csrftoken"), "htmx sent its CSRF header (static/js/isms.js)"

    # Escape is not needed: Cancel is reachable, and Enter on it puts the row back as it was, focus on Edit.
    page.keyboard.press("Enter")
    expect(row.locator("form")).to_be_visible()
    tab_to(page, "Cancel", most=10)
    page.keyboard.press("Enter")
    expect(row.locator("form")).to_have_count(0)
    expect(row.get_by_role("link", name="Edit 5.1")).to_be_focused()
    line.refresh_from_db()
    assert line.applicable is False


def test_the_digest_link_turns_it_off_and_on_with_the_keyboard(live_server, page, users):
    owner = users["owner"]
    page.goto(f"{live_server.url}/calendar/digest/{digest_token(owner)}/")  # from the email: no sign-in
    tab_to(page, "Stop my weekly digest")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Your weekly digest is off.").first).to_be_visible()
    owner.refresh_from_db()
    assert not owner.receives_digests
    tab_to(page, "Send me the weekly digest again")
    page.keyboard.press("Space")
    expect(page.get_by_role("button", name="Stop my weekly digest")).to_be_visible()
    owner.refresh_from_db()
    assert owner.receives_digests
