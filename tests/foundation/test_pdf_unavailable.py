"""A machine without the PDF engine's system libraries: `make run` says so in one line, and a PDF link answers
with a page that says what is missing instead of a server error."""

import builtins

import pytest
from django.urls import reverse

from isms.foundation import pdf


@pytest.fixture
def no_pango(monkeypatch):
    """Loading the PDF engine fails as it does without Pango (an OSError from the library loader)."""
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "weasyprint":
            raise OSError("cannot load library 'libpango-1.0-0'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)


def test_the_problem_is_one_line_naming_the_packages(no_pango):
    problem = pdf.pdf_engine_problem()
    assert problem is not None and "\n" not in problem
    assert "apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core" in problem


def test_without_the_libraries_a_pdf_link_explains_itself(client_as, compliance, no_pango):
    response = client_as(compliance).get(reverse("maintenance:calendar_pdf", args=[2026]))
    assert response.status_code == 503
    body = response.content.decode()
    assert "cannot be printed on this server" in body and "libpango-1.0-0" in body


def test_with_the_libraries_there_is_no_problem():
    assert pdf.pdf_engine_problem() is None
