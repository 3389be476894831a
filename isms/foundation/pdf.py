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

logger = logging.getLogger(__name__)


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
    """The template printed to PDF as a download named `filename` (`inline`: shown in the browser instead)."""
    content = pdf_bytes(template_name, context, request=request, title=title, landscape=landscape, max_pages=max_pages)
    return attachment_response(content, filename, PDF_TYPE, inline=inline)
