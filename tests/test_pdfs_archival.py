"""Every PDF the product makes is archival: PDF/A-3a (ISO 19005-3, conformance A: tagged, Unicode), with its title,
author, subject and creation date in the metadata, read back with pypdf.

The PDFs are found, not listed: every URL of the permission matrices whose name ends in `pdf` is opened by the
compliance manager, so a PDF added by a later issue is checked as soon as its URL joins its app's matrix."""

import datetime
import io
import re

import pytest
from django.utils import timezone
from pypdf import PdfReader

from isms.foundation.pdf import pdf_bytes, pdf_engine_problem
from tests.matrix import Objects, run
from tests.test_permission_matrix import MATRICES

PDF_ENTRIES = [
    pytest.param(entry, id=entry.id)
    for matrix in MATRICES.values()
    for entry in matrix
    if entry.name.endswith("pdf") and entry.method == "get"
]


def archival_facts(content: bytes) -> dict:
    """What a records system reads from a PDF: the PDF/A claim in its XMP, tagging, language and the Info fields."""
    reader = PdfReader(io.BytesIO(content))
    xmp = reader.xmp_metadata.stream.get_data().decode()
    root = reader.trailer["/Root"]

    def xmp_value(name: str) -> str | None:
        match = re.search(rf'{name}="([^"]*)"|<{name}>([^<]*)</{name}>', xmp)
        return next((g for g in match.groups() if g is not None), None) if match else None

    info = reader.metadata
    return {
        "part": xmp_value("pdfaid:part"),
        "conformance": xmp_value("pdfaid:conformance"),
        "tagged": bool(root.get("/MarkInfo", {}).get("/Marked")) and "/StructTreeRoot" in root,
        "output_intent": "/OutputIntents" in root,
        "lang": root.get("/Lang"),
        "title": info.title,
        "author": info.author,
        "subject": info.subject,
        "created": info.creation_date,
        "xmp_title": "dc:title" in xmp,
    }


def assert_archival(content: bytes, *, title_has: str) -> dict:
    facts = archival_facts(content)
    assert (facts["part"], facts["conformance"]) == ("3", "A"), facts
    assert facts["tagged"] and facts["output_intent"] and facts["lang"] == "en", facts
    assert title_has in facts["title"] and facts["xmp_title"], facts
    assert facts["author"] and facts["subject"], facts
    assert abs(facts["created"] - timezone.now()) < datetime.timedelta(minutes=5), facts
    return facts


@pytest.fixture(autouse=True)
def _pdf_engine():
    if problem := pdf_engine_problem():
        pytest.skip(problem)


def test_the_helper_writes_pdf_a_with_metadata():
    content = pdf_bytes(
        "foundation/pdf_base.html",
        {"organisation_name": "Acme Widgets Ltd"},
        title="Risk register",
        subject="The risks of Acme Widgets Ltd",
    )
    facts = assert_archival(content, title_has="Risk register")
    assert facts["title"] == "Acme Widgets Ltd: Risk register"
    assert facts["author"] == "Acme Widgets Ltd"  # the organisation, when the template names no author
    assert facts["subject"] == "The risks of Acme Widgets Ltd"


def test_there_are_pdfs_to_check():
    names = {param.values[0].name for param in PDF_ENTRIES}
    assert {"controls:soa_version_pdf", "maintenance:calendar_pdf"} <= names


@pytest.mark.parametrize("entry", PDF_ENTRIES)
def test_every_pdf_the_product_makes_is_archival(db, client, clock, request, entry):
    response = run(client, Objects(request), entry, "compliance", "one" if entry.obj else None)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf", response.status_code
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert_archival(content, title_has=" ")
