"""Evidence packs: a signed ZIP of an engagement's evidence files in scope and period, built by a worker.

What a pack holds (everything at the top of the ZIP, so `unzip` then `sha256sum -c` works in one folder):
- the evidence FILES the engagement's auditors see (the auditor grant, through an AuditorPreview, so exactly what
  they see), limited to the period under audit: files for a control activity due in the period (or answering one
  of the engagement's evidence requests), or dated (effective date) in the period, or covering part of it. One
  folder per control ("Controls/<reference> <name>"), else per requirement, else "Other evidence"; names are
  plain ASCII so every unzip tool and `sha256sum` read them alike. Links and notes are listed in the index only.
- index.csv: one row per item (files, links and notes): where it is in the pack, what it is, for which control,
  requirement and task, who submitted it, when, its size and SHA-256.
- index.pdf: a summary per control/requirement folder (files, links and notes, bytes), then the full list of items
  when there are at most PDF_PART_ROWS (500) of them. A larger pack lists its items in index-part-001.pdf,
  index-part-002.pdf, … of PDF_PART_ROWS items each (in the order of index.csv), and index.pdf says which part holds
  which items and folders. Each item is a compact block (file in the pack, what it is, for which control,
  requirement and task, who submitted it and when, SHA-256), not a table row: WeasyPrint lays a whole document out in
  memory, and a table row cost about 0.27 MB and 80 ms where a block costs about a quarter of that.
  Why each PDF is drawn in a child process: a process that has laid out a large document rarely gives that memory
  back to the system, so drawing in the worker would leave the worker as large as its largest document (the
  issue's bound: under 200 MB for a 10,000-file pack). Every PDF is drawn by a short-lived child (`python -c`
  running draw_in_child after django.setup(), with the worker's environment and settings module), one document at
  a time: its rows come through a temporary JSON-lines file (the rows are never all in the worker's memory either),
  and it writes the PDF to a temporary file that is streamed into the ZIP like an evidence file. The worker never
  imports WeasyPrint, and a child's peak depends on PDF_PART_ROWS, not on the pack's size (docs/benchmarks.md,
  "Evidence pack": a part of 500 items took the child about 160 MB at its peak).
- manifest.sha256 (`sha256sum` format) of every file above and below except itself and its signature;
  manifest.sha256.sig, the Ed25519 signature of the manifest's bytes in base64 (portal/signing.py says why
  Ed25519 and not an HMAC); public-key.pem; README.txt (how to check the pack); verify_pack.py (tools/, the
  standard-library checker).

Files are copied into the ZIP in 1 MB chunks and hashed while copied, never read whole; the hash is compared with
the SHA-256 recorded at upload, and a difference fails the pack naming the item (the stored file was changed).
Evidence files (and the index PDFs) are stored, not deflated: they are mostly PDFs, images and office documents
that are compressed already, so deflating costs CPU for a few per cent; index.csv and the text files are deflated.
ZIP64 is on, for packs beyond 4 GB or 65,535 files.

Running twice is safe: the build claims the pack (queued → building) with a conditional update, so one worker
builds it; a pack ready or failed is left alone. A worker that dies mid-build (killed, out of memory, machine
restarted) leaves the pack "building": beat's `requeue-evidence-packs` job (packs_requeue_stale) queues it again
once it has been building for longer than any live build can last (PACK_TIME_LIMIT, the task's hard limit, plus a
margin), and the next claim starts it afresh; it also queues again packs whose message never reached a worker.
Only the claim that is still current may finish a pack, so a late, slow builder never overwrites a newer one."""

from __future__ import annotations

import csv
import datetime
import hashlib
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
import unicodedata
import uuid
import zipfile
from collections import Counter, OrderedDict
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.template.loader import render_to_string
from django.utils import timezone

from evidence.models import EvidenceItem
from isms.foundation import reach
from isms.foundation.exports import spreadsheet_safe
from isms.maintenance.models import Occurrence

from . import signing
from .models import Engagement, EvidencePack, PackState
from .reach import occurrences_in_scope
from .scope import AuditorPreview, Scope, scope_of

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024
#: Progress is saved every this many files or bytes, whichever comes first.
PROGRESS_FILES = 25
PROGRESS_BYTES = 32 * 1024 * 1024
#: Items listed per PDF: index.pdf lists them all up to this many; above, index-part-NNN.pdf of this many each.
PDF_PART_ROWS = 500
#: A child drawing one PDF is stopped after this many seconds (a part of 500 items takes well under a minute).
PDF_TIMEOUT = 15 * 60
#: The pack task's hard time limit (seconds): a build running longer is killed.
PACK_TIME_LIMIT = 2 * 3600
#: A pack still "building" this long after its claim has no live builder: it is queued again.
STALE_AFTER = datetime.timedelta(seconds=PACK_TIME_LIMIT + 15 * 60)
#: A pack still "queued" this long after it was asked for has lost its message: it is queued again.
LOST_AFTER = datetime.timedelta(minutes=10)
VERIFY_SCRIPT = Path(settings.BASE_DIR) / "tools" / "verify_pack.py"
MANIFEST = "manifest.sha256"
SIGNATURE = "manifest.sha256.sig"
ACTIVE = (PackState.QUEUED, PackState.BUILDING)
INDEX_HEADER = (
    "File in the pack",
    "Type",
    "Title",
    "Original file name",
    "Control",
    "Requirement",
    "Task",
    "Submitted by",
    "Submitted at",
    "Effective date",
    "Size (bytes)",
    "SHA-256",
    "Link or note",
)


class PackFailed(Exception):
    """The pack cannot be built; the message says why in words for the compliance team and the auditor."""


# -- asking for one -----------------------------------------------------------------------------------------------


@transaction.atomic
def pack_request(*, by, engagement: Engagement) -> EvidencePack:
    """Ask for a pack of `engagement` (its auditors or the compliance team; a preview never writes). Refused
    while another is waiting or being built; the worker is asked once the request is saved."""
    reach.check(by, "pack", engagement)
    Engagement.objects.select_for_update().filter(pk=engagement.pk).first()  # one request at a time
    if EvidencePack.objects.filter(engagement=engagement, state__in=ACTIVE).exists():
        raise ValidationError(
            "An evidence pack of this engagement is already being built: wait until it is ready (its progress "
            "shows on this page), then download it or ask for a new one."
        )
    pack = EvidencePack.objects.create(engagement=engagement, requested_by=by, requested_at=timezone.now())
    transaction.on_commit(lambda: _enqueue(pack.pk))
    log.info("Evidence pack %s of engagement %s asked for by %s", pack.pk, engagement.pk, by.pk)
    return pack


def _enqueue(pack_id: int) -> None:
    from .tasks import build_evidence_pack

    try:
        build_evidence_pack.delay(pack_id)
    except Exception:  # the broker is down: beat's requeue-evidence-packs job queues it again
        log.exception("Evidence pack %s could not be queued now; it will be queued again later", pack_id)


def packs_requeue_stale(now: datetime.datetime | None = None) -> int:
    """Queue again every pack whose builder died (building for longer than any build may last) or whose
    message never reached a worker (queued for LOST_AFTER). Returns how many were queued."""
    now = now or timezone.now()
    stale = EvidencePack.objects.filter(
        Q(state=PackState.BUILDING, started_at__lt=now - STALE_AFTER)
        | Q(state=PackState.QUEUED, requested_at__lt=now - LOST_AFTER)
    ).values_list("pk", flat=True)
    count = 0
    for pk in stale:
        _enqueue(pk)
        count += 1
    return count


# -- what goes in -------------------------------------------------------------------------------------------------


def in_period(s: Scope) -> Q:
    """Evidence for the period under audit: for a task due in it (or answering the engagement's requests),
    dated in it, or covering part of it."""
    tasks = Occurrence.objects.filter(occurrences_in_scope(s)).values("pk")
    return (
        Q(occurrence__in=tasks)
        | Q(effective_date__gte=s.period_start, effective_date__lte=s.period_end)
        | Q(period_start__lte=s.period_end, period_end__gte=s.period_start)
    )


def pack_items(engagement: Engagement):
    """The live evidence items of the pack: what the engagement's auditors see, in the period."""
    viewer = AuditorPreview(engagement, by=None)
    return (
        reach.visible(viewer, EvidenceItem.objects.live())
        .filter(in_period(scope_of(engagement)))
        .select_related("submitted_by", "control", "requirement__framework", "occurrence")
        .order_by("control__reference", "requirement__identifier", "submitted_at", "pk")
    )


def safe_name(text: str, limit: int = 80) -> str:
    """A file or folder name any unzip tool and `sha256sum` read alike: plain ASCII letters, digits, spaces and
    . _ ( ) -; nothing else, never starting with a dot, at most `limit` characters."""
    folded = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii")
    kept = "".join(ch if ch.isalnum() or ch in " ._()-" else "_" for ch in folded)
    kept = " ".join(kept.split()).strip(" ._")
    return kept[:limit].strip(" ._") or "file"


def folder_of(item: EvidenceItem) -> str:
    if item.control_id:
        return f"Controls/{safe_name(f'{item.control.reference} {item.control.name}')}"
    if item.requirement_id:
        r = item.requirement
        return f"Requirements/{safe_name(f'{r.framework.name} {r.identifier} {r.title}')}"
    return "Other evidence"


def _unique(path: str, taken: set) -> str:
    if path not in taken:
        taken.add(path)
        return path
    stem, dot, ext = path.rpartition(".")
    if not dot or "/" in ext:
        stem, ext = path, ""
    n = 2
    while True:
        candidate = f"{stem} ({n}).{ext}" if ext else f"{stem} ({n})"
        if candidate not in taken:
            taken.add(candidate)
            return candidate
        n += 1


def _row(item: EvidenceItem, path: str) -> list:
    r = item.requirement
    occurrence = item.occurrence
    return [
        path,
        item.get_type_display(),
        item.title,
        item.original_name,
        f"{item.control.reference} {item.control.name}" if item.control_id else "",
        f"{r.framework.name} {r.identifier} {r.title}" if r else "",
        f"{occurrence.title}, due {occurrence.due_date:%Y-%m-%d}" if occurrence else "",
        (item.submitted_by.get_full_name() or item.submitted_by.username) if item.submitted_by else "",
        timezone.localtime(item.submitted_at).strftime("%Y-%m-%d %H:%M %Z"),
        f"{item.effective_date:%Y-%m-%d}",
        item.size if item.type == EvidenceItem.Type.FILE else "",
        item.sha256,
        item.url or item.note[:1000],
    ]


# -- the build ----------------------------------------------------------------------------------------------------


def packs_dir() -> Path:
    return Path(settings.EVIDENCE_PACKS_DIR)


def pack_path(pack: EvidencePack) -> Path:
    return packs_dir() / pack.file


def pack_build(pack_id: int) -> EvidencePack | None:
    """Build the pack (the worker's task calls this). Returns the pack, or None when another run has it or had
    it (see the module docstring)."""
    token = timezone.now()
    claimed = (
        EvidencePack.objects.filter(pk=pack_id)
        .filter(Q(state=PackState.QUEUED) | Q(state=PackState.BUILDING, started_at__lt=token - STALE_AFTER))
        .update(state=PackState.BUILDING, started_at=token, files_done=0, bytes_done=0, error="")
    )
    if not claimed:
        log.info("Evidence pack %s is not waiting to be built: left alone", pack_id)
        return None
    pack = EvidencePack.objects.select_related("engagement").get(pk=pack_id)
    try:
        built = _Build(pack, token).run()
    except PackFailed as exc:
        log.warning("Evidence pack %s failed: %s", pack_id, exc)
        _finish(pack, token, state=PackState.FAILED, error=str(exc))
    except Exception:
        log.exception("Evidence pack %s failed", pack_id)
        _finish(
            pack,
            token,
            state=PackState.FAILED,
            error="The pack could not be built because of an unexpected error. Ask for a new one; if it fails "
            "again, tell your administrator (the worker's log says what went wrong).",
        )
    else:
        if not _finish(pack, token, state=PackState.READY, **built):
            (packs_dir() / built["file"]).unlink(missing_ok=True)  # a newer claim owns the pack now
    pack.refresh_from_db()
    return pack


def _finish(pack: EvidencePack, token, **fields) -> bool:
    """Record the outcome if this run's claim is still the pack's (True), else change nothing (False)."""
    return bool(
        EvidencePack.objects.filter(pk=pack.pk, state=PackState.BUILDING, started_at=token).update(
            finished_at=timezone.now(), **fields
        )
    )


@dataclass
class _Entry:
    name: str
    sha256: str


class _Build:
    def __init__(self, pack: EvidencePack, token: datetime.datetime):
        self.pack = pack
        self.engagement = pack.engagement
        self.token = token
        self.entries: list[_Entry] = []
        self.files_done = 0
        self.bytes_done = 0
        self.saved_at = (0, 0)
        self.rows = 0
        #: per part (0-based), the folders of its items in order; per folder, the parts that list its items
        self.part_folders: list[list[str]] = []
        self.folder_parts: dict[str, list[int]] = {}
        #: per PDF drawn: (name, items, seconds, the child's peak RSS in KB)
        self.drawn: list[tuple[str, int, float, int]] = []

    def run(self) -> dict:
        items = pack_items(self.engagement)
        files = items.filter(type=EvidenceItem.Type.FILE).exclude(file="")
        totals = files.aggregate(n=Count("pk"), size=Sum("size"))
        EvidencePack.objects.filter(pk=self.pack.pk, started_at=self.token).update(
            files_total=totals["n"] or 0, bytes_total=totals["size"] or 0
        )
        try:  # the key is read (or made) before the long part: a key problem fails the pack at once
            key_fingerprint = signing.fingerprint()
        except ImproperlyConfigured as exc:
            raise PackFailed(f"The pack cannot be signed: {exc}") from None
        folder = packs_dir() / f"engagement-{self.engagement.pk}"
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / f"evidence-pack-{self.pack.pk}-{uuid.uuid4().hex[:8]}.zip"
        part = final.with_suffix(".zip.part")
        try:
            with (
                tempfile.TemporaryDirectory(prefix="isms-pack-") as work,
                zipfile.ZipFile(part, "w", zipfile.ZIP_STORED, allowZip64=True) as zf,
            ):
                work = Path(work)
                rows_file = work / "rows.jsonl"  # the index rows, one JSON list a line: never all in memory
                summary = self._evidence(zf, files, items, rows_file)
                self._write_file(zf, "index.csv", self._csv(rows_file, work / "index.csv"), deflate=True)
                self._pdfs(zf, work, rows_file, summary, key_fingerprint)
                self._write(zf, "public-key.pem", signing.public_key_pem().encode("ascii"), deflate=True)
                self._write(zf, "README.txt", self._readme(key_fingerprint).encode("utf-8"), deflate=True)
                self._write(zf, "verify_pack.py", VERIFY_SCRIPT.read_bytes(), deflate=True)
                manifest = "".join(f"{e.sha256}  {e.name}\n" for e in self.entries).encode("utf-8")
                zf.writestr(_info(MANIFEST, deflate=True), manifest)
                zf.writestr(_info(SIGNATURE, deflate=False), signing.sign(manifest) + b"\n")
            digest = hashlib.sha256()
            with open(part, "rb") as f:
                for chunk in iter(lambda: f.read(CHUNK), b""):
                    digest.update(chunk)
            os.replace(part, final)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        return {
            "file": str(final.relative_to(packs_dir())),
            "size": final.stat().st_size,
            "sha256": digest.hexdigest(),
            "key_fingerprint": key_fingerprint,
            "files_done": self.files_done,
            "bytes_done": self.bytes_done,
        }

    def _evidence(self, zf: zipfile.ZipFile, files, items, rows_file: Path) -> OrderedDict:
        """Copy every file in; write the index rows to `rows_file`; return the summary per folder."""
        summary: OrderedDict = OrderedDict()
        taken: set = set()
        with open(rows_file, "w", encoding="utf-8") as out:
            for item in files.iterator(chunk_size=500):
                folder = folder_of(item)
                path = _unique(f"{folder}/{safe_name(item.original_name or item.title, 100)}", taken)
                size = self._copy(zf, item, path)
                self._add_row(out, _row(item, path), folder)
                counts = summary.setdefault(folder, Counter())
                counts["files"] += 1
                counts["bytes"] += size
            others = items.exclude(type=EvidenceItem.Type.FILE)
            for item in others.iterator(chunk_size=500):
                folder = folder_of(item)
                self._add_row(out, _row(item, ""), folder)
                summary.setdefault(folder, Counter())["other"] += 1
        self._progress(force=True)
        return summary

    def _add_row(self, out, row: list, folder: str) -> None:
        """One index row to the rows file, noting which part of the PDF list it falls in."""
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        index = self.rows // PDF_PART_ROWS
        self.rows += 1
        if index == len(self.part_folders):
            self.part_folders.append([])
        if folder not in self.part_folders[index]:  # a few folders a part: a list keeps their order
            self.part_folders[index].append(folder)
        parts = self.folder_parts.setdefault(folder, [])
        if not parts or parts[-1] != index:
            parts.append(index)

    def _csv(self, rows_file: Path, target: Path) -> Path:
        """index.csv from the rows file, row by row (the format of isms.foundation.exports.csv_bytes: UTF-8 with a
        byte order mark, CRLF line ends, every cell spreadsheet-safe)."""
        with open(rows_file, encoding="utf-8") as source, open(target, "w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(INDEX_HEADER)
            for line in source:
                writer.writerow([spreadsheet_safe(value) for value in json.loads(line)])
        return target

    def _copy(self, zf: zipfile.ZipFile, item: EvidenceItem, path: str) -> int:
        digest = hashlib.sha256()
        size = 0
        try:
            source = default_storage.open(item.file.name, "rb")
        except (FileNotFoundError, OSError):
            raise PackFailed(self._missing(item)) from None
        with source, zf.open(_info(path, deflate=False), "w", force_zip64=True) as target:
            for chunk in iter(lambda: source.read(CHUNK), b""):
                digest.update(chunk)
                target.write(chunk)
                size += len(chunk)
        if digest.hexdigest() != item.sha256:
            raise PackFailed(
                f"The stored file of “{item.title}” (submitted by {_who(item)} on "
                f"{timezone.localtime(item.submitted_at):%d %b %Y}) no longer matches the SHA-256 recorded when it "
                "was uploaded: it was changed in storage since. No pack was made. Tell your administrator, and "
                "restore the file from a backup or submit it again as a correction."
            )
        self.entries.append(_Entry(path, item.sha256))
        self.files_done += 1
        self.bytes_done += size
        self._progress()
        return size

    def _missing(self, item: EvidenceItem) -> str:
        return (
            f"The stored file of “{item.title}” (submitted by {_who(item)} on "
            f"{timezone.localtime(item.submitted_at):%d %b %Y}) is missing from storage. No pack was made. Tell your "
            "administrator, and restore the file from a backup or submit it again as a correction."
        )

    def _progress(self, force: bool = False) -> None:
        files, size = self.saved_at
        if force or self.files_done - files >= PROGRESS_FILES or self.bytes_done - size >= PROGRESS_BYTES:
            EvidencePack.objects.filter(pk=self.pack.pk, started_at=self.token).update(
                files_done=self.files_done, bytes_done=self.bytes_done
            )
            self.saved_at = (self.files_done, self.bytes_done)

    def _write(self, zf: zipfile.ZipFile, name: str, data: bytes, deflate: bool = False) -> None:
        zf.writestr(_info(name, deflate=deflate), data)
        self.entries.append(_Entry(name, hashlib.sha256(data).hexdigest()))

    def _write_file(self, zf: zipfile.ZipFile, name: str, source: Path, deflate: bool = False) -> None:
        """A file made during the build (index.csv, a PDF), streamed into the ZIP in chunks and hashed."""
        digest = hashlib.sha256()
        with open(source, "rb") as f, zf.open(_info(name, deflate=deflate), "w", force_zip64=True) as target:
            for chunk in iter(lambda: f.read(CHUNK), b""):
                digest.update(chunk)
                target.write(chunk)
        self.entries.append(_Entry(name, digest.hexdigest()))

    def _context(self, key_fingerprint: str) -> dict:
        """What the README and the PDFs say about the pack, as plain text and numbers (a child gets it as JSON)."""
        from isms.organisation.models import Organisation

        e = self.engagement
        return {
            "organisation_name": Organisation.current().name,
            "engagement_title": e.title,
            "certification_body": e.certification_body,
            "period": f"{e.period_start:%-d %B %Y} to {e.period_end:%-d %B %Y}",
            "built_at": timezone.localtime(self.token).strftime("%-d %B %Y, %H:%M %Z"),
            "key_fingerprint": key_fingerprint,
            "files_done": self.files_done,
            "bytes_done": self.bytes_done,
            "row_count": self.rows,
            "pdf_part_rows": PDF_PART_ROWS,
            "parts": self._parts(),
        }

    def _parts(self) -> list[dict]:
        """The index-part-NNN.pdf files (none when index.pdf lists every item)."""
        if self.rows <= PDF_PART_ROWS:
            return []
        parts = []
        for index, folders in enumerate(self.part_folders):
            first = index * PDF_PART_ROWS + 1
            parts.append(
                {
                    "name": part_name(index),
                    "number": index + 1,
                    "first": first,
                    "last": min(first + PDF_PART_ROWS - 1, self.rows),
                    "folders": folders if len(folders) <= 4 else [folders[0], "…", folders[-1]],
                    "folder_count": len(folders),
                }
            )
        return parts

    def _pdfs(self, zf: zipfile.ZipFile, work: Path, rows_file: Path, summary: OrderedDict, key: str) -> None:
        """index.pdf and its parts, each drawn by a child process (see the module docstring) and streamed in."""
        context = self._context(key)
        parts = context["parts"]
        context["summary"] = [
            [folder, c["files"], c["bytes"], c["other"], _part_numbers(self.folder_parts.get(folder, []))]
            for folder, c in summary.items()
        ]
        title = f"Evidence pack: {self.engagement.title}"
        whole = 0 if parts else self.rows  # index.pdf lists every item when there are no parts
        self._draw(zf, work, "index.pdf", context, rows_file, 1, whole, title=title)
        context["summary"] = []
        for part in parts:
            self._draw(
                zf,
                work,
                part["name"],
                {**context, "part": part, "parts": []},
                rows_file,
                part["first"],
                part["last"],
                title=f"{title}, index part {part['number']} of {len(parts)}",
            )

    def _draw(self, zf, work: Path, name: str, context: dict, rows_file: Path, first: int, last: int, *, title):
        """Draw one PDF listing items first..last (none when last < first) in a child process; put it in the ZIP."""
        job = work / f"{name}.json"
        out = work / name
        result = work / f"{name}.result.json"
        job.write_text(
            json.dumps(
                {
                    "context": context,
                    "rows": str(rows_file),
                    "first": first,
                    "last": last,
                    "out": str(out),
                    "result": str(result),
                    "title": title,
                    "subject": f"Index of the evidence pack of {self.engagement.title}",
                },
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
        started = time.monotonic()
        env = dict(os.environ)  # the worker's settings module, database and data folders
        module = env.get("DJANGO_SETTINGS_MODULE") or getattr(settings, "SETTINGS_MODULE", None)
        if module:
            env["DJANGO_SETTINGS_MODULE"] = module
        try:
            child = subprocess.run(
                [sys.executable, "-c", CHILD, str(settings.BASE_DIR), str(job)],
                env=env,
                capture_output=True,
                text=True,
                timeout=PDF_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            raise PackFailed(
                f"The index document {name} took longer than {PDF_TIMEOUT // 60} minutes to print, so no pack was "
                "made. Ask for a new one; if it fails again, tell your administrator."
            ) from None
        done = json.loads(result.read_text()) if result.exists() else {}
        if done.get("unavailable"):
            log.error("Evidence pack %s: %s", self.pack.pk, done["unavailable"])
            raise PackFailed(
                "The pack's index could not be printed: this server cannot print PDF documents, so no pack was made. "
                "Tell your administrator (the worker's log says what to install)."
            )
        if child.returncode != 0 or not out.exists():
            log.error("Drawing %s of evidence pack %s failed:\n%s", name, self.pack.pk, child.stderr[-4000:])
            raise RuntimeError(f"drawing {name} failed (exit code {child.returncode})")
        seconds = time.monotonic() - started
        items = max(0, last - first + 1)
        self.drawn.append((name, items, seconds, done.get("peak_kb", 0)))
        log.info(
            "Evidence pack %s: %s drawn (%d items) in %.1f s, child peak RSS %d MB",
            self.pack.pk,
            name,
            items,
            seconds,
            done.get("peak_kb", 0) // 1024,
        )
        self._write_file(zf, name, out)
        out.unlink()

    def _readme(self, key_fingerprint: str) -> str:
        return render_to_string("portal/pack_readme.txt", self._context(key_fingerprint))


def part_name(index: int) -> str:
    """The file name of the index's part `index` (0-based): index-part-001.pdf, …"""
    return f"index-part-{index + 1:03d}.pdf"


def _part_numbers(indexes: list[int]) -> str:
    """Parts 0-based → "1", "2–4", "1, 3–5" (runs shown as ranges)."""
    runs: list[list[int]] = []
    for i in sorted(set(indexes)):
        if runs and runs[-1][1] == i - 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return ", ".join(f"{a + 1}" if a == b else f"{a + 1}–{b + 1}" for a, b in runs)


#: What a drawing child runs: Django set up from the worker's settings module, then draw_in_child(job file).
CHILD = (
    "import sys; sys.path.insert(0, sys.argv[1]); import django; django.setup(); "
    "from portal.packs import draw_in_child; sys.exit(draw_in_child(sys.argv[2]))"
)


def draw_in_child(job_path: str) -> int:
    """In a child process: print the PDF a job file describes (items first..last of its rows file) to its output
    file, and write how long it took and the process's peak RSS to its result file. Returns the exit code."""
    from isms.foundation.pdf import PdfUnavailable, pdf_bytes

    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    first, last = job["first"], job["last"]
    rows = []
    if last >= first:
        with open(job["rows"], encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if number > last:
                    break
                if number >= first:
                    rows.append((number, json.loads(line)))
    started = time.monotonic()
    try:
        data = pdf_bytes(
            "portal/pack_index_pdf.html",
            {**job["context"], "rows": rows},
            title=job["title"],
            subject=job["subject"],
        )
    except PdfUnavailable as exc:
        Path(job["result"]).write_text(json.dumps({"unavailable": str(exc)}))
        return 3
    Path(job["out"]).write_bytes(data)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux
    Path(job["result"]).write_text(json.dumps({"seconds": time.monotonic() - started, "peak_kb": peak_kb}))
    return 0


def _info(name: str, *, deflate: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=timezone.localtime().timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16  # readable files when unzipped
    return info


def _who(item: EvidenceItem) -> str:
    if item.submitted_by is None:
        return "a former user"
    return item.submitted_by.get_full_name() or item.submitted_by.username
