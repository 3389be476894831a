"""Evidence packs: what a pack holds, that an auditor can check it offline (sha256sum and verify_pack.py, which
names the altered file), that a build runs once, that tampered storage fails the pack, and who may do what."""

from __future__ import annotations

import csv
import datetime
import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from evidence.services import evidence_add_file, evidence_add_note
from portal import signing
from portal.models import AuditorAction, Engagement, EvidencePack, PackState
from portal.packs import pack_build, pack_path, pack_request, packs_requeue_stale
from portal.scope import AuditorPreview
from tests.factories import make_control, make_requirement

VERIFY = Path(__file__).resolve().parents[2] / "tools" / "verify_pack.py"
# The auditor's machine may have nothing installed: the checker runs on the system Python, isolated from any
# site-packages (-I: no user site, no environment; -S: no site module).
PYTHON = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else shutil.which("python3")


def verify(target, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "-I", "-S", str(VERIFY), str(target), *args], capture_output=True, text=True, timeout=60
    )


class Sent(list):
    """The packs sent to the worker once the request committed (to a list instead of a broker)."""

    def __init__(self, capture):
        super().__init__()
        self.capture = capture

    def ask(self, **kwargs) -> EvidencePack:
        with self.capture(execute=True):
            return pack_request(**kwargs)


@pytest.fixture
def queued(monkeypatch, django_capture_on_commit_callbacks):
    """Packs asked for, instead of sending them to a broker (the build is called directly)."""
    sent = Sent(django_capture_on_commit_callbacks)
    monkeypatch.setattr("portal.packs._enqueue", sent.append)
    return sent


@pytest.fixture(autouse=True)
def packs_dir(settings, tmp_path):
    settings.EVIDENCE_PACKS_DIR = tmp_path / "packs"
    return settings.EVIDENCE_PACKS_DIR


@pytest.fixture
def setup(clock, compliance, owner, engaged_auditor):
    """An engagement (period: the last year and the next month) and its evidence: two files on a control in
    scope (same file name), one on a requirement in scope, one in scope but dated before the period, one of a
    control out of scope, and a note."""
    today = clock.today
    in_scope = make_requirement()
    control = make_control(owner, reference="AC-01", name="User access management", requirements=[in_scope])
    engagement = Engagement.objects.get(auditors=engaged_auditor)
    other = make_requirement(framework_code="soc2", identifier="CC6.1", title="Logical access")
    outside = make_control(owner, reference="SOC-01", name="SOC access", requirements=[other])

    def add(name, content, days_ago, **target):
        return evidence_add_file(
            upload=SimpleUploadedFile(name, content),
            by=compliance,
            source="web",
            effective_date=today - datetime.timedelta(days=days_ago),
            **target,
        )

    items = {
        "review": add("access review.txt", b"Q3 access review: 42 accounts checked", 10, control=control),
        "review2": add("access review.txt", b"Q2 access review: 40 accounts checked", 100, control=control),
        "policy": add("policy.txt", b"Access control policy v3", 50, requirement=in_scope),
        "old": add("old scan.txt", b"A scan from two years ago", 400, control=control),
        "outside": add("soc report.txt", b"Not in this audit", 5, control=outside),
    }
    items["note"] = evidence_add_note(note="Reviewed in the meeting", by=compliance, source="web", control=control)
    return engagement, items


def built(engagement, by, queued) -> EvidencePack:
    pack = queued.ask(by=by, engagement=engagement)
    assert queued[-1] == pack.pk
    return pack_build(pack.pk)


def unzip(pack: EvidencePack, into: Path) -> Path:
    with zipfile.ZipFile(pack_path(pack)) as zf:
        zf.extractall(into)
    return into


def test_a_pack_holds_the_files_in_scope_and_period_indexed_and_signed(setup, engaged_auditor, queued, tmp_path):
    engagement, items = setup
    pack = built(engagement, engaged_auditor, queued)
    assert pack.state == PackState.READY, pack.error
    assert (pack.files_total, pack.files_done) == (3, 3)
    assert pack.bytes_done == sum(items[k].size for k in ("review", "review2", "policy"))
    assert pack.key_fingerprint == signing.fingerprint()

    with zipfile.ZipFile(pack_path(pack)) as zf:
        names = set(zf.namelist())
        evidence = {n for n in names if n.startswith(("Controls/", "Requirements/", "Other"))}
        assert evidence == {
            "Controls/AC-01 User access management/access review.txt",
            "Controls/AC-01 User access management/access review (2).txt",
            "Requirements/ISO_IEC 27001_2022 Annex A 5.15 Access control/policy.txt",
        }
        assert {
            "index.csv",
            "index.pdf",
            "manifest.sha256",
            "manifest.sha256.sig",
            "public-key.pem",
            "README.txt",
            "verify_pack.py",
        } <= names
        assert zf.read("verify_pack.py") == VERIFY.read_bytes()
        rows = list(csv.DictReader(io.StringIO(zf.read("index.csv").decode("utf-8-sig"))))
        readme = zf.read("README.txt").decode()
    # Three files and the note; neither the out-of-period file nor the out-of-scope one.
    assert sorted(r["Title"] for r in rows) == sorted(
        ["access review.txt", "access review.txt", "policy.txt", "Reviewed in the meeting"]
    )
    file_rows = {r["File in the pack"]: r for r in rows if r["Type"] == "File"}
    review = file_rows["Controls/AC-01 User access management/access review.txt"]
    assert review["SHA-256"] == items["review"].sha256
    assert review["Control"] == "AC-01 User access management"
    assert review["Submitted by"] and review["Submitted at"].startswith(str(items["review"].submitted_at.year))
    note = next(r for r in rows if r["Type"] == "Note")
    assert note["File in the pack"] == "" and note["Link or note"] == "Reviewed in the meeting"
    assert pack.key_fingerprint in readme and "sha256sum -c manifest.sha256" in readme

    folder = unzip(pack, tmp_path / "pack")
    text = subprocess.run(
        ["pdftotext", str(folder / "index.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Evidence pack: Surveillance audit" in text and "policy.txt" in text
    assert items["policy"].sha256 in "".join(text.split())  # a hash may wrap in its cell
    manifest = (folder / "manifest.sha256").read_text()
    assert len(manifest.splitlines()) == len(names) - 2  # every file but the manifest and its signature
    check = subprocess.run(["sha256sum", "-c", "manifest.sha256"], cwd=folder, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    for target in (pack_path(pack), folder):
        result = verify(target, "--fingerprint", pack.key_fingerprint)
        assert result.returncode == 0, result.stdout
        assert "OK: 8 files match the signed manifest." in result.stdout


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_a_larger_pack_lists_every_item_in_index_parts(setup, engaged_auditor, queued, monkeypatch, tmp_path):
    """More items than a PDF lists (PDF_PART_ROWS, 2 here for 4 items): index.pdf is the summary and says which
    part holds which items; index-part-001.pdf and -002.pdf together list every item, with its hash."""
    monkeypatch.setattr("portal.packs.PDF_PART_ROWS", 2)
    engagement, items = setup
    pack = built(engagement, engaged_auditor, queued)
    assert pack.state == PackState.READY, pack.error
    folder = unzip(pack, tmp_path / "pack")
    assert sorted(p.name for p in folder.glob("index*.pdf")) == [
        "index-part-001.pdf",
        "index-part-002.pdf",
        "index.pdf",
    ]
    summary = "".join(pdf_text(folder / "index.pdf").split())
    assert "index-part-001.pdf" in summary and "index-part-002.pdf" in summary
    assert "1to2" in summary and "3to4" in summary  # the items each part lists
    assert items["policy"].sha256 not in summary  # the list is in the parts
    parts = "".join(pdf_text(folder / f"index-part-00{n}.pdf") for n in (1, 2))
    listed = "".join(parts.split())  # a long name or hash may wrap
    with zipfile.ZipFile(pack_path(pack)) as zf:
        rows = list(csv.DictReader(io.StringIO(zf.read("index.csv").decode("utf-8-sig"))))
        readme = zf.read("README.txt").decode()
    assert len(rows) == 4
    for row in rows:  # every item of index.csv is in a part: its file in the pack (or its title), and its hash
        assert "".join((row["File in the pack"] or row["Title"]).split()) in listed
        assert row["SHA-256"] in listed
    assert "index-part-001.pdf to" in readme and "index-part-002.pdf" in readme
    result = verify(pack_path(pack), "--fingerprint", pack.key_fingerprint)
    assert result.returncode == 0, result.stdout
    assert "OK: 10 files match the signed manifest." in result.stdout


def test_verify_names_the_file_changed_missing_or_added(setup, engaged_auditor, queued, tmp_path):
    engagement, _ = setup
    pack = built(engagement, engaged_auditor, queued)
    folder = unzip(pack, tmp_path / "pack")
    altered = folder / "Requirements/ISO_IEC 27001_2022 Annex A 5.15 Access control/policy.txt"
    data = bytearray(altered.read_bytes())
    data[0] ^= 1
    altered.write_bytes(bytes(data))
    result = verify(folder)
    assert result.returncode == 1
    assert "ALTERED: Requirements/ISO_IEC 27001_2022 Annex A 5.15 Access control/policy.txt" in result.stdout
    assert "FAILED: 1 problem(s)" in result.stdout
    assert subprocess.run(["sha256sum", "-c", "--quiet", "manifest.sha256"], cwd=folder).returncode == 1

    # The same change in a ZIP made again from the folder.
    rezipped = tmp_path / "rezipped.zip"
    subprocess.run(["zip", "-qr", str(rezipped), "."], cwd=folder, check=True)
    result = verify(rezipped)
    assert result.returncode == 1 and "ALTERED: Requirements/" in result.stdout

    (folder / "README.txt").unlink()
    (folder / "Controls" / "extra.txt").write_text("slipped in")
    result = verify(folder)
    assert "MISSING: README.txt" in result.stdout and "EXTRA: Controls/extra.txt" in result.stdout


def test_a_changed_manifest_fails_the_signature(setup, engaged_auditor, queued, tmp_path):
    engagement, _ = setup
    pack = built(engagement, engaged_auditor, queued)
    folder = unzip(pack, tmp_path / "pack")
    manifest = folder / "manifest.sha256"
    manifest.write_text(manifest.read_text().replace("policy.txt", "policy2.txt"))
    result = verify(folder)
    assert result.returncode == 1
    assert "the signature does not match manifest.sha256" in result.stdout
    # A pack signed with another key is refused when the published fingerprint is given.
    result = verify(pack_path(pack), "--fingerprint", "0000 1111")
    assert result.returncode == 1 and "not the one whose fingerprint you gave" in result.stdout


def test_building_twice_builds_once(setup, engaged_auditor, queued):
    engagement, _ = setup
    pack = built(engagement, engaged_auditor, queued)
    before = (pack.file, pack.sha256, pack.finished_at)
    assert pack_build(pack.pk) is None
    pack.refresh_from_db()
    assert (pack.file, pack.sha256, pack.finished_at) == before
    assert len(list(pack_path(pack).parent.iterdir())) == 1


def test_a_dead_builder_is_picked_up_again(setup, engaged_auditor, queued, clock):
    engagement, _ = setup
    pack = pack_request(by=engaged_auditor, engagement=engagement)
    EvidencePack.objects.filter(pk=pack.pk).update(state=PackState.BUILDING, started_at=timezone.now())
    assert pack_build(pack.pk) is None  # another worker has it
    assert packs_requeue_stale() == 0
    clock.advance(hours=3)
    assert packs_requeue_stale() == 1
    assert pack_build(pack.pk).state == PackState.READY


def test_a_file_changed_in_storage_fails_the_pack_naming_it(setup, engaged_auditor, queued, packs_dir):
    engagement, items = setup
    with default_storage.open(items["policy"].file.name, "wb") as f:
        f.write(b"Access control policy v4 (edited on disk)")
    pack = built(engagement, engaged_auditor, queued)
    assert pack.state == PackState.FAILED and not pack.file
    assert "“policy.txt”" in pack.error and "no longer matches the SHA-256" in pack.error
    assert not any(p.is_file() for p in packs_dir.rglob("*"))  # no half-written ZIP left


def test_a_pdf_that_cannot_be_drawn_fails_the_pack_with_nothing_left(setup, engaged_auditor, queued, packs_dir):
    """The child drawing an index PDF dies (or the PDF engine is missing): the pack fails, saying what to do, and
    no half-written ZIP stays behind."""
    engagement, _ = setup
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("portal.packs.CHILD", "import sys; sys.exit(1)")
        pack = built(engagement, engaged_auditor, queued)
    assert pack.state == PackState.FAILED and "Ask for a new one" in pack.error
    assert not any(p.is_file() for p in packs_dir.rglob("*"))
    unavailable = (
        "import json, sys; job = json.load(open(sys.argv[2])); "
        "open(job['result'], 'w').write(json.dumps({'unavailable': 'PDF reports are unavailable: install Pango.'}))"
        "; sys.exit(3)"
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("portal.packs.CHILD", unavailable)
        pack = built(engagement, engaged_auditor, queued)
    assert pack.state == PackState.FAILED
    assert "this server cannot print PDF documents" in pack.error and "Pango" not in pack.error
    assert not any(p.is_file() for p in packs_dir.rglob("*"))


def test_one_pack_at_a_time_and_a_preview_never_writes(setup, compliance, viewer, engaged_auditor, queued):
    engagement, _ = setup
    pack_request(by=compliance, engagement=engagement)
    with pytest.raises(ValidationError, match="already being built"):
        pack_request(by=engaged_auditor, engagement=engagement)
    with pytest.raises(PermissionDenied):
        pack_request(by=AuditorPreview(engagement, by=compliance), engagement=engagement)
    with pytest.raises(PermissionDenied):
        pack_request(by=viewer, engagement=engagement)
    assert EvidencePack.objects.count() == 1


def test_the_signing_key_is_made_once_and_kept_private(settings, tmp_path):
    settings.EVIDENCE_PACK_KEY_FILE = ""
    settings.EVIDENCE_PACK_KEY_DIR = tmp_path / "keys"
    first = signing.fingerprint()
    key = tmp_path / "keys" / signing.GENERATED_NAME
    assert key.stat().st_mode & 0o777 == 0o600 and (tmp_path / "keys").stat().st_mode & 0o777 == 0o700
    assert signing.fingerprint() == first and len(list((tmp_path / "keys").iterdir())) == 1
    settings.EVIDENCE_PACK_KEY_FILE = str(key)
    assert signing.fingerprint() == first


def test_a_missing_key_file_fails_the_pack_and_no_new_key_is_made(setup, engaged_auditor, queued, settings, tmp_path):
    engagement, _ = setup
    settings.EVIDENCE_PACK_KEY_FILE = str(tmp_path / "gone.pem")
    pack = built(engagement, engaged_auditor, queued)
    assert pack.state == PackState.FAILED
    assert pack.error.startswith("The pack cannot be signed:") and "gone.pem, which does not exist" in pack.error
    assert not (tmp_path / "gone.pem").exists()


# -- the pages ----------------------------------------------------------------------------------------------------


def test_the_auditor_builds_follows_and_downloads_a_pack(setup, client, engaged_auditor, queued):
    engagement, _ = setup
    client.force_login(engaged_auditor)
    url = reverse("portal:packs", kwargs={"engagement": engagement.pk})
    page = client.get(url)
    assert page.status_code == 200
    assert "No evidence pack yet" in page.text and "Build an evidence pack" in page.text
    assert signing.fingerprint() in page.text

    response = client.post(reverse("portal:pack_create", kwargs={"engagement": engagement.pk}), follow=True)
    assert "is being built" in response.text
    pack = EvidencePack.objects.get()
    assert pack.requested_by == engaged_auditor
    assert AuditorAction.objects.filter(kind=AuditorAction.Kind.PACK, engagement=engagement).exists()
    assert 'data-hx-trigger="every 2s"' in response.text

    again = client.post(reverse("portal:pack_create", kwargs={"engagement": engagement.pk}), follow=True)
    assert "already being built" in again.text
    assert EvidencePack.objects.count() == 1

    progress = reverse("portal:pack_progress", kwargs={"engagement": engagement.pk, "pk": pack.pk})
    logged = AuditorAction.objects.count()
    assert client.get(progress).url == reverse("portal:packs", kwargs={"engagement": engagement.pk})
    assert "Waiting for the worker" in client.get(progress, HTTP_HX_REQUEST="true").text
    assert AuditorAction.objects.count() == logged  # the progress bar's polling is not logged
    pack = pack_build(pack.pk)
    fragment = client.get(progress, HTTP_HX_REQUEST="true").text
    assert "data-hx-trigger" not in fragment and "Download the pack" in fragment
    assert client.get(progress, HTTP_HX_REQUEST="true")["HX-Refresh"] == "true"  # the whole page follows

    download = client.get(reverse("portal:pack_download", kwargs={"engagement": engagement.pk, "pk": pack.pk}))
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    assert download["Content-Disposition"].startswith('attachment; filename="Evidence pack Surveillance audit')
    assert b"".join(download.streaming_content) == pack_path(pack).read_bytes()
    line = AuditorAction.objects.filter(kind=AuditorAction.Kind.DOWNLOAD).get()
    assert pack.sha256 in line.what


def test_the_signing_key_page_is_public(client):
    response = client.get(reverse("portal:pack_key"))
    assert response.status_code == 200
    assert signing.fingerprint() in response.text and "BEGIN PUBLIC KEY" in response.text


def test_pack_list_queries_do_not_grow_with_packs(setup, client, compliance, django_assert_max_num_queries):
    engagement, _ = setup
    client.force_login(compliance)
    url = reverse("portal:packs", kwargs={"engagement": engagement.pk})
    EvidencePack.objects.create(engagement=engagement, requested_by=compliance, state=PackState.FAILED, error="x")
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for _ in range(5):
        EvidencePack.objects.create(engagement=engagement, requested_by=compliance, state=PackState.READY)
    with CaptureQueriesContext(connection) as six:
        client.get(url)
    assert len(six) == len(one)
