"""Every URL × every actor × (for URLs taking an object) the owner's object and another owner's.

Each project app that serves URLs declares them in `tests/<app label>/permission_matrix.py` (`MATRIX`); this
module finds those files from the installed apps, so a new app only has to bring its own. How an entry reads:
tests/matrix.py. Every HTML page the matrix opens is then checked by the Nu HTML Checker (tests/htmlcheck.py)."""

import importlib
import importlib.util
from pathlib import Path

import pytest
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests import htmlcheck
from tests.conftest import skip_or_fail
from tests.matrix import Objects, cases, check, expected, run

PROJECT = Path(__file__).resolve().parents[1]
# Django admin's own model pages are guarded by the admin site as a whole (tested via admin:index).
SKIP_NAMESPACES = {"admin"}
# URLs of the root URLconf that no app's module serves (the admin site) belong to the top web layer.
TOP_LAYER = "web"


def project_apps():
    """The installed apps whose code lives in this repository, bottom layer first."""
    for config in apps.get_app_configs():
        path = Path(config.path)
        if path.is_relative_to(PROJECT) and not path.is_relative_to(PROJECT / ".venv"):
            yield config


def matrices() -> dict[str, list]:
    """{app label: MATRIX} for every project app with a tests/<label>/permission_matrix.py."""
    found = {}
    for config in project_apps():
        module = f"tests.{config.label}.permission_matrix"
        if importlib.util.find_spec(f"tests.{config.label}") and importlib.util.find_spec(module):
            found[config.label] = importlib.import_module(module).MATRIX
    return found


def _app_label(module_name: str) -> str | None:
    config = apps.get_containing_app_config(module_name)
    return config.label if config is not None and config in list(project_apps()) else None


def served_urls(patterns=None, prefix: str = "", app: str | None = None) -> dict[str, str]:
    """{URL name: label of the app serving it}: the app whose urls module includes it, else the app of its view
    (the root URLconf's own views), else the top web layer."""
    patterns = get_resolver().url_patterns if patterns is None else patterns
    found = {}
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{prefix}{p.namespace}:" if p.namespace else prefix
            urlconf = getattr(p.urlconf_module, "__name__", "")
            found.update(served_urls(p.url_patterns, ns, _app_label(urlconf) or app))
        elif isinstance(p, URLPattern) and p.name:
            found[f"{prefix}{p.name}"] = app or _app_label(p.callback.__module__) or TOP_LAYER
    return found


MATRICES = matrices()
CASES = cases([entry for matrix in MATRICES.values() for entry in matrix])


def test_every_app_serving_urls_brings_its_matrix():
    serving = set(served_urls().values())
    missing = {label for label in serving if label not in MATRICES}
    assert not missing, f"apps serving URLs without tests/<app>/permission_matrix.py: {sorted(missing)}"


def test_every_url_is_in_its_apps_matrix_and_every_entry_is_a_url():
    served = {name: app for name, app in served_urls().items() if name.split(":")[0] not in SKIP_NAMESPACES}
    served_all = served_urls()
    declared = {entry.name: label for label, matrix in MATRICES.items() for entry in matrix}
    missing = sorted(set(served) - set(declared))
    assert not missing, f"URLs without a permission matrix entry: {missing}"
    gone = sorted(set(declared) - set(served_all))
    assert not gone, f"matrix entries naming URLs that do not exist: {gone}"
    misplaced = sorted(
        f"{name} (in {label}, served by {served_all[name]})"
        for name, label in declared.items()
        if served_all[name] != label
    )
    assert not misplaced, f"entries in another app's matrix: {misplaced}"


@pytest.mark.parametrize(("entry", "actor", "whose"), CASES)
def test_permission_matrix(db, client, clock, request, entry, actor, whose):
    response = run(client, Objects(request), entry, actor, whose)
    htmlcheck.collect(request.node.callspec.id, response)
    check(response, expected(entry, actor, whose), entry, where=f"{actor} on {entry.id} ({whose or 'no object'})")


def test_every_page_the_matrix_opens_is_valid_html(db, clock, request):
    """Zero errors from the Nu HTML Checker on every HTML page of the matrix (any status: the 403 and 404 pages
    too), as each actor. Runs after the matrix and checks what it collected; cases that did not run in this session
    (a -k selection) are opened here first, all on one set of objects."""
    if not htmlcheck.VNU_JAR.exists():
        skip_or_fail(f"the HTML checker is not installed ({htmlcheck.VNU_JAR}): run `make test` (npm ci) once")
    if not htmlcheck.java():
        skip_or_fail("the HTML checker needs Java 17: apt-get install default-jre-headless")
    objects = Objects(request)
    for param in CASES:
        if param.id not in htmlcheck.RAN:
            entry, actor, whose = param.values
            htmlcheck.collect(param.id, run(Client(), objects, entry, actor, whose))
    pages = list(htmlcheck.COLLECTED.values())
    assert len(pages) > len(MATRICES)  # the checker is given pages (each app opens some)
    errors = htmlcheck.validate(pages)
    assert not errors, f"{len(errors)} HTML error(s) in the pages the matrix opens:\n" + "\n".join(errors)
