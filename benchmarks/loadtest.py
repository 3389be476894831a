"""`make loadtest`: the hot pages served by gunicorn under load, each next to a floor view measured in the same run.

    .venv/bin/python -m benchmarks.loadtest              # DATABASE_URL's server, else local PostgreSQL
    .venv/bin/python -m benchmarks.loadtest --help       # duration, connections, rebuilding the data set

Builds (or reuses) the benchmark's data set in its own PostgreSQL database (`isms_load`; benchmarks/load_data.py),
starts gunicorn with production settings and 3 sync workers on 127.0.0.1 (benchmarks/load_settings.py, which adds
the floor view: benchmarks/load_urls.py), signs in through the login form as a busy compliance manager and as a
control owner, opens a task through its emailed link, and drives each page with wrk at 20 connections for a fixed
time. Per page: latency percentiles and requests per second (wrk), errors, the workers' CPU per request (/proc),
database time per request under load (pg_stat_database.active_time) and alone (in this process, through Django's
test client: queries and their time), HTML size; each as a multiple of the floor. Records a section in
docs/benchmarks.md. A benchmark, not a test: nothing fails on a figure.
"""

import argparse
import datetime
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from . import load_data, load_server

PASSWORD = "load-test-password-2026"  # noqa: S105 - set on the two measured accounts of the throwaway database


@dataclass
class Page:
    key: str
    label: str
    who: str  # "manager", "owner" or "task" (the task link's session)
    path: str = ""
    hot: str = ""  # issue 9's ratio for it: "3" (p50 and CPU within 3x) or "10" (and HTML under 300 KB)
    # In-process, alone (Django's test client): queries, their time, the HTML.
    queries: int | None = None
    db_alone_ms: float | None = None
    alone_ms: float | None = None  # the whole request, in-process
    built_cpu_ms: float | None = None  # CPU of building the page in-process, page cache off (a first view)
    cache: str = ""  # what the server's page cache did with a view after the warm-up: hit, miss or "" (not cached)
    duration: float = 0.0  # seconds of load it got
    html_bytes: int | None = None
    # Under load (wrk and the server).
    wrk: dict = field(default_factory=dict)
    served: int = 0  # requests the workers answered in the window, drained queue included
    server_statuses: dict = field(default_factory=dict)
    cpu_ms: float | None = None
    db_load_ms: float | None = None
    drain_s: float = 0.0
    others_pct: float | None = None  # the machine's CPU used by anything but this run, share of all cores

    @property
    def errors(self) -> int:
        w = self.wrk
        return sum(w.get(k, 0) for k in ("non2xx", "connect", "read", "write", "timeout"))

    def figure(self, name: str) -> float | None:
        w = self.wrk
        values = {
            "p50": w.get("p50", 0) / 1000 if w else None,
            "p95": w.get("p95", 0) / 1000 if w else None,
            "p99": w.get("p99", 0) / 1000 if w else None,
            "rps": w["requests"] / (w["duration_us"] / 1e6) if w and w.get("duration_us") else None,
            "cpu": self.cpu_ms,
            "built_cpu": self.built_cpu_ms,
            "db_load": self.db_load_ms,
            "db_alone": self.db_alone_ms,
            "queries": self.queries,
            "html": self.html_bytes / 1024 if self.html_bytes is not None else None,
        }
        return values[name]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.loadtest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=12, help="seconds of load per page (12)")
    parser.add_argument(
        "--max-duration",
        type=float,
        default=40,
        help="a slow page gets longer, up to this (40 s), to complete about --min-requests requests",
    )
    parser.add_argument("--min-requests", type=int, default=30, help="see --max-duration (30)")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of untimed load before each page (3)")
    parser.add_argument("--connections", type=int, default=20, help="concurrent connections (20)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers (3)")
    parser.add_argument("--timeout", type=int, default=60, help="seconds before wrk gives up on a request (60)")
    parser.add_argument("--runs", type=int, default=3, help="in-process runs per page for queries and DB time (3)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the data set even if it matches")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument("--only", nargs="+", metavar="PAGE", help="measure only these pages (keys; the floor always)")
    parser.add_argument("--seed", type=int, default=27001, help="random seed for the data set (27001)")
    parser.add_argument("--users", type=int, default=200, help="users (200)")
    parser.add_argument("--schedules", type=int, default=2000, help="schedules (2000)")
    parser.add_argument("--evidence-items", type=int, default=200_000, help="evidence items (200000)")
    return parser.parse_args(argv)


def _step(clock: float, message: str) -> None:
    print(f"[{time.perf_counter() - clock:6.1f} s] {message}", flush=True)


def _environment(tmp: Path, config: dict) -> None:
    """Production settings from the environment, for this process and the gunicorn it starts."""
    for name in ("DEBUG", "REDIS_URL", "CELERY_BROKER_URL", "EMAIL_URL", "SECURE_PROXY_SSL_HEADER", "S3_BUCKET"):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "benchmarks.load_settings",
            "DATABASE_URL": load_data.load_url(config),
            "SECRET_KEY": secrets.token_urlsafe(50),  # throwaway: this run's sessions and task links only
            "ALLOWED_HOSTS": "127.0.0.1",
            # Plain http on loopback: no redirect to https, cookies without the Secure flag.
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "STATIC_MANIFEST": "false",  # no collectstatic (35 s of compression); pages load no static file here
            "ISMS_DATA_DIR": str(tmp / "data"),
            "MEDIA_ROOT": str(tmp / "data" / "media"),
            "RATE_LIMIT_REQUESTS": "100000",  # sign-ins and task-link posts of the run are never refused
            "LOG_LEVEL": "WARNING",
        }
    )


def pages(t: load_data.Targets) -> list[Page]:
    from django.urls import reverse

    from .load_urls import FLOOR_PATH

    def floor(when: str) -> Page:
        return Page(f"floor-{when}", f"floor ({when})", "manager", "/" + FLOOR_PATH)

    library = reverse("evidence:index")
    return [
        floor("start"),
        Page("dashboard", "dashboard", "manager", reverse("dashboard"), "3"),
        Page("month", "month view", "manager", reverse("maintenance:month"), "3"),
        Page("mine", "my tasks (busiest owner)", "owner", reverse("maintenance:mine"), "3"),
        Page("library", "evidence library, first page", "manager", library, "3"),
        Page(
            "library-filters",
            "evidence library, control + kind",
            "manager",
            f"{library}?control={t.control.pk}&type=link",
            "3",
        ),
        Page("library-search", "evidence library, search", "manager", f"{library}?q=review", "3"),
        floor("middle"),
        Page(
            "control",
            "control coverage (busiest control)",
            "manager",
            reverse("evidence:control_coverage", args=[t.control.pk]),
            "3",
        ),
        Page(
            "requirement",
            "requirement coverage (most-mapped requirement)",
            "manager",
            reverse("evidence:requirement_coverage", args=[t.requirement.pk]),
            "10",
        ),
        Page("task", "emailed task's page", "task", reverse("maintenance:task_link_task", args=[t.task.pk]), "3"),
        Page("schedules", "schedules list", "manager", reverse("maintenance:schedules")),
        Page("controls", "controls list", "manager", reverse("controls:index")),
        floor("end"),
    ]


def measure_alone(page_list: list[Page], t: load_data.Targets, token: str, runs: int) -> None:
    """Queries, their time and the HTML of each page, in this process through Django's test client (no load)."""
    from django.conf import settings
    from django.test import Client
    from django.urls import reverse

    from .measure import measure

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    # Every request here builds its page (the page cache off): what the first view after a change costs. The
    # server under load keeps its cache on, as in production.
    settings.PAGE_CACHE_SECONDS = 0
    backend = "django.contrib.auth.backends.ModelBackend"
    clients = {"manager": Client(), "owner": Client(), "task": Client()}
    clients["manager"].force_login(t.manager, backend=backend)
    load_data.second_step_passed(clients["manager"], load_data.authenticator_for(t.manager))
    clients["owner"].force_login(t.owner, backend=backend)
    opened = clients["task"].post(reverse("maintenance:task_link"), {"token": token})
    if opened.status_code != 302:
        raise RuntimeError(f"the task link did not open in-process (HTTP {opened.status_code})")
    done: dict[str, Page] = {}
    for page in page_list:
        if page.key.startswith("floor") and "floor" in done:
            page.queries, page.db_alone_ms, page.html_bytes, page.built_cpu_ms = (
                done["floor"].queries,
                done["floor"].db_alone_ms,
                done["floor"].html_bytes,
                done["floor"].built_cpu_ms,
            )
            continue
        client = clients[page.who]

        def get(client=client, path=page.path):
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"{path}: HTTP {response.status_code}")
            return response

        result = measure(page.label, get, runs=runs, warmup=1, memory=False)
        page.queries = max(result.queries)
        page.db_alone_ms = result.median_sql_ms
        page.alone_ms = result.median_ms
        page.html_bytes = len(result.value.content)
        page.built_cpu_ms = built_cpu_ms(get, runs=max(runs, 5))
        done["floor" if page.key.startswith("floor") else page.key] = page


def built_cpu_ms(get, *, runs: int) -> float:
    """CPU of this process per request (median of `runs`): the page built in-process, middleware included."""
    spent = []
    for _ in range(runs):
        start = time.process_time()
        get()
        spent.append((time.process_time() - start) * 1000)
    return statistics.median(spent)


def window(page: Page, args) -> float:
    """--duration, or longer (up to --max-duration) for a page too slow to complete --min-requests in it: its time
    alone, on as many workers as there are cores, tells how long that takes."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    needed = (page.alone_ms or 0) / 1000 * args.min_requests / max(1, min(args.workers, cores))
    return round(min(max(args.duration, needed), max(args.duration, args.max_duration)))


def _ours(server, postmaster: int | None) -> float | None:
    """CPU used so far by this run: gunicorn, this process and its ended children (wrk), and PostgreSQL (all of
    it: the parallel workers a query starts end before they could be told apart)."""
    postgres = load_server.postgres_cpu_seconds(postmaster)
    if postgres is None:
        return None
    return server.cpu_seconds() + server.master_cpu_seconds() + load_server.own_cpu_seconds() + postgres


# --- the database's own clock ---------------------------------------------------------------------------------------


def db_active_ms(conn) -> float | None:
    """isms_load's active_time (ms spent executing statements, PostgreSQL 14+), after ending its connections so
    that every backend's pending statistics are written (the web workers reconnect on their next request)."""
    conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        [load_data.LOAD_DB],
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        left = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [load_data.LOAD_DB])
        if left.fetchone()[0] == 0:
            break
        time.sleep(0.1)
    time.sleep(0.2)
    conn.execute("SELECT pg_stat_clear_snapshot()")
    try:
        row = conn.execute(
            "SELECT active_time FROM pg_stat_database WHERE datname = %s", [load_data.LOAD_DB]
        ).fetchone()
    except Exception:  # noqa: BLE001 - before PostgreSQL 14 there is no active_time
        return None
    return float(row[0]) if row and row[0] is not None else None


# --- the run ------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wrk = load_server.ensure_wrk()
    config = load_data.server_config()
    started = datetime.datetime.now(datetime.UTC)
    clock = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="isms-loadtest-"))
    try:
        with load_data.maintenance_connection(config) as conn:
            return _run(args, wrk, config, conn, tmp, started, clock)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(args, wrk, config, conn, tmp: Path, started, clock) -> int:
    load_start = os.getloadavg()
    wanted = load_data.wanted_spec(args)
    spec = load_data.recorded(conn)
    reuse = not args.rebuild and spec is not None and all(spec.get(k) == v for k, v in wanted.items())
    if not reuse:
        _step(clock, f"Creating database {load_data.LOAD_DB} (dropped first if it was there)")
        load_data.recreate(conn)
    _environment(tmp, config)
    warnings.filterwarnings("ignore", message="No directory at")  # no collectstatic: STATIC_ROOT may not exist

    import django

    django.setup()

    from django.core.management import call_command
    from django.db import connection
    from django.urls import reverse

    from isms.maintenance import links

    call_command("migrate", verbosity=0, interactive=False)
    if reuse:
        age = load_data.built_age_days(spec)
        _step(
            clock, f"Reusing {load_data.LOAD_DB}, built {spec.get('built_on')} ({age} days ago; --rebuild to rebuild)"
        )
    else:
        _step(clock, "Building the data set (about two minutes)")
        spec = load_data.build(args)
        load_data.record(conn, spec)
        _step(clock, f"Built in {spec['build_seconds']:.0f} s")
    major, minor = divmod(connection.pg_version, 10000)
    pg_label = f"PostgreSQL {major}.{minor}"
    targets = load_data.pick_targets()
    load_data.set_password([targets.manager, targets.owner], PASSWORD)
    # Production asks the compliance team for a second step: the manager signs in with an authenticator's code.
    authenticator = load_data.authenticator_for(targets.manager)
    codes = {targets.manager.username: lambda: load_data.current_code(authenticator)}
    token = links.make_token(targets.task)
    page_list = pages(targets)
    if args.only:
        page_list = [p for p in page_list if p.key.startswith("floor") or p.key in args.only]
    _step(clock, f"Targets: {targets.describe()}")

    _step(clock, f"Measuring queries and database time in-process ({args.runs} runs a page)")
    measure_alone(page_list, targets, token, args.runs)
    connection.close()

    server = load_server.start_gunicorn(dict(os.environ), tmp, workers=args.workers)
    _step(clock, f"gunicorn on {server.base}, workers {server.workers}")
    script = tmp / "count.lua"
    postmaster = load_server.postmaster_of(conn.execute("SELECT pg_backend_pid()").fetchone()[0])
    try:
        login, code_path = reverse("login"), reverse("mfa_verify")

        def sign_in(user):
            return load_server.sign_in(
                server.base, login, user.username, PASSWORD, code_path=code_path, code=codes.get(user.username)
            )

        browsers = {
            "manager": sign_in(targets.manager),
            "owner": sign_in(targets.owner),
            "task": load_server.open_task_link(
                server.base,
                reverse("maintenance:task_link"),
                token,
                reverse("maintenance:task_link_task", args=[targets.task.pk]),
            ),
        }
        for page in page_list:
            browser = browsers[page.who]
            status, _, body = browser.get(page.path, follow=False)
            if status in (301, 302) and page.who != "task":  # a session ended (idle or absolute limit): sign in again
                user = targets.manager if page.who == "manager" else targets.owner
                browsers[page.who] = browser = sign_in(user)
                status, _, body = browser.get(page.path, follow=False)
            if status != 200:
                raise RuntimeError(f"{page.label} ({page.path}) answers HTTP {status} before the load")
            cookie = browser.cookie_header()
            url = server.base + page.path
            load_server.run_wrk(
                wrk,
                url,
                cookie,
                duration=args.warmup,
                connections=args.connections,
                threads=args.threads,
                timeout=args.timeout,
                script=script,
            )
            server.wait_idle()
            browser.get(page.path, follow=False)  # after the warm-up: does the server keep this page?
            page.cache = browser.last_headers.get("X-Page-Cache", "")
            db_before = db_active_ms(conn)  # also ends isms_load's connections: their CPU starts from 0 below
            cpu_before, (served_before, statuses_before) = server.cpu_seconds(), server.access_count()
            busy_before, ours_before = load_server.machine_busy_seconds(), _ours(server, postmaster)
            window_began = time.monotonic()
            page.duration = window(page, args)
            page.wrk = load_server.run_wrk(
                wrk,
                url,
                cookie,
                duration=page.duration,
                connections=args.connections,
                threads=args.threads,
                timeout=args.timeout,
                script=script,
            )
            page.drain_s = server.wait_idle()
            cpu_after, (served_after, statuses_after) = server.cpu_seconds(), server.access_count()
            ours_after = _ours(server, postmaster)
            if ours_before is not None and ours_after is not None:
                others = load_server.machine_busy_seconds() - busy_before - (ours_after - ours_before)
                cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
                page.others_pct = max(0.0, others) * 100 / ((time.monotonic() - window_began) * cores)
            db_after = db_active_ms(conn)
            page.served = served_after - served_before
            page.server_statuses = {
                k: v - statuses_before.get(k, 0) for k, v in statuses_after.items() if v - statuses_before.get(k, 0)
            }
            if page.served:
                page.cpu_ms = (cpu_after - cpu_before) * 1000 / page.served
                if db_before is not None and db_after is not None:
                    page.db_load_ms = (db_after - db_before) / page.served
            if server.worker_pids() != server.workers:
                raise RuntimeError(f"a gunicorn worker was replaced during {page.label}; see {server.log}")
            _step(
                clock,
                f"{page.label}: {page.wrk['requests']:,} requests, p50 {page.figure('p50'):,.0f} ms, "
                f"{page.figure('rps'):,.1f}/s, CPU {page.cpu_ms or 0:,.1f} ms/req, errors {page.errors}, "
                f"others used {page.others_pct or 0:.0f}% of the CPU",
            )
    finally:
        load_server.stop_gunicorn(server)
    load_end = os.getloadavg()
    took = time.perf_counter() - clock
    _step(clock, "Done")

    from . import load_report

    section = load_report.section(
        page_list,
        started=started,
        took_s=took,
        pg_label=pg_label,
        spec=spec,
        reused=reuse,
        targets=targets,
        args=args,
        wrk_version=load_server.wrk_version(wrk),
        load=(load_start, load_end),
    )
    print()
    print(section)
    if not args.no_docs and not args.only:
        path = load_report.record(section, started.date())
        print(f"Recorded in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
