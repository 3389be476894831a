"""A real Redis broker and a real Celery worker for integration tests.

The worker (celery.contrib.testing.worker.start_worker, solo pool) runs in a thread of the test process,
so it sees the test database and Django's locmem mail outbox. Each test gets its own Redis key prefix,
so tasks left over from another run, or a run going on at the same time on the same Redis database,
never reach this worker. With REDIS_URL unset or Redis not answering, the tests skip (fail in CI)."""

import contextlib
import logging
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from celery import signals
from celery.contrib.testing.worker import start_worker
from django.db import connections
from kombu import pools as kombu_pools
from kombu.utils.collections import eqhash

from isms.celery import app as celery_app
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS
from tests.conftest import skip_or_fail

HOW_TO_RUN = (
    "start Redis (redis-server --port 6379) and run: "
    "REDIS_URL=redis://127.0.0.1:6379/15 make test PYTEST_ARGS='tests/integration' "
    "(or REDIS_URL=redis://127.0.0.1:6379/15 .venv/bin/pytest tests/integration)"
)
# A port nothing listens on: publishing there fails at once with "connection refused".
DEAD_BROKER = "redis://127.0.0.1:1/0"


@pytest.fixture(scope="session", autouse=True)
def _allow_orm_beside_playwright():
    """As tests/browser/conftest.py does: when its Chromium runs, Playwright's event loop sits in the main
    thread, and Django's ORM, which is safe here, would refuse to run beside it."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


def wait_for(condition, *, timeout: float = 30.0, what: str):
    """Poll `condition` until it returns something truthy; fail saying what never happened."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def _redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        skip_or_fail(f"REDIS_URL is not set: the integration tests need a real Redis; {HOW_TO_RUN}")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as exc:
        skip_or_fail(f"Redis at {url} does not answer a ping ({exc}); {HOW_TO_RUN}")
    return url


class Broker:
    """The Celery app pointed at the test's Redis (or, for a while, at a dead broker)."""

    def __init__(self, url: str, prefix: str):
        self.app = celery_app
        self.url = url
        self.prefix = prefix

    def _point_at(self, url: str, transport_options: dict) -> None:
        # Publishing goes through connection and producer pools kept per broker address (in kombu's
        # registry, and cached on the app): close the old address's pools so the next publish uses the new.
        old = self.app.connection_for_write()
        for group in (kombu_pools.producers, kombu_pools.connections):
            if eqhash(old) in group:
                group[old].force_close_all()
                del group[old]
        self.app._pool = None
        self.app.amqp._producer_pool = None
        self.app.conf.broker_url = url
        self.app.conf.broker_transport_options = transport_options

    def use_redis(self) -> None:
        self._point_at(self.url, {"visibility_timeout": 3600, "global_keyprefix": self.prefix})

    @contextlib.contextmanager
    def down(self):
        """Point publishing at a port where nothing listens, as if Redis had stopped; restore after."""
        self._point_at(DEAD_BROKER, {})
        try:
            yield
        finally:
            self.use_redis()


@pytest.fixture
def broker(monkeypatch):
    """isms.celery's app publishing to and consuming from Redis under a key prefix of this test's own."""
    url = _redis_url()
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)  # celery prefers it over app.conf.broker_url
    saved = {key: celery_app.conf[key] for key in ("broker_url", "broker_transport_options")}
    b = Broker(url, prefix=f"isms-test-{uuid.uuid4().hex[:12]}:")
    b.use_redis()
    celery_app.control.purge()
    try:
        yield b
    finally:
        b._point_at(saved["broker_url"], saved["broker_transport_options"])
        import redis

        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(match=f"{b.prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


class TaskLog:
    """Every task the worker finished: name, id and return value, in order."""

    def __init__(self):
        self.done: list[dict] = []

    def finished(self, name: str, task_id: str | None = None) -> list[dict]:
        return [t for t in self.done if t["name"] == name and (task_id is None or t["id"] == task_id)]


@pytest.fixture
def run_worker(broker, transactional_db):
    """run_worker() -> a context manager running a real Celery worker on the broker; yields a TaskLog."""
    log = TaskLog()

    def on_postrun(sender=None, task_id=None, task=None, retval=None, state=None, **kwargs):
        if getattr(task.request, "is_eager", False):
            return
        # The worker thread's own database connections: close them so PostgreSQL can drop the test
        # database at the end (SQLite's in-memory test database ignores the close).
        connections.close_all()
        log.done.append({"name": task.name, "id": task_id, "retval": retval, "state": state})

    def keep_pytest_logging(**kwargs):
        """A receiver here tells Celery not to reconfigure logging (it would remove pytest's handlers)."""

    @contextlib.contextmanager
    def running():
        signals.task_postrun.connect(on_postrun, weak=False)
        signals.setup_logging.connect(keep_pytest_logging, weak=False)
        try:
            with start_worker(
                broker.app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30
            ):
                yield log
        finally:
            signals.task_postrun.disconnect(on_postrun)
            signals.setup_logging.disconnect(keep_pytest_logging)
            logging.captureWarnings(False)  # Celery's log setup routes warnings into logging

    return running


@pytest.fixture
def in_browser():
    """in_browser(journey) runs journey(page, screenshot) in a real Chromium and returns what it returns.

    The Chromium runs in a thread of its own: Playwright's sync API allows one instance per thread, and the
    session-scoped Chromium of tests/browser/conftest.py may already be running in the main thread (importing
    those fixtures here would start a second one there, which fails in a full run). The journey's failures
    are raised in the test. Screenshots go where the browser tests put theirs."""
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)")

    def in_thread(journey):
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
                page.set_default_timeout(15_000)

                def screenshot(name: str):
                    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

                return journey(page, screenshot)
            finally:
                browser.close()

    def run(journey):
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="chromium") as pool:
            return pool.submit(in_thread, journey).result(timeout=180)

    return run
