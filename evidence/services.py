"""Recording evidence. Files are streamed to storage chunk by chunk while their SHA-256 is computed."""

import hashlib
import os

from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from .models import EvidenceItem


def _safe_name(name: str) -> str:
    """The uploader's file name for display only: no directories, no control characters."""
    base = os.path.basename(name.replace("\\", "/")).strip()
    base = "".join(ch for ch in base if ch.isprintable())
    return base[:255] or "unnamed"


def evidence_add_file(*, upload: UploadedFile, by, source: str, occurrence=None, title: str = "") -> EvidenceItem:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    name = _safe_name(upload.name or "")
    item = EvidenceItem(
        type=EvidenceItem.Type.FILE,
        title=title or name,
        original_name=name,
        content_type=(upload.content_type or "application/octet-stream")[:100],
        size=upload.size,
        sha256=digest.hexdigest(),
        source=source,
        submitted_by=by,
        submitted_at=timezone.now(),
        occurrence=occurrence,
    )
    item.file.save(name, upload, save=False)
    try:
        item.save()
    except Exception:
        item.file.delete(save=False)  # no orphan file without its row
        raise
    return item


def evidence_add_link(*, url: str, by, source: str, occurrence=None, title: str = "") -> EvidenceItem:
    return EvidenceItem.objects.create(
        type=EvidenceItem.Type.LINK,
        title=title or url[:255],
        url=url,
        source=source,
        submitted_by=by,
        submitted_at=timezone.now(),
        occurrence=occurrence,
    )
