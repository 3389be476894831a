"""Under the Content-Security-Policy every page still works in a real Chromium, and the browser reports no
refused script or style: the emailed task link opens its task, the coverage strip and the certification
timeline are drawn, the evidence form shows the field of the chosen kind, the API docs page lists the API."""

import pytest
from django.utils import timezone

from controls.models import Control
from isms.maintenance.links import make_token
from isms.maintenance.models import Occurrence
from isms.web.demo import demo_load

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def refused(page):
    """What the browser refused or failed on: CSP violations in the console and script errors."""
    seen: list[str] = []
    page.on("console", lambda msg: seen.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda error: seen.append(f"script error: {error}"))
    return seen


def test_pages_work_under_the_policy(live_server, page, refused, sign_in, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    demo_load(password="browser-test-pass")
    today = timezone.localdate()
    task = Occurrence.objects.filter(state="open", due_date__gte=today).order_by("due_date").first()

    # The emailed link: the page's script posts the token and the task opens.
    page.goto(f"{live_server.url}/calendar/task/#{make_token(task)}")
    page.wait_for_url(f"{live_server.url}/calendar/task/{task.pk}/")
    assert page.get_by_text(task.title).first.is_visible()
    page.context.clear_cookies()

    page.goto(f"{live_server.url}/accounts/login/")
    sign_in("compliance", "browser-test-pass")
    # The certification timeline: milestones placed along the track, not stacked at its start.
    milestones = page.locator(".cycle-milestone")
    if milestones.count() >= 2:
        xs = {round(milestones.nth(i).bounding_box()["x"]) for i in range(milestones.count())}
        assert len(xs) == milestones.count()

    vm = Control.objects.get(reference="VM-01")
    page.goto(f"{live_server.url}/evidence/coverage/control/{vm.pk}/")
    strip = page.get_by_test_id("strip").first
    marks = strip.locator(".cov-mark")
    assert marks.count() >= 3
    xs = [marks.nth(i).bounding_box()["x"] for i in range(marks.count())]
    assert xs == sorted(xs) and xs[0] < xs[-1] - 100

    page.goto(f"{live_server.url}/evidence/add/control/{vm.pk}/")
    file_input, note_input = page.locator("#id_file"), page.locator("#id_note")
    page.get_by_role("radio", name="Note").check()
    assert note_input.is_visible() and not file_input.is_visible()

    page.goto(f"{live_server.url}/api/docs/")
    page.locator(".opblock").first.wait_for()
    assert page.get_by_text("/api/v1/evidence/").first.is_visible()

    assert refused == []
