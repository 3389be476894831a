"""PDF documents written once: an HTML template (extending foundation/pdf_base.html) printed to A4.

The base template carries the look every printed document shares: the organisation's name and the document's
title at the top of each page, a footer line the document fills in, and "Page X of Y". The renderer fetches
nothing, not even from this server: a document is self-contained, and no text a user typed into it can make
the renderer load a URL or read a file.
"""

import logging
from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from .exports import attachment_response

PDF_TYPE = "application/pdf"
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
    landscape: bool = False,
    max_pages: int | None = None,
) -> bytes:
    """The template printed to PDF. `context` should carry `organisation_name` for the page header (this
    layer does not know the organisation). `max_pages` keeps only the first pages of a layout sized to fit
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
    return document.write_pdf()


def render_pdf(
    template_name: str,
    context: Mapping[str, Any],
    *,
    request: HttpRequest | None = None,
    title: str,
    filename: str,
    landscape: bool = False,
    inline: bool = False,
    max_pages: int | None = None,
) -> HttpResponse:
    """The template printed to PDF as a download named `filename` (`inline`: shown in the browser instead). On a
    server without the PDF engine's libraries, a page that says so (503) instead of an error."""
    try:
        content = pdf_bytes(
            template_name, context, request=request, title=title, landscape=landscape, max_pages=max_pages
        )
    except PdfUnavailable:
        logger.error("PDF requested but the PDF engine cannot start; install %s", SYSTEM_PACKAGES)
        page = render_to_string("foundation/pdf_unavailable.html", {"title": title}, request=request)
        return HttpResponse(page, status=503)
    return attachment_response(content, filename, PDF_TYPE, inline=inline)
