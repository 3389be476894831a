"""HTML validity: the Nu HTML Checker (vnu.jar from the npm package vnu-jar, which `make test` installs; it runs
on the machine's Java 17) over the pages the permission matrix opens.

The matrix hands each HTML page it gets to `collect()`; `validate()` checks them all in one run of the checker (a
Java start costs seconds, a page tens of milliseconds). Pages that differ only in their CSRF token, numbers (ids,
dates, counts: the same page for another actor or object) and the navigation bar are checked once; each different
navigation bar is checked at least once.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
_CSRF = re.compile(rb'(name="csrfmiddlewaretoken" value=)"[^"]*"')
_DIGITS = re.compile(rb"[0-9]+")
# The navigation bar differs by who is signed in (name, role, menu) and nowhere else: one of each is enough.
_NAV = re.compile(rb'<nav class="navbar.*?</nav>', re.DOTALL)


@dataclass
class Page:
    case: str  # the matrix case that opened it, e.g. maintenance:month-owner
    url: str
    html: bytes


#: case id -> the HTML page that case got (filled while the permission matrix runs).
COLLECTED: dict[str, Page] = {}
#: the ids of every matrix case that ran, whatever it answered.
RAN: set[str] = set()


def is_html_page(response) -> bool:
    return (
        response.status_code in (200, 403, 404)
        and response.get("Content-Type", "").startswith("text/html")
        and not getattr(response, "streaming", False)
    )


def collect(case: str, response) -> None:
    """Keep the response of one matrix case if it is an HTML page."""
    RAN.add(case)
    if is_html_page(response):
        COLLECTED[case] = Page(case, response.request["PATH_INFO"], response.content)


def java() -> str | None:
    return shutil.which("java")


def validate(pages: list[Page]) -> list[str]:
    """The checker's errors, one line each naming the case, the URL and the place in the page (none: valid)."""
    unique: dict[str, Page] = {}
    for page in pages:
        shape = _DIGITS.sub(b"0", _CSRF.sub(rb"\1-", page.html))
        nav = _NAV.search(shape)
        unique.setdefault(hashlib.sha256(nav.group(0) if nav else b"").hexdigest(), page)
        unique.setdefault(hashlib.sha256(_NAV.sub(b"", shape)).hexdigest(), page)
    with tempfile.TemporaryDirectory(prefix="isms-vnu-") as tmp:
        names = {}
        for i, page in enumerate({id(page): page for page in unique.values()}.values()):
            path = Path(tmp) / f"{i:04d}.html"
            path.write_bytes(page.html)
            names[path.as_uri()] = page
        result = subprocess.run(
            [
                java(),
                "-Xss4m",
                "-jar",
                str(VNU_JAR),
                "--errors-only",
                "--no-langdetect",
                "--format",
                "json",
                "--exit-zero-always",
                tmp,
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        try:
            messages = json.loads(result.stderr or result.stdout)["messages"]
        except (ValueError, KeyError):
            return [f"the HTML checker did not answer as expected: {result.stdout[:500]} {result.stderr[:500]}"]
    errors = []
    for message in messages:
        if message.get("type") not in ("error", "non-document-error"):
            continue
        page = names.get(message.get("url", "").replace("file:/", "file:///", 1)) or names.get(message.get("url"))
        where = f"{page.case} ({page.url})" if page else message.get("url", "?")
        line = message.get("lastLine", "?")
        extract = " ".join(message.get("extract", "").split())
        errors.append(f"{where}, line {line}: {message.get('message')}  [{extract}]")
    return errors
