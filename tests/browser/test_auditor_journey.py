"""The auditor portal end to end, in a real Chromium (issue 13): the compliance manager opens an engagement for the
next surveillance audit and invites an auditor by email; the auditor takes the emailed link, chooses a password, is
made to set up two-step sign-in and lands in the portal; browses the overview, a requirement and a control (its
tasks and evidence with their hashes), draws a sample of the control's activities and asks for evidence on a
sampled task; the control owner answers through the reminder's task link with a file; the auditor accepts it,
builds the evidence pack (the worker's build is called by the test), downloads it and checks it with
tools/verify_pack.py: it passes, and a copy with one byte of one file changed fails naming that file. An auditor's
write on a staff page is refused, and the compliance manager reads it all in the engagement's log.

Three people, three browser contexts, each page checked by axe-core (tests/browser/axe.py). The clock runs (a live
server and a browser): every date is relative to today. Screenshots of the pages at 1280 and 390 px go to
/tmp/shots/ for a person to look at."""

from __future__ import annotations

import base64
import datetime
import hashlib
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_otp.oath import TOTP
from playwright.sync_api import expect

from controls.services import soa_approve, soa_entries_ensure
from evidence.services import occurrence_complete_with_evidence
from isms.foundation.roles import Role
from isms.maintenance.models import Occurrence
from isms.maintenance.notices import scan
from isms.maintenance.services import schedule_materialise
from isms.notices import engine
from isms.notices.models import Notice
from portal.models import AuditorAction, Engagement, EvidencePack, EvidenceRequest, PackState, RequestState
from portal.packs import pack_build
from tests.browser.axe import AXE_JS, AxeWatch
from tests.browser.conftest import PASSWORD
from tests.conftest import skip_or_fail
from tests.factories import (
    DepartmentFactory,
    UserFactory,
    make_certificate,
    make_control,
    make_requirement,
    make_schedule,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")
WIDE, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}
NEW_PASSWORD = "a long and private passphrase 2026"
TASK_LINK = re.compile(r"https?://[^\s/]+/calendar/task/#\S+")
VERIFY = Path(__file__).resolve().parents[2] / "tools" / "verify_pack.py"
# The auditor's machine may have nothing installed: the checker runs on the system Python, isolated.
PYTHON = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else shutil.which("python3")
ANSWER = b"Access review of March: 41 accounts checked, 2 leavers removed, signed off by the IT manager.\n"


def _code(key: bytes) -> str:
    return f"{TOTP(key).token():06d}"


def _at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(10, 30)))


def _world(today: datetime.date) -> dict:
    """Carla (compliance) and Omar (control owner, with an email address); AC-01 mapped to Annex A 5.15 in an
    approved SoA, with a monthly access review done with a file of evidence each month of the last half year; the
    certificate's cycle, whose next surveillance audit the engagement is for."""
    it = DepartmentFactory(name="IT")
    carla = UserFactory(
        username="carla", first_name="Carla", last_name="Compliance", role=Role.COMPLIANCE, department=it
    )
    omar = UserFactory(username="omar", first_name="Omar", last_name="Owner", role=Role.OWNER, department=it)
    requirement = make_requirement()
    control = make_control(omar, reference="AC-01", name="User access reviews", requirements=[requirement])
    start = today - datetime.timedelta(days=190)
    start = start.replace(day=min(start.day, 28))  # monthly on the 29th–31st would skip months
    schedule = make_schedule(owner=omar, title="Monthly access review", start_date=start, subject=control, today=start)
    schedule_materialise(schedule=schedule, today=today, since=start)
    done = []
    for occ in schedule.occurrences.filter(due_date__lt=today).order_by("due_date"):
        upload = SimpleUploadedFile(
            f"access-review-{occ.due_date:%Y-%m}.csv", f"user,access\nreviewed,{occ.due_date}\n".encode()
        )
        occurrence_complete_with_evidence(occurrence=occ, by=omar, files=[upload], now=_at(occ.due_date))
        occ.evidence.update(submitted_at=_at(occ.due_date))  # filed on the day, as it was then
        done.append(occ)
    assert len(done) >= 5
    soa_entries_ensure(requirement.framework)
    version = soa_approve(framework=requirement.framework, by=carla, note="First version")
    type(version).objects.filter(pk=version.pk).update(approved_at=_at(today - datetime.timedelta(days=400)))

    from audits.models import Audit, AuditKind
    from audits.services import programme_ensure

    certificate = make_certificate(issue_date=today - datetime.timedelta(days=300))
    programme_ensure(certificate=certificate)
    surveillance = Audit.objects.get(kind=AuditKind.SURVEILLANCE_1)
    return {
        "carla": carla,
        "omar": omar,
        "requirement": requirement,
        "control": control,
        "done": done,
        "surveillance": surveillance,
    }


@pytest.fixture
def tabs(browser):
    """tabs() -> a page in a browser context of its own (a person of their own), checked by axe-core like the
    `page` fixture's."""
    if not AXE_JS.exists():
        skip_or_fail(f"axe-core not found at {AXE_JS}: run `make test` (npm ci) once")
    opened: list[tuple] = []

    def open_tab():
        context = browser.new_context(viewport=WIDE, accept_downloads=True)
        tab = context.new_page()
        tab.set_default_timeout(15_000)
        opened.append((context, AxeWatch(tab)))
        return tab

    yield open_tab
    reports = []
    for context, watch in opened:
        watch.wait()
        context.close()
        if watch.findings or watch.errors:
            reports.append(watch.report())
    if reports:
        pytest.fail("\n".join(reports), pytrace=False)


class Shots:
    """Each page photographed at 1280 and 390 px wide (full page) to /tmp/shots/; a page that scrolls sideways
    on a phone is noted (the test fails on it at its end, after the whole journey)."""

    def __init__(self):
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.sideways: list[str] = []

    def __call__(self, tab, name: str) -> None:
        tab.screenshot(path=str(SHOTS / f"{name}-1280.png"), full_page=True)
        tab.set_viewport_size(PHONE)
        tab.screenshot(path=str(SHOTS / f"{name}-390.png"), full_page=True)
        width = tab.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            self.sideways.append(f"{name} ({tab.url}): {width} px wide at 390")
        tab.set_viewport_size(WIDE)


def _verify(target: Path, *args: str) -> subprocess.CompletedProcess:
    command = [PYTHON, "-I", "-S", str(VERIFY), str(target), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def _one_byte_changed(pack: Path, into: Path) -> str:
    """A copy of the ZIP with the first byte of its first evidence file flipped; returns that file's name."""
    with zipfile.ZipFile(pack) as source, zipfile.ZipFile(into, "w") as copy:
        target = next(n for n in source.namelist() if n.startswith("Controls/") and not n.endswith("/"))
        for info in source.infolist():
            data = source.read(info)
            if info.filename == target:
                data = bytes([data[0] ^ 1]) + data[1:]
            copy.writestr(info, data)
    return target


def test_an_auditor_from_invitation_to_a_verified_evidence_pack(live_server, settings, tabs, monkeypatch, tmp_path):
    settings.MFA_REQUIRED_ROLES = ["auditor"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EVIDENCE_PACKS_DIR = tmp_path / "packs"
    # Nothing reaches a broker: notices are delivered by the test, the pack is built by the test (as the worker).
    monkeypatch.setattr(engine, "_enqueue", lambda ids: None)
    queued_packs: list[int] = []
    monkeypatch.setattr("portal.packs._enqueue", queued_packs.append)
    today = timezone.localdate()
    world = _world(today)
    control, requirement = world["control"], world["requirement"]
    shoot = Shots()
    url = live_server.url

    # 1. The compliance manager opens an engagement for the next surveillance audit and invites the auditor.
    team = tabs()
    team.goto(f"{url}/accounts/login/")
    team.get_by_label("Username").fill("carla")
    team.get_by_label("Password").fill(PASSWORD)
    team.get_by_role("button", name="Sign in").click()
    team.wait_for_url(f"{url}/")
    team.get_by_role("link", name="Engagements").first.click()
    team.wait_for_url(f"{url}/portal/engagements/")
    shoot(team, "journey-engagements-empty")
    team.get_by_role("link", name="Open an engagement").click()
    team.get_by_label("Title").fill("Surveillance audit 2026")
    team.get_by_label("Certification body").fill("Example Certification Ltd")
    team.get_by_label("External audit").select_option(str(world["surveillance"].pk))
    period_start, period_end = today - datetime.timedelta(days=365), today - datetime.timedelta(days=1)
    access_end = today + datetime.timedelta(days=21)
    team.get_by_label("Period under audit from").fill(period_start.isoformat())
    team.get_by_label("Period under audit until").fill(period_end.isoformat())
    team.get_by_label("Access from").fill(today.isoformat())
    team.get_by_label("Access until").fill(access_end.isoformat())
    team.get_by_label("ISO/IEC 27001:2022 Annex A").check()
    team.get_by_label("Risk register and treatment plan").check()
    team.get_by_label("Internal audits").check()
    team.get_by_label("Nonconformities and corrective actions").check()
    team.get_by_label("Invite auditors by email").fill("nia@cb.example, Nia Okafor")
    shoot(team, "journey-engagement-form")
    team.get_by_role("button", name="Open the engagement").click()
    engagement = Engagement.objects.get()
    team.wait_for_url(f"{url}/portal/engagements/{engagement.pk}/")
    expect(team.get_by_text("Surveillance audit 2026 opened. 1 invitation sent by email.")).to_be_visible()
    expect(team.get_by_text("Pending")).to_be_visible()
    shoot(team, "journey-engagement")
    assert engagement.audit == world["surveillance"]
    assert engagement.areas == ["risks", "internal_audits", "nonconformities"]
    assert (engagement.period_start, engagement.period_end) == (period_start, period_end)
    nia = engagement.auditors.get()
    assert (nia.email, nia.role, nia.first_name) == ("nia@cb.example", Role.AUDITOR, "Nia")

    # 2. The auditor takes the emailed link, chooses a password and is made to set up two-step sign-in.
    for notice in Notice.objects.filter(kind="accounts.invitation", recipient=nia):
        engine.deliver(notice.pk)
    invitation = next(m for m in mail.outbox if m.to == ["nia@cb.example"])
    link = re.search(r"https?://\S+/accounts/invitation/\?token=\S+", invitation.body).group(0)
    auditor = tabs()
    auditor.goto(link.replace(django_settings.SITE_URL, url).replace("http://testserver", url))
    shoot(auditor, "journey-invitation")
    auditor.locator("#id_password1").fill(NEW_PASSWORD)
    auditor.get_by_label("Password again").fill(NEW_PASSWORD)
    auditor.get_by_role("button", name="Set my password").click()
    expect(auditor.get_by_text(f"Your password is set. Sign in as {nia.username}.")).to_be_visible()
    auditor.get_by_label("Password").fill(NEW_PASSWORD)
    auditor.get_by_role("button", name="Sign in").click()
    auditor.wait_for_url(re.compile(r".*/accounts/two-step/set-up/.*"))
    expect(auditor.get_by_text("Your role requires two-step sign-in")).to_be_visible()
    shoot(auditor, "journey-two-step-set-up")
    key = auditor.locator("#mfa-secret").inner_text().replace(" ", "")
    auditor.get_by_label("Code from the app").fill(_code(base64.b32decode(key + "=" * (-len(key) % 8))))
    auditor.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(auditor.get_by_text("This is the only time they are shown")).to_be_visible()
    assert auditor.locator("#recovery-codes li").count() == 10
    shoot(auditor, "journey-recovery-codes")
    auditor.get_by_role("link", name="I have kept them, go on").click()
    portal = f"{url}/portal/{engagement.pk}"
    auditor.wait_for_url(f"{portal}/")  # one open engagement: the portal opens on it

    # 3. The auditor browses: overview → requirement → control (tasks in the period, evidence with its hash).
    expect(auditor.get_by_role("heading", name="What this audit covers")).to_be_visible()
    expect(auditor.get_by_test_id("soa-version")).to_be_visible()
    shoot(auditor, "journey-portal-overview")
    auditor.get_by_role("link", name=requirement.identifier, exact=True).click()
    auditor.wait_for_url(f"{portal}/requirements/{requirement.pk}/")
    expect(auditor.get_by_role("heading", name=f"{requirement.identifier} {requirement.title}")).to_be_visible()
    shoot(auditor, "journey-portal-requirement")
    auditor.get_by_role("link", name="AC-01", exact=True).click()
    auditor.wait_for_url(f"{portal}/controls/{control.pk}/")
    in_period = [o for o in world["done"] if period_start <= o.due_date <= period_end]
    assert auditor.get_by_test_id("task").count() >= len(in_period)
    first = in_period[0].evidence.get()
    expect(auditor.get_by_text(first.sha256)).to_be_visible()
    expect(auditor.get_by_role("link", name=f"Download {first.title}")).to_be_visible()
    shoot(auditor, "journey-portal-control")
    for name in ("risks", "internal-audits", "nonconformities"):
        auditor.goto(f"{portal}/{name}/")
        shoot(auditor, f"journey-portal-{name}")

    # ... draws a sample of the control's activities ...
    auditor.get_by_role("link", name="Samples", exact=True).first.click()
    auditor.wait_for_url(f"{portal}/samples/")
    auditor.get_by_label("Population").select_option("control_activities")
    auditor.get_by_label("Control", exact=True).select_option(str(control.pk))
    auditor.get_by_label("Note (optional)").fill("Access reviews: evidence of each sampled month.")
    shoot(auditor, "journey-samples")
    auditor.get_by_role("button", name="Draw the sample").click()
    auditor.wait_for_url(re.compile(rf"{re.escape(portal)}/samples/\d+/$"))
    expect(auditor.get_by_text("Sample drawn:")).to_be_visible()
    expect(auditor.get_by_test_id("redraw-matches")).to_be_visible()
    assert auditor.get_by_test_id("sample-item").count() >= 1
    shoot(auditor, "journey-sample")

    # ... and asks for evidence on the first sampled task.
    auditor.get_by_role("link", name="Request evidence for this item").first.click()
    auditor.wait_for_url(re.compile(rf"{re.escape(portal)}/requests/new/\?sample_item=\d+"))
    expect(auditor.get_by_label("About the control")).to_have_value(str(control.pk))
    auditor.get_by_label("What evidence do you need?").fill(
        "The sign-off of this month's access review by the IT manager."
    )
    shoot(auditor, "journey-request-new")
    auditor.get_by_role("button", name="Send the request").click()
    request = EvidenceRequest.objects.get()
    auditor.wait_for_url(f"{portal}/requests/{request.pk}/")
    expect(auditor.get_by_text(f"Request 1 was sent to {world['omar']}")).to_be_visible()
    assert request.owner == world["omar"] and request.sample_item is not None
    shoot(auditor, "journey-request-open")

    # 4. The control owner answers through the task link in the reminder, which goes out at once.
    task = Occurrence.objects.get(owner=world["omar"], title__startswith="Evidence for the auditors: ")
    scan(today)  # beat's job: the request's first reminder is due at once
    for notice in Notice.objects.filter(recipient=world["omar"], sent_at__isnull=True):
        engine.deliver(notice.pk)
    to_omar = [m for m in mail.outbox if m.to == [world["omar"].email]]
    reminder = next((m for m in to_omar if task.title in m.subject or task.title in m.body), None)
    assert reminder, [(m.subject, m.body) for m in to_omar]
    task_link = TASK_LINK.search(reminder.body).group(0)
    owner = tabs()
    owner.goto(url + task_link.removeprefix(django_settings.SITE_URL))
    owner.wait_for_url(f"{url}/calendar/task/{task.pk}/")
    expect(owner.get_by_text("The sign-off of this month's access review by the IT manager.").first).to_be_visible()
    shoot(owner, "journey-owner-task")
    answer = tmp_path / "access-review-signed.txt"
    answer.write_bytes(ANSWER)
    owner.get_by_label("Note").fill("Signed off on the review meeting.")
    owner.get_by_label("Evidence files").set_input_files(str(answer))
    owner.get_by_role("button", name="Mark done").click()
    owner.get_by_role("heading", name="Thank you, Omar").wait_for()
    shoot(owner, "journey-owner-done")
    request.refresh_from_db()
    assert request.state == RequestState.ANSWERED

    # 5. The auditor sees the answer, accepts it, builds the pack, downloads it and checks it.
    auditor.reload()
    expect(auditor.get_by_text("Answered, waiting for the auditor").first).to_be_visible()
    expect(auditor.get_by_text(hashlib.sha256(ANSWER).hexdigest())).to_be_visible()
    shoot(auditor, "journey-request-answered")
    auditor.get_by_role("button", name="Accept").click()
    expect(auditor.get_by_text("You accepted the answer to request 1.")).to_be_visible()
    request.refresh_from_db()
    assert request.state == RequestState.ACCEPTED and request.accepted_by == nia
    auditor.get_by_role("link", name="Requests", exact=True).click()
    auditor.wait_for_url(f"{portal}/requests/")
    shoot(auditor, "journey-requests")

    auditor.get_by_role("link", name="Evidence pack", exact=True).first.click()
    auditor.wait_for_url(f"{portal}/packs/")
    shoot(auditor, "journey-packs-empty")
    auditor.get_by_role("button", name="Build an evidence pack").click()
    expect(auditor.get_by_text("Waiting for the worker to start it.")).to_be_visible()
    expect(auditor.get_by_role("button", name="Build an evidence pack")).to_be_disabled()
    shoot(auditor, "journey-pack-queued")
    pack = EvidencePack.objects.get()
    assert queued_packs == [pack.pk]
    assert pack_build(pack.pk).state == PackState.READY  # the worker's task, run here
    download_link = auditor.get_by_role("link", name=re.compile(r"^Download the pack"))
    expect(download_link).to_be_visible()  # the row refreshes itself (htmx) until the pack is ready
    shoot(auditor, "journey-pack-ready")
    with auditor.expect_download() as download:
        download_link.click()
    zipped = tmp_path / "pack.zip"
    download.value.save_as(zipped)
    pack.refresh_from_db()
    assert hashlib.sha256(zipped.read_bytes()).hexdigest() == pack.sha256
    with zipfile.ZipFile(zipped) as zf:
        names = zf.namelist()
    assert any(n.endswith("access-review-signed.txt") for n in names), names
    # The auditor insists on the key the organisation publishes (its fingerprint is on the packs page).
    published = auditor.get_by_text(pack.key_fingerprint).first.inner_text()
    checked = _verify(zipped, "--fingerprint", published)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Signature of manifest.sha256: valid." in checked.stdout, checked.stdout
    assert re.search(r"^OK: \d+ files match the signed manifest\.$", checked.stdout, re.M), checked.stdout
    altered = tmp_path / "pack-altered.zip"
    changed = _one_byte_changed(zipped, altered)
    refused = _verify(altered)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert f"ALTERED: {changed}" in refused.stdout, refused.stdout
    assert "FAILED" in refused.stdout

    # 6. A write on a staff page is refused (and logged); the team reads the auditor's actions in the log.
    csrf = next((c["value"] for c in auditor.context.cookies() if c["name"] == "csrftoken"), "")
    attempt = auditor.request.post(
        f"{url}/controls/{control.pk}/edit/",
        form={"name": "Renamed by the auditor"},
        headers={"X-CSRFToken": csrf, "Referer": f"{portal}/"},
    )
    assert attempt.status == 403
    control.refresh_from_db()
    assert control.name == "User access reviews"
    refused_line = AuditorAction.objects.get(kind=AuditorAction.Kind.REFUSED)
    assert refused_line.user == nia and refused_line.path == f"/controls/{control.pk}/edit/"

    team.goto(f"{url}/portal/engagements/{engagement.pk}/")
    expect(team.get_by_role("cell", name="Accepted", exact=True)).to_be_visible()
    expect(team.get_by_role("cell", name="Set up", exact=True)).to_be_visible()
    team.get_by_role("link", name="View the auditors' log").click()
    team.wait_for_url(f"{url}/portal/engagements/{engagement.pk}/log/")
    for words in (
        "Overview of Surveillance audit 2026",
        "Control AC-01 User access reviews",
        "Drew a sample",
        "Asked for evidence: request 1",
        "Accepted the answer to request 1",
        "Asked for an evidence pack of Surveillance audit 2026",
        "Downloaded the evidence pack of Surveillance audit 2026",
        f"Tried to change something (POST /controls/{control.pk}/edit/): refused",
    ):
        expect(team.get_by_text(words).first).to_be_visible()
    shoot(team, "journey-log")

    assert not shoot.sideways, "Pages scroll sideways on a phone:\n" + "\n".join(shoot.sideways)
