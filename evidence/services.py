"""Recording evidence: files (checked on content, streamed to storage, SHA-256), links and notes; corrections
as new versions; deletion by an administrator leaving a tombstone."""

import contextlib
import datetime
import hashlib
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from .models import EvidenceItem
from .validation import UploadRejected, check_upload

_stored = threading.local()
logger = logging.getLogger(__name__)
#: A stored file with no evidence row is removed once this old (evidence_storage_verify).
ORPHAN_AGE = datetime.timedelta(days=1)


@contextlib.contextmanager
def files_removed_on_error():
    """Around a multi-step write: if it fails, delete the files it stored, so no file is left without its row."""
    outer = getattr(_stored, "names", None)
    _stored.names = [] if outer is None else outer
    try:
        yield
    except BaseException:
        if outer is None:
            from django.core.files.storage import default_storage

            for name in _stored.names:
                default_storage.delete(name)
        raise
    finally:
        if outer is None:
            _stored.names = None


def safe_name(name: str) -> str:
    """The uploader's file name for display only: no directories, no control characters."""
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*')
    return base.lstrip(".")[:255] or "unnamed"


def uploads_rejected(files) -> list[str]:
    """Every refused file with its reason (empty, too large, a kind not accepted), then a line naming the good
    ones to choose again (a browser cannot keep chosen files after the page is sent); empty if all are fine."""
    problems, fine = [], []
    for upload in files:
        name = safe_name(upload.name)
        try:
            check_upload(upload, name)
        except UploadRejected as exc:
            problems.append(str(exc))
        else:
            fine.append(name)
    if not problems:
        return []
    again = "Nothing was recorded: choose the files again"
    if fine:
        again += f": {', '.join(fine)} {'was' if len(fine) == 1 else 'were'} fine"
    return [*problems, f"{again}."]


def _common(
    by,
    source,
    *,
    occurrence,
    control,
    requirement,
    title,
    effective_date,
    period_start,
    period_end,
    expires_on,
    supersedes,
    correction_reason="",
):
    if period_start and period_end and period_end < period_start:
        raise ValidationError("The period ends before it starts.")
    if occurrence is None and control is None and requirement is None and supersedes is None:
        raise ValidationError("Say what this is evidence for: a task, a control or a requirement.")
    correction_reason = (correction_reason or "").strip()
    if supersedes is not None:
        if supersedes.is_deleted or EvidenceItem.objects.filter(supersedes=supersedes).exists():
            raise ValidationError("Only the newest version of live evidence can be corrected.")
        if not correction_reason:
            raise ValidationError(correction_reason_missing(supersedes))
        occurrence = occurrence or supersedes.occurrence
        control = control or supersedes.control
        requirement = requirement or supersedes.requirement
    elif correction_reason:
        raise ValidationError("A reason for a correction is only given when correcting evidence.")
    # Evidence on a control's task counts for that control: it is filed for it (the web form and a task's
    # completion already said so; the API may name only the task). Filed for another control too, it keeps the
    # task's control aside so that the library lists it under both (selectors.library_queryset).
    task_control = control_of(occurrence) if occurrence is not None else None
    if control is None:
        control = task_control
    if task_control is not None and task_control.pk == control.pk:
        task_control = None
    return {
        "source": source,
        "submitted_by": by,
        "submitted_at": timezone.now(),
        "occurrence": occurrence,
        "control": control,
        "task_control": task_control,
        "requirement": requirement,
        "title": title,
        "effective_date": effective_date or timezone.localdate(),
        "period_start": period_start,
        "period_end": period_end,
        "expires_on": expires_on,
        "supersedes": supersedes,
        "version": supersedes.version + 1 if supersedes else 1,
        "correction_reason": correction_reason,
    }


def correction_reason_missing(supersedes: EvidenceItem) -> str:
    """The words for a correction without a reason (the service and the form say the same)."""
    return (
        f"Say why this version replaces version {supersedes.version}: the reason is kept on record for the auditor, "
        "as a deletion's is."
    )


def evidence_add_file(
    *,
    upload: UploadedFile,
    by,
    source: str,
    occurrence=None,
    control=None,
    requirement=None,
    title: str = "",
    effective_date: datetime.date | None = None,
    period_start: datetime.date | None = None,
    period_end: datetime.date | None = None,
    expires_on: datetime.date | None = None,
    supersedes: EvidenceItem | None = None,
    correction_reason: str = "",
) -> EvidenceItem:
    """Check the file on its content, stream it to storage while hashing, then record it. A correction
    (`supersedes=`) needs a `correction_reason`."""
    name = safe_name(upload.name)
    try:
        accepted = check_upload(upload, name)
    except UploadRejected as exc:
        raise ValidationError(str(exc)) from None
    fields = _common(
        by,
        source,
        occurrence=occurrence,
        control=control,
        requirement=requirement,
        title=title or name,
        effective_date=effective_date,
        period_start=period_start,
        period_end=period_end,
        expires_on=expires_on,
        supersedes=supersedes,
        correction_reason=correction_reason,
    )
    digest = hashlib.sha256()
    size = 0
    for chunk in upload.chunks():
        digest.update(chunk)
        size += len(chunk)
    upload.seek(0)
    item = EvidenceItem(
        type=EvidenceItem.Type.FILE,
        original_name=name,
        content_type=accepted.content_type,
        size=size,
        sha256=digest.hexdigest(),
        **fields,
    )
    item.file.save(name, upload, save=False)
    names = getattr(_stored, "names", None)
    if names is not None:
        names.append(item.file.name)
    try:
        with transaction.atomic():
            item.save()
            _renewal_task(item)
    except BaseException:
        item.file.delete(save=False)  # no orphan file without its row
        raise
    return item


def evidence_add_link(*, url: str, by, source: str, title: str = "", **targets) -> EvidenceItem:
    """A link to where the evidence lives (a ticket, a report): a web address only, never `javascript:`."""
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValidationError(f"{url or 'The address'} is not a web address (http:// or https://).") from None
    fields = _common(by, source, title=title or url[:255], **_targets(targets))
    with transaction.atomic():
        item = EvidenceItem.objects.create(type=EvidenceItem.Type.LINK, url=url, **fields)
        _renewal_task(item)
    return item


def evidence_add_note(*, note: str, by, source: str, title: str = "", **targets) -> EvidenceItem:
    if not note.strip():
        raise ValidationError("The note is empty.")
    fields = _common(by, source, title=title or note.strip().splitlines()[0][:255], **_targets(targets))
    with transaction.atomic():
        item = EvidenceItem.objects.create(type=EvidenceItem.Type.NOTE, note=note, **fields)
        _renewal_task(item)
    return item


def _targets(targets: dict) -> dict:
    keys = (
        "occurrence",
        "control",
        "requirement",
        "effective_date",
        "period_start",
        "period_end",
        "expires_on",
        "supersedes",
        "correction_reason",
    )
    unknown = set(targets) - set(keys)
    if unknown:
        raise TypeError(f"unknown evidence fields: {sorted(unknown)}")
    return {k: targets.get(k) for k in keys}


RENEWAL = "renewal"
RENEWAL_LEAD_DAYS = 14  # a renewal is due this long before the evidence expires, so it never lapses


def _renewal_task(item: EvidenceItem) -> None:
    """Evidence with an expiry puts a renewal task on its owner's calendar, due RENEWAL_LEAD_DAYS before the
    expiry (reminded 30 and 7 days before that, missed while the evidence is still valid).

    The renewal belongs to the piece of evidence, not to one version: its one schedule hangs on version 1, so a
    correction carries it over instead of leaving a skipped task and a stopped schedule behind. A correction
    that renews the evidence (a later expiry) while its renewal task is due completes that task: the work asked
    for was done. Otherwise the open task moves to the new version's date, or, when the new version no longer
    expires, is taken off the calendar with that reason."""
    from isms.maintenance.models import Kind
    from isms.maintenance.services import schedule_for, schedule_retire

    first = item.first_version()
    if item.supersedes_id:
        previous = item.supersedes
        if previous.pk != first.pk:
            # Renewals made before they followed version 1 hang on the version they were made for.
            schedule_retire(subject=previous, purpose=RENEWAL, reason=f"Carried over to version {item.version}.")
        _renewal_done_by(item, first)
    if not item.expires_on:
        if item.supersedes_id:
            schedule_retire(
                subject=first,
                purpose=RENEWAL,
                reason=f"Version {item.version} of the evidence does not expire.",
                by=item.submitted_by,
            )
        return
    owner = (item.control.owner if item.control else None) or item.submitted_by
    if owner is None or not owner.email:
        return
    today = timezone.localdate()
    due = max(item.expires_on - datetime.timedelta(days=RENEWAL_LEAD_DAYS), today)
    schedule_for(
        subject=first,
        purpose=RENEWAL,
        title=f"Renew evidence: {item.title}"[:200],
        start_date=due,
        owner=owner,
        kind=Kind.CONTROL_ACTIVITY,
        reminder_days=[30, 7],
        grace_days=max(0, min(7, (item.expires_on - due).days)),
        description=f"The evidence “{item.title}” expires on {item.expires_on:%-d %B %Y}. Collect a current "
        f"version by {due:%-d %B %Y} and add it as a corrected version of the evidence (with its new expiry).",
        today=today,
    )


def _renewal_done_by(item: EvidenceItem, first: EvidenceItem) -> None:
    """A new version with a later expiry, recorded while the renewal task is due (reminded, overdue or missed),
    is that renewal: the task is marked done by whoever recorded it."""
    from isms.maintenance.models import Occurrence
    from isms.maintenance.services import occurrence_complete

    previous = item.supersedes
    if not (item.expires_on and (previous.expires_on is None or item.expires_on > previous.expires_on)):
        return
    today = timezone.localdate()
    due = (
        Occurrence.objects.filter(schedule__subject_id=first.pk, schedule__purpose=RENEWAL, remind_from__lte=today)
        .filter(schedule__subject_type__app_label="evidence", schedule__subject_type__model="evidenceitem")
        .filter(state__in=[Occurrence.State.OPEN, Occurrence.State.MISSED])
    )
    via = {EvidenceItem.Source.TASK_LINK: "task link", EvidenceItem.Source.API: "api"}.get(item.source, "web")
    for occ in due:
        occurrence_complete(
            occurrence=occ,
            by=item.submitted_by,
            via=via,
            note=f"Renewed: version {item.version} of the evidence, valid until {item.expires_on:%-d %B %Y}.",
        )


def control_of(occurrence):
    """The control whose periodic activity produced this task, if any: evidence on the task counts for it."""
    from controls.models import Control
    from isms.maintenance.purposes import subject_of_model

    return subject_of_model(occurrence.schedule, Control)


@transaction.atomic
def occurrence_complete_with_evidence(
    *,
    occurrence,
    by,
    note: str = "",
    via: str = "web",
    files: Iterable = (),
    links: Iterable[str] = (),
    now: datetime.datetime | None = None,
    without_evidence_reason: str = "",
):
    """Complete a task with its evidence in one transaction: the files and links are recorded on the task (and
    count for its control), then the calendar marks it done. If anything fails nothing is kept, files included.

    A task whose schedule requires evidence is done without any only with `without_evidence_reason`, which its
    history keeps; it then shows as done without evidence (`calendar.done_without_evidence`)."""
    from isms.maintenance.services import occurrence_complete, occurrence_lock

    now = now or timezone.now()
    files, links = list(files), list(links)
    occ = occurrence_lock(occurrence, by=by)
    record = {}
    if occ.schedule.evidence_required and not files and not links and not _has_live_evidence(occ):
        reason = (without_evidence_reason or "").strip()
        if not reason:
            raise ValidationError(EVIDENCE_REQUIRED)
        record["without_evidence"] = reason
    source = {"task link": EvidenceItem.Source.TASK_LINK, "api": EvidenceItem.Source.API}.get(
        via, EvidenceItem.Source.WEB
    )
    control = control_of(occ)
    problems = uploads_rejected(files)
    if problems:
        raise ValidationError(problems)  # every bad file at once, before anything is stored
    with files_removed_on_error():
        # Evidence from a task takes effect on the day the task was done.
        done_on = timezone.localdate(now)
        for upload in files:
            evidence_add_file(
                upload=upload, by=by, source=source, occurrence=occ, control=control, effective_date=done_on
            )
        for url in links:
            evidence_add_link(url=url, by=by, source=source, occurrence=occ, control=control, effective_date=done_on)
        return occurrence_complete(occurrence=occ, by=by, note=note, via=via, now=now, record=record)


EVIDENCE_REQUIRED = (
    "This task asks for evidence: attach a file or a link, or tick “Mark done without evidence” and say why."
)


def _has_live_evidence(occurrence) -> bool:
    return EvidenceItem.objects.filter(occurrence=occurrence, deleted_at__isnull=True).exists()


@transaction.atomic
def evidence_delete(*, item: EvidenceItem, by, reason: str) -> EvidenceItem:
    """Only an administrator deletes evidence, with a reason. The row stays as a tombstone; the file goes."""
    if not by.is_admin:
        raise PermissionDenied("Only an administrator may delete evidence.")
    if not reason.strip():
        raise ValidationError("Give the reason for deleting this evidence; it is kept on record.")
    item = EvidenceItem.objects.select_for_update().get(pk=item.pk)
    if item.is_deleted:
        raise ValidationError("This evidence is already deleted.")
    stored = item.file.name
    EvidenceItem.objects.filter(pk=item.pk).update(
        deleted_at=timezone.now(), deleted_by=by, deletion_reason=reason, file=""
    )
    if stored:
        transaction.on_commit(lambda: item.file.storage.delete(stored))
    item.refresh_from_db()
    return item


def idempotency_records_prune(*, older_than_days: int = 30) -> int:
    """Forget API answers kept for retries once no sane client would retry any more."""
    from .models import IdempotencyRecord

    cutoff = timezone.now() - datetime.timedelta(days=older_than_days)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


@dataclass
class StorageCheck:
    """What one run of the nightly storage check found and did."""

    orphans_removed: int = 0
    orphans_kept: int = 0  # younger than a day: possibly an upload still being recorded
    checked: int = 0
    checked_ids: list[int] = field(default_factory=list)
    mismatched: int = 0


def _stored_names(storage, folder: str = "evidence") -> Iterable[str]:
    """Every file stored under `folder`, recursively (local disk or an S3 bucket alike)."""
    try:
        folders, files = storage.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in files:
        yield f"{folder}/{name}"
    for sub in folders:
        yield from _stored_names(storage, f"{folder}/{sub}")


def _stored_digest(storage, name: str) -> str | None:
    """The SHA-256 of a stored file, read in chunks; None if it cannot be read."""
    digest = hashlib.sha256()
    try:
        with storage.open(name, "rb") as stored:
            for chunk in iter(lambda: stored.read(1024 * 1024), b""):
                digest.update(chunk)
    except (FileNotFoundError, OSError):
        return None
    return digest.hexdigest()


def evidence_storage_verify(
    *, now: datetime.datetime, max_files: int | None = None, orphan_age: datetime.timedelta = ORPHAN_AGE
) -> StorageCheck:
    """The nightly check of stored evidence (beat: `verify-evidence-storage`).

    1. A stored file with no evidence row is what an upload leaves when it crashes between storing the file and
       recording it: removed once older than `orphan_age` (a younger one may be an upload in progress).
    2. Files are re-hashed against the SHA-256 recorded at submission, at most about `max_files` a night
       (EVIDENCE_VERIFY_MAX_FILES): night n checks the items whose id ≡ n (mod k), k = ⌈files / max_files⌉, so
       every file is checked once every k nights with no state kept between runs. A changed or missing file is
       told to the compliance team once (`notices.integrity_notify`)."""
    from django.conf import settings
    from django.core.files.storage import default_storage
    from django.db.models import F
    from django.db.models.functions import Mod

    from .notices import integrity_notify

    result = StorageCheck()
    files = EvidenceItem.objects.filter(type=EvidenceItem.Type.FILE, deleted_at__isnull=True).exclude(file="")

    recorded = set(EvidenceItem.objects.exclude(file="").values_list("file", flat=True))
    for name in _stored_names(default_storage):
        if name in recorded:
            continue
        if default_storage.get_modified_time(name) < now - orphan_age:
            default_storage.delete(name)
            result.orphans_removed += 1
            logger.info("Evidence storage: removed %s, a file with no evidence record", name)
        else:
            result.orphans_kept += 1

    max_files = max_files or settings.EVIDENCE_VERIFY_MAX_FILES
    nights = max(1, -(-files.count() // max_files))
    tonight = files.annotate(night=Mod(F("pk"), nights)).filter(night=now.date().toordinal() % nights)
    for item in tonight.order_by("pk").iterator(chunk_size=100):
        result.checked += 1
        result.checked_ids.append(item.pk)
        digest = _stored_digest(default_storage, item.file.name)
        if digest == item.sha256:
            continue
        problem = "missing" if digest is None else "changed"
        logger.warning("Evidence storage: the file of evidence %s is %s", item.pk, problem)
        result.mismatched += 1
        integrity_notify(item, problem)
    return result
