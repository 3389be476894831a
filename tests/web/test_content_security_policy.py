"""A Content-Security-Policy on every page: scripts and styles only from our own static files, so a script
slipped into a page (a stored title, a crafted link) does not run. No page may need an inline script, an
inline event handler or an inline style to work."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import make_schedule

ROOT = Path(settings.BASE_DIR)
#: Emails (mail clients drop stylesheets) and PDFs (rendered by the PDF helper, never served as a page) keep
#: their inline styles: no browser applies a page's policy to them.
NOT_PAGES = ("/email/", "_pdf.html", "pdf_base.html", "pdf_unavailable.html")


def page_templates() -> list[Path]:
    skip = {".venv", "staticfiles", "test-artifacts", "node_modules", ".git"}
    found = []
    for path in ROOT.rglob("*.html"):
        parts = set(path.relative_to(ROOT).parts)
        if parts & skip or "tests" in parts or any(marker in str(path) for marker in NOT_PAGES):
            continue
        found.append(path)
    return sorted(found)


def policy(response) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy", "")
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"\sstyle\s*=|<style", re.IGNORECASE)


def test_the_templates_are_found():
    names = {p.name for p in page_templates()}
    assert {"base.html", "task_link_open.html", "coverage.html", "soa.html"} <= names


@pytest.mark.parametrize("template", page_templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_page_template_needs_inline_script_handlers_or_styles(template):
    text = template.read_text()
    assert not INLINE_SCRIPT.search(text), "an inline <script>: move it into a static .js file"
    assert not HANDLER.search(text), "an inline event handler (on…=): attach it from a static .js file"
    assert "javascript:" not in text.lower()
    assert not INLINE_STYLE.search(text), "an inline style: use a class in static/css, or data-* set by script"


def assert_strict(response):
    directives = policy(response)
    assert directives.get("default-src") == ["'self'"], response.get("Content-Security-Policy")
    for name in ("script-src", "style-src"):
        sources = directives.get(name, directives["default-src"])
        assert "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources, name
    assert directives.get("object-src") == ["'none'"]
    assert directives.get("frame-ancestors") == ["'none'"]
    body = response.content.decode()
    assert not INLINE_SCRIPT.search(body) and not HANDLER.search(body)
    assert not INLINE_STYLE.search(body), re.search(r".{80}(style=|<style).{80}", body, re.S)


def test_pages_signed_in_and_out_carry_the_policy(client, client_as, compliance, owner, clock):
    occurrence = make_schedule(owner).occurrences.first()
    for url in (reverse("login"), reverse("maintenance:task_link"), reverse("api:docs")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict(response)
    client = client_as(compliance)
    for url in (
        reverse("dashboard"),
        reverse("maintenance:month"),
        reverse("maintenance:occurrence", args=[occurrence.pk]),
        reverse("controls:soa"),
        reverse("evidence:index"),
        "/no/such/page/",
    ):
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert_strict(response)


def test_the_api_docs_page_loads_its_setup_from_a_script_file(client, db):
    body = client.get(reverse("api:docs")).content.decode()
    sources = re.findall(r'<script[^>]*src="([^"]+)"', body)
    assert any("swagger-ui-bundle" in src for src in sources)
    setup = next(src for src in sources if "script" in src.split("?")[-1])
    response = client.get(setup)
    assert response.status_code == 200 and "SwaggerUIBundle" in response.content.decode()
    assert response["Content-Type"].startswith("application/javascript")
