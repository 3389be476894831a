"""Notices while workers die: two real Celery worker processes on Redis send a few hundred notices to a local mail
server that answers in 150 ms, and one of them has its process group killed (SIGKILL) every 2-3 s, then started
again. Afterwards every notice arrived at least once (none lost), every repeat carries the Message-ID of its first
copy (mail clients collapse it), every notice is recorded as sent, and every repeat is on record.

The workers are separate processes, so they need the test database on PostgreSQL (SQLite's in-memory test database
is private to this process). The test stands in for beat: once the kills are over it runs the re-queue job until
every notice is sent. Its claims last a few seconds instead of minutes, so a killed worker's notice is sent again
within the test's time; everything else is the engine as it runs in production."""

import asyncio
import contextlib
import datetime
import email
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection
from django.utils import timezone

from isms.maintenance.notices import Slot
from isms.notices import engine
from isms.notices.models import Notice
from tests.conftest import skip_or_fail
from tests.factories import make_schedule
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

NOTICES = 150
WORKERS = 2
MAX_KILLS = 10
KILL_EVERY = (2.0, 3.0)  # seconds, drawn at random (seeded) for each kill
KILL_PHASE = 35.0  # seconds at most; the kills stop earlier once every notice is sent
SMTP_DELAY = 0.15  # the mail server takes the email, then answers "250" this much later
CLAIM_SECONDS = 4.0  # the workers' claim (production: engine.CLAIM, minutes)
TITLE = re.compile(r"Chaos notice (\d+)")


@dataclass
class Delivery:
    message_id: str
    number: int


@dataclass
class MailSink:
    """A mail server on a loopback port that keeps every email it takes (it has it before it answers)."""

    delay: float
    deliveries: list[Delivery] = field(default_factory=list)
    sending: int = 0  # emails taken and not answered yet: a kill now is a kill in the gap

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.original_content or envelope.content)
        found = TITLE.search(" ".join(str(message["Subject"]).split()))
        self.deliveries.append(Delivery(message["Message-ID"], int(found.group(1)) if found else -1))
        self.sending += 1
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.sending -= 1
        return "250 Message accepted for delivery"


class LoopbackController(Controller):
    """aiosmtpd's controller on a port the system picks (bound before it starts, so no other test can take it)."""

    def __init__(self, handler):
        self._socket = socket.create_server(("127.0.0.1", 0))
        super().__init__(handler, hostname="127.0.0.1", port=self._socket.getsockname()[1])

    def _create_server(self):
        return self.loop.create_server(self._factory_invoker, sock=self._socket)


def chaos_worker() -> None:
    """A worker process's entry point (`python -c`, after django.setup()): the test's mail server, Redis key prefix
    and short claim, then a real Celery worker that notes when it is ready."""
    from celery import signals

    from isms.celery import app

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = int(os.environ["CHAOS_SMTP_PORT"])
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    engine.CLAIM = datetime.timedelta(seconds=CLAIM_SECONDS)
    app.conf.broker_url = os.environ["REDIS_URL"]
    app.conf.broker_transport_options = {"visibility_timeout": 3600, "global_keyprefix": os.environ["CHAOS_PREFIX"]}
    ready = Path(os.environ["CHAOS_READY_FILE"])
    signals.worker_ready.connect(lambda **kwargs: ready.write_text(str(os.getpid())), weak=False)
    app.worker_main(
        [
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            f"--hostname={os.environ['CHAOS_NAME']}@%h",
        ]
    )


class WorkerProcess:
    """One Celery worker in a process group of its own, killed the way `kill -9 -<pgid>` kills it."""

    BOOT = "import django; django.setup(); from tests.integration.test_notice_chaos import chaos_worker; chaos_worker()"

    def __init__(self, name: str, env: dict, folder: Path):
        self.name, self.env, self.folder = name, env, folder
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def ready_file(self) -> Path:
        return self.folder / f"{self.name}-{self.starts}.ready"

    @property
    def log_file(self) -> Path:
        return self.folder / f"{self.name}.log"

    def start(self) -> None:
        self.starts += 1
        env = {**self.env, "CHAOS_NAME": f"{self.name}-{self.starts}", "CHAOS_READY_FILE": str(self.ready_file)}
        with self.log_file.open("a") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and code
                [sys.executable, "-c", self.BOOT],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self) -> None:
        def ready():
            if self.process.poll() is not None:
                pytest.fail(f"Worker {self.name} exited while starting:\n{self.log_tail()}")
            return self.ready_file.exists()

        wait_for(ready, timeout=60, what=f"worker {self.name} to start (log: {self.log_file})")

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def log_tail(self) -> str:
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-30:])


def soon(condition, *, timeout: float) -> bool:
    """Whether `condition` holds within `timeout` seconds (for a preference, not a requirement)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def database_url() -> str:
    """The test database, as the workers' settings read it from DATABASE_URL."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{quote(db['NAME'], safe='')}"


def test_killed_workers_lose_no_notice_and_every_repeat_has_the_same_message_id(broker, owner, tmp_path, monkeypatch):
    if connection.vendor != "postgresql":
        skip_or_fail(
            "the notice chaos test runs worker processes, which need the test database on PostgreSQL: "
            "set DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres"
        )
    sink = MailSink(delay=SMTP_DELAY)
    controller = LoopbackController(sink)
    controller.start()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": broker.url,
        "CHAOS_PREFIX": broker.prefix,
        "CHAOS_SMTP_PORT": str(controller.port),
    }
    env.pop("CELERY_BROKER_URL", None)
    workers = [WorkerProcess(f"chaos{i}", env, tmp_path) for i in range(WORKERS)]
    try:
        schedule = make_schedule(
            owner, title="Chaos", rrule="FREQ=DAILY", reminder_days=[0], start_date=timezone.localdate()
        )
        occurrences = list(schedule.occurrences.order_by("due_date")[:NOTICES])
        assert len(occurrences) == NOTICES, "a daily schedule makes a task a day up to the horizon"
        for number, occ in enumerate(occurrences):
            occ.title = f"Chaos notice {number}"
        type(occurrences[0]).objects.bulk_update(occurrences, ["title"])
        rows = [
            engine.notice_row(key=f"chaos:{occ.pk}", kind=Slot.ASSIGNED, recipient_id=owner.pk, subject=occ)
            for occ in occurrences
        ]
        assert len(engine.notices_create(rows)) == NOTICES  # written, and queued on Redis as they commit
        chaos = Notice.objects.filter(key__startswith="chaos:")

        def unsent() -> int:
            return chaos.filter(sent_at__isnull=True).count()

        for worker in workers:
            worker.start()
        for worker in workers:
            worker.wait_ready()

        # Kill a worker every 2-3 s (bounded in number and time), preferably while an email waits for its "250".
        rng = random.Random(8)  # noqa: S311 - a fixed, reproducible rhythm
        kills, started = 0, time.monotonic()
        while kills < MAX_KILLS and time.monotonic() - started < KILL_PHASE and unsent():
            victim = workers[kills % WORKERS]
            victim.wait_ready()
            due = time.monotonic() + rng.uniform(*KILL_EVERY)
            wait_for(lambda due=due: time.monotonic() >= due or not unsent(), timeout=10, what="the next kill")
            soon(lambda: sink.sending, timeout=1.0)  # an email waiting for the server's answer, if one comes
            victim.kill()
            kills += 1
            victim.start()

        # The survivors finish; the test runs beat's re-queue job whenever the queue is empty, as beat would each
        # minute: a killed worker's notices come back once their claim is over, and one it had taken from the
        # queue but not yet claimed once it is older than REQUEUE_AFTER (seconds here, minutes in production).
        monkeypatch.setattr(engine, "REQUEUE_AFTER", datetime.timedelta(seconds=2))
        kill_phase = time.monotonic() - started
        client = redis.Redis.from_url(broker.url)
        last_requeue = [0.0]

        def all_sent() -> bool:
            if not unsent():
                return True
            idle = client.llen(f"{broker.prefix}celery") == 0
            if idle and time.monotonic() - last_requeue[0] > 1.0:
                engine.requeue_stale()
                last_requeue[0] = time.monotonic()
            return False

        with contextlib.closing(client):
            try:
                wait_for(all_sent, timeout=60, what="every notice to be sent")
            except pytest.fail.Exception:
                left = [f"{n.key}: {n.delivery()}, claimed until {n.claimed_until}" for n in chaos.filter(sent_at=None)]
                logs = "".join(f"\n--- {w.name}:\n{w.log_tail()}" for w in workers)
                pytest.fail(f"{len(left)} notices never sent (now {timezone.now()}): {left[:5]}{logs}")
        finished = time.monotonic() - started
    finally:
        for worker in workers:
            if worker.process:
                worker.kill()
        controller.stop()

    by_notice: dict[int, list[str]] = {}
    for delivery in sink.deliveries:
        by_notice.setdefault(delivery.number, []).append(delivery.message_id)
    repeats = len(sink.deliveries) - len(by_notice)
    recorded = {n.subject_id: n for n in chaos}
    in_doubt_recorded = sum(n.unconfirmed_sends for n in recorded.values())
    print(
        f"\nnotice chaos: {NOTICES} notices, {len(sink.deliveries)} delivered, {len(by_notice)} unique, "
        f"{repeats} repeats, {kills} kills, {in_doubt_recorded} sends after a hand-over with no answer recorded; "
        f"kills over after {kill_phase:.0f} s, all sent after {finished:.0f} s"
    )
    assert kills >= 3, "the workers were killed often enough to matter"
    # None lost: every notice arrived at least once, and nothing else arrived.
    assert sorted(by_notice) == list(range(NOTICES))
    # Every repeat carries the Message-ID of its first copy; no two notices share one.
    assert all(len(set(ids)) == 1 for ids in by_notice.values()), {n: ids for n, ids in by_notice.items()}
    assert len({ids[0] for ids in by_notice.values()}) == NOTICES
    # The record: every notice sent, and every repeat counted on its notice (a duplicate leaves a trace).
    assert chaos.filter(sent_at__isnull=False).count() == NOTICES
    assert not Notice.objects.in_doubt().exists()
    for number, occ in enumerate(occurrences):
        copies = len(by_notice[number])
        assert copies - 1 <= recorded[occ.pk].unconfirmed_sends, f"notice {number}: {copies} copies"
