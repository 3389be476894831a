"""Evidence packs: a signed ZIP of an engagement's evidence files in scope and period, built by a worker.

What a pack holds (everything at the top of the ZIP, so `unzip` then `sha256sum -c` works in one folder):
- the evidence FILES the engagement's auditors see (the auditor grant, through an AuditorPreview, so exactly what
  they see), limited to the period under audit: files for a control activity due in the period (or answering one
  of the engagement's evidence requests), or dated (effective date) in the period, or covering part of it. One
  folder per control ("Controls/<reference> <name>"), else per requirement, else "Other evidence"; names are
  plain ASCII so every unzip tool and `sha256sum` read them alike. Links and notes are listed in the index only.
- index.csv: one row per item (files, links and notes): where it is in the pack, what it is, for which control,
  requirement and task, who submitted it, when, its size and SHA-256.
- index.pdf: a summary per control/requirement folder (files, links and notes, bytes), followed by the full list
  of items when there are at most PDF_MAX_ROWS (100) of them; larger packs have the full list in index.csv only.
  Why: WeasyPrint lays the whole document out in memory. Measured (docs/benchmarks.md): about 40 MB and 8 s for
  the first page, then about 0.27 MB and 80 ms per listed item; 1,000 items took 340 MB and 84 s, so 10,000 would
  need some 2.7 GB and a quarter of an hour, while the worker (118 MB idle) must stay under 200 MB. Splitting the
  PDF into parts would bound the memory but not the time. A summary is what a person reads on paper; the CSV is
  what they filter and sort.
- manifest.sha256 (`sha256sum` format) of every file above and below except itself and its signature;
  manifest.sha256.sig, the Ed25519 signature of the manifest's bytes in base64 (portal/signing.py says why
  Ed25519 and not an HMAC); public-key.pem; README.txt (how to check the pack); verify_pack.py (tools/, the
  standard-library checker).

Files are copied into the ZIP in 1 MB chunks and hashed while copied, never read whole; the hash is compared with
the SHA-256 recorded at upload, and a difference fails the pack naming the item (the stored file was changed).
Evidence files are stored, not deflated: they are mostly PDFs, images and office documents that are compressed
already, so deflating costs CPU for a few per cent; the index files are deflated. ZIP64 is on, for packs beyond
4 GB or 65,535 files.

Running twice is safe: the build claims the pack (queued → building) with a conditional update, so one worker
builds it; a pack ready or failed is left alone. A worker that dies mid-build (killed, out of memory, machine
restarted) leaves the pack "building": beat's `requeue-evidence-packs` job (packs_requeue_stale) queues it again
once it has been building for longer than any live build can last (PACK_TIME_LIMIT, the task's hard limit, plus a
margin), and the next claim starts it afresh; it also queues again packs whose message never reached a worker.
Only the claim that is still current may finish a pack, so a late, slow builder never overwrites a newer one."""

from __future__ import annotations

import datetime
import hashlib
import logging
import os
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
from isms.foundation.exports import csv_bytes
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
#: The index PDF lists every item up to this many; above, it is a summary and the CSV has the list.
PDF_MAX_ROWS = 100
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
            with zipfile.ZipFile(part, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
                rows, summary = self._evidence(zf, files, items)
                self._write(zf, "index.csv", csv_bytes([INDEX_HEADER, *rows]), deflate=True)
                self._write(zf, "index.pdf", self._pdf(rows, summary, key_fingerprint))
                self._write(zf, "public-key.pem", signing.public_key_pem().encode("ascii"), deflate=True)
                self._write(zf, "README.txt", self._readme(key_fingerprint, len(rows)).encode("utf-8"), deflate=True)
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

    def _evidence(self, zf: zipfile.ZipFile, files, items) -> tuple[list, OrderedDict]:
        """Copy every file in; return the index rows and the summary per folder."""
        rows: list = []
        summary: OrderedDict = OrderedDict()
        taken: set = set()
        for item in files.iterator(chunk_size=500):
            folder = folder_of(item)
            path = _unique(f"{folder}/{safe_name(item.original_name or item.title, 100)}", taken)
            size = self._copy(zf, item, path)
            rows.append(_row(item, path))
            counts = summary.setdefault(folder, Counter())
            counts["files"] += 1
            counts["bytes"] += size
        others = items.exclude(type=EvidenceItem.Type.FILE)
        for item in others.iterator(chunk_size=500):
            rows.append(_row(item, ""))
            summary.setdefault(folder_of(item), Counter())["other"] += 1
        self._progress(force=True)
        return rows, summary

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

    def _context(self, key_fingerprint: str) -> dict:
        from isms.organisation.models import Organisation

        return {
            "organisation_name": Organisation.current().name,
            "engagement": self.engagement,
            "built_at": timezone.localtime(self.token),
            "key_fingerprint": key_fingerprint,
            "files_done": self.files_done,
            "bytes_done": self.bytes_done,
        }

    def _pdf(self, rows: list, summary: OrderedDict, key_fingerprint: str) -> bytes:
        from isms.foundation.pdf import pdf_bytes

        context = self._context(key_fingerprint)
        context.update(
            summary=[(folder, counts) for folder, counts in summary.items()],
            rows=rows if len(rows) <= PDF_MAX_ROWS else None,
            row_count=len(rows),
            pdf_max_rows=PDF_MAX_ROWS,
        )
        return pdf_bytes(
            "portal/pack_index_pdf.html",
            context,
            title=f"Evidence pack: {self.engagement.title}",
            subject=f"Index of the evidence pack of {self.engagement.title}",
            landscape=True,
        )

    def _readme(self, key_fingerprint: str, rows: int) -> str:
        return render_to_string(
            "portal/pack_readme.txt", {**self._context(key_fingerprint), "rows": rows, "pdf_max_rows": PDF_MAX_ROWS}
        )


def _info(name: str, *, deflate: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=timezone.localtime().timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16  # readable files when unzipped
    return info


def _who(item: EvidenceItem) -> str:
    if item.submitted_by is None:
        return "a former user"
    return item.submitted_by.get_full_name() or item.submitted_by.username
