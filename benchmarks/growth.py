"""`make bench-growth`: how the notice scan, the month view and the evidence library grow with the data.

    .venv/bin/python -m benchmarks.growth                          # 10,000, 100,000 and 1,000,000
    .venv/bin/python -m benchmarks.growth --sizes 10000 100000     # other sizes
    .venv/bin/python -m benchmarks.growth --help                   # runs, seed, rebuilding, dropping

For each size N, the load test's data set (benchmarks/load_data.py) is built with about N occurrences (the
schedules scaled: ~48 occurrences each, three years back and the 13-month horizon ahead) and N evidence items, in
a PostgreSQL database of its own (`isms_growth_10k`, `isms_growth_100k`, `isms_growth_1m` on DATABASE_URL's server,
default local), smallest first; a database whose recorded spec (its comment) matches is reused. The people (200
users), the catalogues (300 requirements) and the 500 controls stay the same at every size, so what grows is the
rows alone. Each size is measured in a process of its own, in-process through Django's test client with production
settings and the page cache off (PAGE_CACHE_SECONDS=0): the notice scan in its steady state (a run with nothing new
to send), the month view as the busiest compliance manager, and the evidence library (first page; control + kind;
a search) — CPU and wall time per request (median), the queries and their time, and EXPLAIN (ANALYZE, BUFFERS) of
each measurement's slowest query. Writes a "Growth" section in docs/benchmarks.md: each figure at each size, its
ratio from one size to the next, and whether it grows flat, logarithmically or linearly. A benchmark, not a test.
"""

import argparse
import datetime
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from . import load_data

DEFAULT_SIZES = [10_000, 100_000, 1_000_000]
#: Occurrences one schedule makes in the data set (96,806 from 2,000 schedules): the schedules for a size.
OCCURRENCES_PER_SCHEDULE = 48.4


def label(size: int) -> str:
    if size % 1_000_000 == 0:
        return f"{size // 1_000_000}m"
    if size % 1_000 == 0:
        return f"{size // 1_000}k"
    return str(size)


def db_name(size: int) -> str:
    return f"isms_growth_{label(size)}"


def spec_args(size: int, seed: int) -> argparse.Namespace:
    """The load test's builder arguments for a size: N occurrences (through the schedules) and N evidence items."""
    schedules = max(20, round(size / OCCURRENCES_PER_SCHEDULE))
    return argparse.Namespace(seed=seed, users=200, schedules=schedules, evidence_items=size)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.growth", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=DEFAULT_SIZES, help="occurrences and evidence items")
    parser.add_argument("--runs", type=int, default=11, help="timed runs per measurement, after two untimed (11)")
    parser.add_argument("--seed", type=int, default=27001, help="random seed for the data sets (27001)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the data sets even if they match")
    parser.add_argument("--drop", action="store_true", help="drop each size's database once it is measured")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument("--plans", action="store_true", help="print each measurement's query plan at every size")
    parser.add_argument("--save", type=Path, metavar="FILE", help="also write every figure and plan to FILE (JSON)")
    parser.add_argument(
        "--report", type=Path, metavar="FILE", help="measure nothing: write the section from a --save FILE"
    )
    parser.add_argument(
        "--pause-while",
        type=Path,
        metavar="FILE",
        help="before each build and each size's measurement, wait while FILE exists (a shared machine)",
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: measure one size in this process
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _step(clock: float, message: str) -> None:
    print(f"[{time.perf_counter() - clock:7.1f} s] {message}", flush=True)


def wait_quiet(args: argparse.Namespace, clock: float) -> None:
    """On a shared machine: wait while --pause-while's file exists (someone else is measuring)."""
    if args.pause_while and args.pause_while.exists():
        _step(clock, f"{args.pause_while} exists: waiting")
        while args.pause_while.exists():
            time.sleep(20)


# --- one size, in a process of its own ------------------------------------------------------------------------


def _environment(tmp: Path, config: dict, name: str) -> None:
    from . import loadtest

    loadtest._environment(tmp, config)  # production settings, as the load test and profile_page use them
    os.environ["DATABASE_URL"] = load_data.load_url(config, name)
    os.environ["PAGE_CACHE_SECONDS"] = "0"  # measure building each page, not reading it back


def explain(sql: str) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) of a captured SELECT: its plan, execution time and the pages it touched."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        lines = [row[0] for row in cursor.fetchall()]
    buffers = next((line for line in lines if "Buffers:" in line), "")
    pages = sum(int(n) for n in re.findall(r"(?:hit|read)=(\d+)", buffers.split("temp")[0]))
    execution = next((float(m.group(1)) for line in lines if (m := re.search(r"Execution Time: ([\d.]+)", line))), 0)
    return {"plan": "\n".join(lines), "ms": execution, "buffers": pages}


class _Timer:
    """A connection.execute_wrapper: each statement's SQL and time in execute() (rows fetched included)."""

    def __init__(self):
        self.statements: list[tuple[str, object, float]] = []

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append((sql, params, (time.perf_counter() - start) * 1000))


def timed(fn, runs: int) -> dict:
    """CPU (this process: Python and the driver) and wall time per call, median of `runs` after two untimed calls;
    the queries of the last run, each SELECT of it run again under EXPLAIN (ANALYZE, BUFFERS), slowest first."""
    from django.db import connection

    for _ in range(2):
        fn()
    cpu, wall, db, counts = [], [], [], []
    timer = _Timer()
    for _ in range(runs):
        timer = _Timer()
        with connection.execute_wrapper(timer):
            c0, w0 = time.process_time(), time.perf_counter()
            value = fn()
            cpu.append((time.process_time() - c0) * 1000)
            wall.append((time.perf_counter() - w0) * 1000)
        db.append(sum(ms for _, _, ms in timer.statements))
        counts.append(len(timer.statements))
    explained = []
    for sql, params, ms in timer.statements:
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        literal = connection.ops.compose_sql(sql, params) if params else sql
        plan = explain(literal)
        explained.append({**plan, "sql": literal, "in_request_ms": ms})
    explained.sort(key=lambda e: e["ms"], reverse=True)
    return {
        "cpu_ms": statistics.median(cpu),
        "wall_ms": statistics.median(wall),
        "db_ms": statistics.median(db),
        "queries": max(counts),
        "queries_min": min(counts),
        "value": value,
        "slowest": explained[0] if explained else None,  # by EXPLAIN ANALYZE's execution time
        "explained": explained,
    }


def measure_one(args: argparse.Namespace) -> dict:
    size = args.one
    name = db_name(size)
    clock = time.perf_counter()
    config = load_data.server_config()
    wanted_args = spec_args(size, args.seed)
    wanted = load_data.wanted_spec(wanted_args)
    tmp = Path(tempfile.mkdtemp(prefix="isms-growth-"))
    try:
        with load_data.maintenance_connection(config) as conn:
            spec = load_data.recorded(conn, name)
            reuse = not args.rebuild and spec is not None and all(spec.get(k) == v for k, v in wanted.items())
            if not reuse:
                wait_quiet(args, clock)
                _step(clock, f"Creating {name} (dropped first if it was there)")
                load_data.recreate(conn, name)
            _environment(tmp, config, name)
            warnings.filterwarnings("ignore", message="No directory at")

            import django

            django.setup()

            from django.core.management import call_command

            call_command("migrate", verbosity=0, interactive=False)
            if reuse:
                _step(clock, f"Reusing {name}, built {spec.get('built_on')} in {spec.get('build_seconds')} s")
            else:
                _step(clock, f"Building {name}: {wanted_args.schedules:,} schedules, {size:,} evidence items")
                spec = load_data.build(wanted_args)
                load_data.record(conn, spec, name)
                _step(clock, f"Built in {spec['build_seconds']:.0f} s")
            result = _measure(args, spec, reuse, name, clock)
            size_row = conn.execute("SELECT pg_database_size(%s)", [name]).fetchone()
            result["db_bytes"] = size_row[0] if size_row else None
            return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _measure(args, spec: dict, reused: bool, name: str, clock: float) -> dict:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from evidence.models import EvidenceItem
    from isms.maintenance import notices
    from isms.maintenance.models import Occurrence
    from isms.notices.models import Notice

    from .scenarios import collected_enqueue

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    targets = load_data.pick_targets()
    today = timezone.localdate()
    now = timezone.now()
    counts = {
        "occurrences": Occurrence.objects.count(),
        "open": Occurrence.objects.open().count(),
        "evidence": EvidenceItem.objects.count(),
        "notices": Notice.objects.count(),
    }
    wait_quiet(args, clock)
    _step(clock, f"Measuring {name}: {counts}")
    out: dict = {"size": args.one, "db": name, "spec": spec, "reused": reused, "counts": counts, "today": str(today)}
    major, minor = divmod(connection.pg_version, 10000)
    out["pg"] = f"PostgreSQL {major}.{minor}"
    out["targets"] = {"manager": targets.manager.username, "control": targets.control.reference}
    out["targets"]["control_activities"] = targets.control_activities

    with collected_enqueue() as queued:
        # Bring the data set to the steady state: the catch-up run (a fresh build's first scan), then every notice
        # it queued counts as delivered, as the worker would have done before the next run a minute later.
        catch_up = notices.scan(today=today, now=now)
        Notice.objects.filter(sent_at__isnull=True).update(sent_at=now, attempts=1)
        queued.clear()
        scan = timed(lambda: notices.scan(today=today, now=now), args.runs)
        scan["value"] = {"missed": scan["value"]["missed"], "queued": len(queued), "catch_up": catch_up}
    out["scan"] = scan
    _step(clock, f"scan: {scan['wall_ms']:.0f} ms wall, {scan['queries']} queries")

    library = reverse("evidence:index")
    pages = [
        ("month", reverse("maintenance:month")),
        ("library", library),
        ("library-filters", f"{library}?control={targets.control.pk}&type=link"),
        ("library-search", f"{library}?q=review"),
    ]
    client = Client()
    client.force_login(targets.manager, backend="django.contrib.auth.backends.ModelBackend")
    # Production asks the compliance team for the second sign-in step: this session has passed it.
    load_data.second_step_passed(client, load_data.authenticator_for(targets.manager))
    for key, path in pages:

        def get(path=path):
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"{path}: HTTP {response.status_code}")
            return response

        page = timed(get, args.runs)
        response = page.pop("value")
        page["html_kb"] = len(response.content) / 1024
        page["path"] = path
        out[key] = page
        _step(clock, f"{key}: CPU {page['cpu_ms']:.0f} ms, wall {page['wall_ms']:.0f} ms, {page['queries']} queries")
    connection.close()
    return out


# --- the run: each size in turn, then the report --------------------------------------------------------------


def drop(conn, name: str) -> None:
    from psycopg import sql

    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.one:
        result = measure_one(args)
        args.json.write_text(json.dumps(result, default=str))
        return 0
    if args.report:
        saved = json.loads(args.report.read_text())
        meta = saved["meta"]
        args.runs = meta["runs"]
        return _write(
            saved["results"],
            args,
            started=datetime.datetime.fromisoformat(meta["started"]),
            took=meta["took_s"],
            load=(meta["load_start"], meta["load_end"]),
        )
    started = datetime.datetime.now(datetime.UTC)
    clock = time.perf_counter()
    load_start = os.getloadavg()
    config = load_data.server_config()
    results = []
    with tempfile.TemporaryDirectory(prefix="isms-growth-") as tmp:
        for size in sorted(args.sizes):
            wait_quiet(args, clock)
            out = Path(tmp) / f"{size}.json"
            command = [sys.executable, "-m", "benchmarks.growth", "--one", str(size), "--json", str(out)]
            command += ["--runs", str(args.runs), "--seed", str(args.seed)] + (["--rebuild"] if args.rebuild else [])
            command += ["--pause-while", str(args.pause_while)] if args.pause_while else []
            _step(clock, f"Size {size:,} ({db_name(size)})")
            subprocess.run(command, check=True)
            results.append(json.loads(out.read_text()))
            if args.drop:
                with load_data.maintenance_connection(config) as conn:
                    drop(conn, db_name(size))
    took = time.perf_counter() - clock
    load_end = os.getloadavg()
    if args.save:
        meta = {"started": started.isoformat(), "took_s": took, "load_start": load_start, "load_end": load_end}
        args.save.write_text(json.dumps({"meta": {**meta, "runs": args.runs}, "results": results}, indent=1))
    return _write(results, args, started=started, took=took, load=(load_start, load_end))


def _write(results: list[dict], args: argparse.Namespace, *, started, took: float, load) -> int:
    from . import growth_report

    section = growth_report.section(results, started=started, took_s=took, load=load, args=args)
    print()
    print(section)
    if args.plans:
        print(growth_report.plans(results))
    if not args.no_docs:
        path = growth_report.record(section, started.date())
        print(f"Recorded in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
