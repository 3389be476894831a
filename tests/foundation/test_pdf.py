"""Printed documents: the shared header (organisation, title), "Page X of Y", A4 either way round, and text a
user typed can neither restyle the page nor make the renderer fetch anything."""

import io
import socket
from pathlib import Path

import pytest
from pypdf import PdfReader

from isms.foundation.pdf import pdf_bytes, render_pdf


@pytest.fixture
def long_document(settings):
    """A template of many rows (tests/foundation/templates/foundation_tests/long.html)."""
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [Path(__file__).parent / "templates"]}]
    return "foundation_tests/long.html"


def pages_of(content: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(content))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def mm(points) -> int:
    return round(float(points) / 72 * 25.4)


def test_the_header_has_the_organisation_and_title_and_the_footer_the_page_count():
    content = pdf_bytes("foundation/pdf_base.html", {"organisation_name": "Acme Widgets Ltd"}, title="Risk register")

    assert content.startswith(b"%PDF")
    (page,) = pages_of(content)
    assert "Acme Widgets Ltd" in page
    assert "Risk register" in page
    assert "Page 1 of 1" in page
    box = PdfReader(io.BytesIO(content)).pages[0].mediabox
    assert (mm(box.width), mm(box.height)) == (210, 297)


def test_landscape():
    content = pdf_bytes("foundation/pdf_base.html", {"organisation_name": "Acme"}, title="Calendar", landscape=True)

    box = PdfReader(io.BytesIO(content)).pages[0].mediabox
    assert (mm(box.width), mm(box.height)) == (297, 210)


def test_an_organisation_name_is_text_not_style_or_a_link():
    name = (
        'Evil"; } @page { size: A3; } .x { background: url(http://127.0.0.1:9/steal) } <img src="http://127.0.0.1:9/x">'
    )

    content = pdf_bytes("foundation/pdf_base.html", {"organisation_name": name}, title="Report")

    (page,) = pages_of(content)
    assert "Evil" in page and "size: A3" in page  # printed as typed
    box = PdfReader(io.BytesIO(content)).pages[0].mediabox
    assert (mm(box.width), mm(box.height)) == (210, 297)  # and the page is still A4


def test_render_pdf_is_a_download_named_as_asked():
    response = render_pdf(
        "foundation/pdf_base.html", {"organisation_name": "Acme"}, title="Controls", filename="controls.pdf"
    )

    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="controls.pdf"'
    assert "Page 1 of 1" in pages_of(response.content)[0]


def test_a_long_document_repeats_header_footer_and_table_head_on_every_page(long_document, monkeypatch):
    connections = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: connections.append(address))

    content = pdf_bytes(long_document, {"organisation_name": "Acme", "rows": range(150)}, title="Register")

    pages = pages_of(content)
    assert len(pages) > 1
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
        assert "Acme" in page and "Printed for the test" in page and "Ref. Name" in page
    assert connections == []  # the image was never fetched


def test_max_pages_keeps_only_the_first_pages(long_document):
    content = pdf_bytes(long_document, {"organisation_name": "Acme", "rows": range(150)}, title="Wall", max_pages=1)

    assert len(pages_of(content)) == 1
