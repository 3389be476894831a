"""The reminder loop end to end, with a real Redis and a real Celery worker.

Beat's scan job goes through Redis to the worker, which writes the reminder and queues its delivery; the
emailed link opens the task in a real Chromium, where the owner attaches evidence and marks it done. And
when Redis is down, the web app still answers and the email goes out once Redis is back."""

import datetime
import hashlib
import re
import time

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from evidence.models import EvidenceItem
from isms.beat import BEAT_SCHEDULE
from isms.celery import app as celery_app
from isms.maintenance.models import Occurrence
from isms.maintenance.notices import Slot
from isms.notices import engine
from isms.notices.models import Notice
from tests.factories import UserFactory, make_schedule
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SCAN_TASK = BEAT_SCHEDULE["scan-notices"]["task"]
DELIVER_TASK = "notices.deliver"
TASK_LINK = re.compile(r"https?://[^\s/]+/calendar/task/#\S+")


def emails_about(title: str, subject_start: str) -> list:
    return [m for m in mail.outbox if m.subject.startswith(subject_start) and title in m.subject]


def test_reminder_from_beat_to_done_in_the_browser(run_worker, owner, live_server, in_browser, tmp_path):
    today = timezone.localdate()
    schedule = make_schedule(owner, title="Review firewall rules", start_date=today + datetime.timedelta(days=3))
    occ = schedule.occurrences.get(due_date=today + datetime.timedelta(days=3))
    assert owner.email

    with run_worker() as tasks:
        # Beat's job, queued the way beat queues it: by name, through Redis.
        first = celery_app.send_task(SCAN_TASK).id
        wait_for(lambda: tasks.finished(SCAN_TASK, first), what="the worker to run the scan from beat")
        assert tasks.finished(SCAN_TASK, first)[0]["retval"]["queued"] == 1
        wait_for(lambda: tasks.finished(DELIVER_TASK), what="the worker to deliver the notice the scan queued")
        reminders = wait_for(lambda: emails_about(occ.title, "Due in "), what="the reminder email in the outbox")

        # The scan runs every minute: a second run sends nothing more.
        second = celery_app.send_task(SCAN_TASK).id
        wait_for(lambda: tasks.finished(SCAN_TASK, second), what="the second scan")
        assert tasks.finished(SCAN_TASK, second)[0]["retval"] == {"missed": 0, "queued": 0}
        assert len(tasks.finished(DELIVER_TASK)) == 1
    assert len(reminders) == 1
    assert len(mail.outbox) == 1
    reminder = mail.outbox[0]
    assert reminder.to == [owner.email]

    notice = Notice.objects.get(occurrence=occ)
    assert ":remind:3:" in notice.key
    assert notice.kind == Slot.REMINDER
    assert notice.sent_at is not None
    assert notice.recipient == owner

    # The link in the email's text, pointed at the live server instead of SITE_URL.
    links = TASK_LINK.findall(reminder.body)
    assert len(links) == 1, reminder.body
    assert links[0].startswith(f"{settings.SITE_URL}/calendar/task/#")
    link = live_server.url + links[0].removeprefix(settings.SITE_URL)

    evidence_file = tmp_path / "firewall-review.txt"
    evidence_file.write_bytes(b"Firewall rules reviewed; two stale rules removed (CHG-1042).\n")

    def journey(page, screenshot):
        page.goto(link)  # the page's script posts the token from the fragment and opens the task
        page.wait_for_url(f"**/calendar/task/{occ.pk}/")
        assert page.get_by_role("heading", name="Review firewall rules").is_visible()
        assert page.get_by_text(f"Task for {owner}").is_visible()
        screenshot("reminder-task-link")

        page.get_by_label("Note").fill("Reviewed all rules with the network team.")
        page.get_by_label("Evidence files").set_input_files(str(evidence_file))
        page.get_by_role("button", name="Mark done").click()
        page.get_by_role("heading", name=f"Thank you, {owner.first_name}").wait_for()
        assert page.get_by_text("with 1 piece of evidence").is_visible()
        screenshot("reminder-task-done")

    in_browser(journey)

    occ.refresh_from_db()
    assert occ.state == Occurrence.State.DONE
    assert occ.completed_by == owner
    assert occ.completion_note == "Reviewed all rules with the network team."
    item = EvidenceItem.objects.get(occurrence=occ)
    assert item.original_name == "firewall-review.txt"
    assert item.sha256 == hashlib.sha256(evidence_file.read_bytes()).hexdigest()
    assert item.source == EvidenceItem.Source.TASK_LINK


def test_redis_down_the_web_app_keeps_working_and_the_email_goes_when_it_is_back(
    broker, run_worker, owner, compliance, department, client, django_capture_on_commit_callbacks, caplog
):
    today = timezone.localdate()
    schedule = make_schedule(
        owner, title="Restore test of the backups", rrule="", start_date=today + datetime.timedelta(days=30)
    )
    occ = schedule.occurrences.get()
    new_owner = UserFactory(username="second-owner", role="owner", department=department)
    client.force_login(compliance)

    with broker.down():
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("maintenance:reassign", args=[occ.pk]), {"to": new_owner.pk, "note": ""})
        elapsed = time.monotonic() - started
    assert response.status_code == 302, response.content[:500]
    assert response.url == reverse("maintenance:occurrence", args=[occ.pk])
    assert elapsed < 10, f"the reassignment took {elapsed:.1f} s with Redis down"
    assert "Could not queue notice" in caplog.text
    occ.refresh_from_db()
    assert occ.owner == new_owner
    notice = Notice.objects.get(occurrence=occ, kind=Slot.ASSIGNED)
    assert notice.recipient == new_owner
    assert notice.sent_at is None
    assert mail.outbox == []

    # Redis is back: beat's re-queue job (the notice now older than REQUEUE_AFTER) queues it again.
    with run_worker() as tasks:
        later = timezone.now() + datetime.timedelta(minutes=10)
        assert len(engine.requeue_stale(later)) == 1
        wait_for(lambda: tasks.finished(DELIVER_TASK), what="the worker to deliver the re-queued notice")
        assigned = wait_for(lambda: emails_about(occ.title, "Assigned to you"), what="the 'Assigned to you' email")
        assert tasks.finished(DELIVER_TASK)[0]["retval"] == "sent"
        # Sent now, so a further run has nothing to re-queue.
        assert engine.requeue_stale(later) == []
    assert len(assigned) == 1
    assert len(mail.outbox) == 1
    assert assigned[0].to == [new_owner.email]
    notice.refresh_from_db()
    assert notice.sent_at is not None
