"""Whole pages kept until the data changes: `@cached_page` on a view that only reads.

A compliance team opens the same pages all day (the dashboard, the month, the evidence library, coverage), and
most views of a page follow no change at all. A cached page is stored under

* the **data version**: a token in the database (`DataVersion`) that changes after every committed write made
  through Django's database connection — any model, a queryset `update()` or `delete()`, raw SQL through a
  cursor, in a web request, a Celery task, a management command or the admin. Every statement is watched
  (`_watch`, a connection execute-wrapper); an INSERT, UPDATE or DELETE on any table but the few that no page
  shows (sessions, sign-in attempts, the version itself) changes the token when its transaction commits. The
  version is read before the page is built, so a write committed while a page is being built leaves that copy
  under the old token, never served again;
* the **day** (pages say "today", "overdue", "in 3 days"), the **person** (each sees only their reach) and
  their **session's CSRF secret** (a page's forms carry a token valid for that session only), the **address
  with its query** and the **htmx headers** (a partial and a whole page differ);
* a **fingerprint of the code** (the templates' and modules' sizes and times), so a deployment never serves a
  page drawn by the previous release.

It is not used (the view runs) when anything could make a stored copy wrong or another's: a request other than
GET/HEAD, nobody signed in, a message waiting to be shown, a new CSRF cookie being set, or a write not yet
committed on this connection (a page built inside that transaction sees data that may roll back). Only a
complete 200 HTML answer with no cookie of its own is stored. Writes that bypass Django (psql, a restored
backup) are not seen: `PAGE_CACHE_SECONDS` (10 minutes by default; 0 turns the cache off) bounds how long such a
copy can live. Pages whose content changes with the hour rather than the day must not use it.
"""

import functools
import hashlib
import os
import uuid
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate, pre_migrate
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

CACHE_ALIAS = "pages"
VERSION_ROW = 1
MAX_BYTES = 2 * 1024 * 1024  # larger pages are rebuilt each time rather than filling the cache
HEADER = "X-Page-Cache"  # hit or miss, for people checking a deployment and for the tests
# Tables whose writes change nothing a cached page shows: sessions (touched on most requests), sign-in
# attempts and lockouts (not on any cached page), and the version row itself.
UNWATCHED_PREFIXES = ("django_session", "axes_", "foundation_dataversion")
_WRITES = ("INSERT", "UPDATE", "DELETE")


@functools.cache
def _unwatched() -> tuple[str, ...]:
    """The prefixes above and the apps' own tables no kept page shows (settings.PAGE_CACHE_UNWATCHED_TABLES)."""
    return UNWATCHED_PREFIXES + tuple(getattr(settings, "PAGE_CACHE_UNWATCHED_TABLES", ()))


_KEPT_HEADERS = ("Content-Type", "Vary", "Content-Language", "HX-Trigger", "HX-Push-Url", "HX-Retarget")


def enabled() -> bool:
    return getattr(settings, "PAGE_CACHE_SECONDS", 0) > 0


# --- the data version ---------------------------------------------------------------------------------------


def current_version() -> str:
    """The token pages are cached under now (one indexed read by primary key)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM foundation_dataversion WHERE id = %s", [VERSION_ROW])
        row = cursor.fetchone()
    if row is None:  # a database without the row (restored, or truncated by a test): start one
        bump()
        return current_version()
    return row[0]


def bump() -> None:
    """A new token: every page cached so far is unreachable. Runs after the writing transaction commits."""
    token, now = uuid.uuid4().hex, timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE foundation_dataversion SET token = %s, changed_at = %s WHERE id = %s", [token, now, VERSION_ROW]
        )
        if cursor.rowcount == 0:
            cursor.execute(
                "INSERT INTO foundation_dataversion (id, token, changed_at) VALUES (%s, %s, %s)",
                [VERSION_ROW, token, now],
            )


def _is_write(sql: str) -> bool:
    head = sql.lstrip()[:6].upper()
    if head not in _WRITES:
        return False
    # The table follows the verb: INSERT INTO t, UPDATE t, DELETE FROM t.
    words = sql.lstrip().split(None, 3)
    table = words[2] if head in ("INSERT", "DELETE") and len(words) > 2 else words[1] if len(words) > 1 else ""
    return not table.strip('"`').startswith(_unwatched())


_migrating = False  # while migrate runs, the version's table may not exist yet; post_migrate changes it once


def _watch(execute, sql, params, many, context):
    """An execute-wrapper on every connection: after a write, the version changes once its transaction commits."""
    result = execute(sql, params, many, context)
    if not _migrating and isinstance(sql, str) and _is_write(sql):
        conn = context["connection"]
        if conn.alias == DEFAULT_DB_ALIAS and not _pending(conn):
            try:
                conn.on_commit(bump)
            except transaction.TransactionManagementError:  # manual transaction management: nothing to wait for
                bump()
    return result


def _pending(conn) -> bool:
    """A write on this connection whose transaction has not committed yet (its bump is waiting)."""
    return any(func is bump for _, func, _ in conn.run_on_commit)


def _on_connection_created(sender, connection, **kwargs) -> None:
    if _watch not in connection.execute_wrappers:
        connection.execute_wrappers.append(_watch)


def _before_migrate(sender, **kwargs) -> None:
    global _migrating
    _migrating = True


def _after_migrate(sender, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    """After migrate (or a test's flush): a new version, once, if the table exists (not after `migrate … zero`)."""
    global _migrating
    _migrating = False
    if using == DEFAULT_DB_ALIAS and "foundation_dataversion" in connection.introspection.table_names():
        bump()


def install() -> None:
    """Watch every database connection, the ones open already included (called from the app's ready())."""
    connection_created.connect(_on_connection_created, dispatch_uid="isms.foundation.pagecache")
    # Sent once per app: the first pre_migrate pauses, each post_migrate resumes (and bumps).
    pre_migrate.connect(_before_migrate, dispatch_uid="isms.foundation.pagecache.pre")
    post_migrate.connect(_after_migrate, dispatch_uid="isms.foundation.pagecache.post")
    for conn in connections.all(initialized_only=True):
        _on_connection_created(None, conn)


# --- the code fingerprint -----------------------------------------------------------------------------------


@functools.cache
def code_fingerprint() -> str:
    """Sizes and modification times of the project's templates and modules, hashed once per process."""
    digest = hashlib.sha256()
    root = Path(settings.BASE_DIR)
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in ("node_modules", "var", "media"))
        for name in sorted(files):
            if name.endswith((".py", ".html", ".txt")):
                stat = os.stat(os.path.join(folder, name))
                digest.update(f"{folder}/{name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()[:16]


# --- the view decorator -------------------------------------------------------------------------------------


def _cacheable_request(request: HttpRequest) -> bool:
    return (
        enabled()
        and request.method in ("GET", "HEAD")
        and request.user.is_authenticated
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and bool(request.META.get("CSRF_COOKIE"))
        and not _pending(connection)
        and len(get_messages(request)) == 0  # counting loads them without marking them shown
    )


def page_key(request: HttpRequest, version: str) -> str:
    """The cache key of this request's page under `version` (see the module's docstring for each part)."""
    htmx = [f"{name}={value}" for name, value in sorted(request.headers.items()) if name.lower().startswith("hx-")]
    parts = [
        code_fingerprint(),
        version,
        timezone.localdate().isoformat(),
        str(request.user.pk),
        hashlib.sha256(request.META["CSRF_COOKIE"].encode()).hexdigest()[:16],
        request.method,
        request.get_full_path(),
        *htmx,
    ]
    return "page:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _storable(response: HttpResponse) -> bool:
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and response.get("Content-Type", "").startswith("text/html")
        and not response.has_header("Content-Disposition")
        and len(response.content) <= MAX_BYTES
    )


def cached_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Serve the view's page from the cache while the data, day, person and session are the same.

    Put it under the page's gate (`@role_required(...)` above it): the gate still runs on every request. Use
    it only on views that read, whose page depends on nothing but the database, the day, the signed-in person
    and the request's address (not the hour, not a setting changed at run time)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not _cacheable_request(request):
            return view(request, *args, **kwargs)
        store = caches[CACHE_ALIAS]
        key = page_key(request, current_version())
        stored = store.get(key)
        if stored is not None:
            content, headers = stored
            response = HttpResponse(content)
            for name, value in headers:
                response[name] = value
            response[HEADER] = "hit"
            return response
        response = view(request, *args, **kwargs)
        if _storable(response):
            headers = [(name, response[name]) for name in _KEPT_HEADERS if response.has_header(name)]
            store.set(key, (response.content, headers), settings.PAGE_CACHE_SECONDS)
            response[HEADER] = "miss"
        return response

    wrapper.cached_page = True  # type: ignore[attr-defined]
    return wrapper
