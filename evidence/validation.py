"""What evidence files we accept, decided from their content, not their name.

An executable renamed report.pdf, or an HTML page renamed scan.pdf, is refused: HTML served back from our
origin could run script in an auditor's session, and executables have no place in an evidence store."""

import os
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile


class UploadRejected(ValueError):
    """The file may not be stored; the message says why in words a person can act on."""


# Detected kind -> (content type we record, file name endings that may carry it)
BINARY_TYPES = {
    "pdf": ("application/pdf", {".pdf"}),
    "png": ("image/png", {".png"}),
    "jpg": ("image/jpeg", {".jpg", ".jpeg"}),
    "gif": ("image/gif", {".gif"}),
    "webp": ("image/webp", {".webp"}),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", {".docx"}),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", {".xlsx"}),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", {".pptx"}),
    "odt": ("application/vnd.oasis.opendocument.text", {".odt"}),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", {".ods"}),
    "zip": ("application/zip", {".zip"}),
    "gz": ("application/gzip", {".gz", ".tgz"}),
}
TEXT_TYPES = {
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".json": "application/json",
    ".log": "text/plain",
    ".md": "text/markdown",
    ".xml": "application/xml",
    ".yaml": "text/yaml",
    ".yml": "text/yaml",
    ".nessus": "application/xml",
}
# Markup that a browser would run if it ever rendered the file.
ACTIVE_MARKUP = (b"<html", b"<!doctype html", b"<script", b"<svg", b"<iframe", b"<body", b"<?php")
HEAD = 8192


@dataclass(frozen=True)
class Accepted:
    content_type: str
    extension: str


def allowed_summary() -> str:
    exts = sorted({e for _, exts in BINARY_TYPES.values() for e in exts} | set(TEXT_TYPES))
    return ", ".join(exts)


def check_upload(upload: UploadedFile, name: str) -> Accepted:
    """Accept the file or raise UploadRejected. Reads only the first few kilobytes."""
    limit = settings.EVIDENCE_MAX_UPLOAD_MB * 1024 * 1024
    if upload.size is not None and upload.size > limit:
        raise UploadRejected(f"{name} is larger than the {settings.EVIDENCE_MAX_UPLOAD_MB} MB limit.")
    if not upload.size:
        raise UploadRejected(f"{name} is empty.")
    ext = os.path.splitext(name)[1].lower()
    upload.seek(0)
    head = upload.read(HEAD)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is not None:
        if kind.extension not in BINARY_TYPES:
            raise UploadRejected(
                f"{name} is a {kind.mime} file, which is not accepted as evidence. Accepted: {allowed_summary()}."
            )
        content_type, endings = BINARY_TYPES[kind.extension]
        if ext not in endings:
            raise UploadRejected(
                f"{name} contains a {kind.extension.upper()} file but is named {ext or 'without an ending'}."
            )
        return Accepted(content_type, ext)
    # No binary signature: it must be plain text of an accepted kind, and not active markup.
    for detected, (_, endings) in BINARY_TYPES.items():
        if ext in endings:
            raise UploadRejected(f"{name} is named {ext} but its content is not a {detected.upper()} file.")
    if ext not in TEXT_TYPES:
        raise UploadRejected(f"{name}: this kind of file is not accepted as evidence. Accepted: {allowed_summary()}.")
    if b"\x00" in head:
        raise UploadRejected(f"{name} is named {ext} but is not a text file.")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # a multi-byte character cut at the edge of the sample is fine
            raise UploadRejected(f"{name} is named {ext} but is not UTF-8 text.") from None
    lowered = head.lower()
    if any(marker in lowered for marker in ACTIVE_MARKUP):
        raise UploadRejected(f"{name} contains HTML or script, which is not accepted as evidence.")
    return Accepted(TEXT_TYPES[ext], ext)
