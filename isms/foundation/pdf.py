"""PDF documents written once: an HTML template (extending foundation/pdf_base.html) printed to A4.

The base template carries the look every printed document shares: the organisation's name and the document's
title at the top of each page, a footer line the document fills in, and "Page X of Y". The renderer fetches
nothing, not even from this server: a document is self-contained, and no text a user typed into it can make
the renderer load a URL or read a file.

Every PDF is archival: PDF/A-3a, that is PDF/A (fonts embedded, an sRGB output intent, XMP metadata; ISO 19005-3)
at conformance level A, which also requires a tagged document (headings, tables and paragraphs in a structure
tree, read in order) with Unicode text, so screen readers and text extraction get the content. Its metadata carry
the title, author (the organisation unless the template names one), subject and creation date. WeasyPrint takes one
`pdf_variant` per document, so PDF/UA-1 (which it also offers) cannot be claimed at the same time; PDF/A-3a keeps
both the archival conformance and the tagging that PDF/UA builds on.
"""

import logging
from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

from . import identity
from .exports import attachment_response

PDF_TYPE = "application/pdf"
#: The PDF variant of every document (see the module docstring for why this one).
PDF_VARIANT = "pdf/a-3a"
# What a machine without the PDF engine's system libraries needs (Debian and Ubuntu package names).
SYSTEM_PACKAGES = "libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core"

logger = logging.getLogger(__name__)


class PdfUnavailable(RuntimeError):
    """The PDF engine cannot start on this machine (its system libraries are missing)."""


def pdf_engine_problem() -> str | None:
    """None when PDFs can be printed here; else one line saying what to install."""
    try:
        import weasyprint  # noqa: F401 - loading it is the check: it needs Pango at import time
    except OSError:
        return (
            "PDF reports are unavailable: this machine lacks the Pango text-layout library and a font. "
            f"On Debian or Ubuntu: apt-get install {SYSTEM_PACKAGES}"
        )
    return None


def pdf_bytes(
    template_name: str,
    context: Mapping[str, Any],
    *,
    request: HttpRequest | None = None,
    title: str,
    subject: str = "",
    landscape: bool = False,
    max_pages: int | None = None,
) -> bytes:
    """The template printed to PDF/A. `context` should carry `organisation_name` for the page header (this
    layer does not know the organisation). `subject` says what the document is about, in a sentence (its
    metadata; the title is used if none). `max_pages` keeps only the first pages of a layout sized to fit
    (a wall calendar); the rest is dropped rather than handed out half-empty."""
    problem = pdf_engine_problem()
    if problem:
        raise PdfUnavailable(problem)
    import weasyprint  # heavy; only printing needs it

    html = render_to_string(template_name, {**context, "title": title, "landscape": landscape}, request=request)
    fetcher = weasyprint.URLFetcher(allowed_protocols={"data"})
    document = weasyprint.HTML(string=html, url_fetcher=fetcher).render()
    if max_pages is not None and len(document.pages) > max_pages:
        logger.warning("%s overflowed to %s pages; printing the first %s", title, len(document.pages), max_pages)
        document = document.copy(document.pages[:max_pages])
    _describe(document.metadata, context, title=title, subject=subject)
    return document.write_pdf(pdf_variant=PDF_VARIANT)


def _describe(metadata, context: Mapping[str, Any], *, title: str, subject: str) -> None:
    """Title, author, subject, language and dates in the document's metadata (Info dictionary and XMP). The title is
    the page's <title> ("Organisation: title"); an author named by the template (<meta name="author">) stays."""
    organisation = context.get("organisation_name") or identity.organisation_name()
    metadata.title = metadata.title or title
    metadata.authors = metadata.authors or [str(organisation)]
    metadata.description = subject or metadata.description or title
    metadata.lang = metadata.lang or "en"
    now = timezone.now().replace(microsecond=0).isoformat()
    metadata.created = metadata.modified = now
    metadata.generator = "ISMS tracker"


def render_pdf(
    template_name: str,
    context: Mapping[str, Any],
    *,
    request: HttpRequest | None = None,
    title: str,
    filename: str,
    subject: str = "",
    landscape: bool = False,
    inline: bool = False,
    max_pages: int | None = None,
) -> HttpResponse:
    """The template printed to PDF as a download named `filename` (`inline`: shown in the browser instead). On a
    server without the PDF engine's libraries, a page that says so (503) instead of an error."""
    try:
        content = pdf_bytes(
            template_name,
            context,
            request=request,
            title=title,
            subject=subject,
            landscape=landscape,
            max_pages=max_pages,
        )
    except PdfUnavailable:
        logger.error("PDF requested but the PDF engine cannot start; install %s", SYSTEM_PACKAGES)
        page = render_to_string("foundation/pdf_unavailable.html", {"title": title}, request=request)
        return HttpResponse(page, status=503)
    return attachment_response(content, filename, PDF_TYPE, inline=inline)
