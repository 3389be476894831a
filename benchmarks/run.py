"""`make bench`: build a large calendar in a database of its own and time the hot paths against it.

    .venv/bin/python -m benchmarks.run                 # SQLite in a temporary directory
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python -m benchmarks.run
                                                       # PostgreSQL: drops and recreates isms_bench there

Prints a table and records it in docs/benchmarks.md (one section per run date, newest first). What the
data set holds: benchmarks/data.py; what is measured: benchmarks/scenarios.py; the evidence part
(`--only evidence` to run it alone): benchmarks/evidence_bench.py; targets: docs/benchmarks.md.
"""

import argparse
import datetime
import os
import random
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--schedules", type=int, default=2000, help="schedules in the large data set (2000)")
    parser.add_argument("--users", type=int, default=200, help="users (200)")
    parser.add_argument("--small-schedules", type=int, default=20, help="schedules in the small data set (20)")
    parser.add_argument("--seed", type=int, default=27001, help="random seed for the data set")
    parser.add_argument("--quick", action="store_true", help="fewer runs (for trying the benchmark out)")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of the scan and month view")
    parser.add_argument(
        "--only",
        choices=["calendar", "evidence", "risks", "audits", "portal"],
        help="run only the calendar, the evidence, the risk register or the audit programme benchmark (default: all)",
    )
    parser.add_argument("--risks", type=int, default=5000, help="risks in the register, risks part (5000)")
    parser.add_argument("--audit-schedules", type=int, default=1000, help="control activities, audits part (1000)")
    parser.add_argument("--audit-occurrences", type=int, default=100_000, help="their tasks, audits part (100000)")
    parser.add_argument("--audit-ncs", type=int, default=500, help="nonconformities, audits part (500)")
    parser.add_argument("--portal-controls", type=int, default=500, help="controls in scope, portal part (500)")
    parser.add_argument("--portal-evidence", type=int, default=50_000, help="evidence items, portal part (50000)")
    parser.add_argument("--evidence-items", type=int, default=200_000, help="evidence items (200000)")
    parser.add_argument(
        "--evidence-schedules", type=int, default=600, help="periodic activities of controls, evidence part (600)"
    )
    parser.add_argument("--upload-mb", type=int, default=200, help="size of the uploaded file, evidence part (200)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (SQLite file)")
    return parser.parse_args(argv)


def configure(tmp: Path) -> dict:
    """tests.settings with the benchmark's own database, locmem email and a temporary data directory."""
    # Before the settings are read: nothing may land in (or be read from) the developer's var/.
    os.environ["ISMS_DATA_DIR"] = str(tmp / "data")
    os.environ["MEDIA_ROOT"] = str(tmp / "data" / "media")
    os.environ["STATIC_MANIFEST"] = "false"
    os.environ["SECURE_SSL_REDIRECT"] = "false"
    os.environ.pop("DEBUG", None)  # production mode, as the tests run: no query log, no debug templates
    os.environ.pop("EMAIL_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"

    from django.conf import settings

    from . import db

    database = db.database_settings(tmp)
    settings.DATABASES = {"default": database}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.DEBUG = False
    if database["ENGINE"] == "django.db.backends.postgresql":
        db.recreate_postgres_database(database)
    return database


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.datetime.now(datetime.UTC)
    clock = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="isms-bench-"))
    try:
        return _run(args, tmp, started, clock)
    finally:
        if args.keep:
            print(f"Kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _step(clock: float, message: str) -> None:
    print(f"[{time.perf_counter() - clock:6.1f} s] {message}", flush=True)


def _run(args: argparse.Namespace, tmp: Path, started: datetime.datetime, clock: float) -> int:
    database = configure(tmp)
    warnings.filterwarnings("ignore", message="No directory at")  # staticfiles/ exists only after collectstatic

    import django

    django.setup()

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from . import data, report, scenarios

    assert settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend"
    postgres = connection.vendor == "postgresql"
    _step(clock, f"Database: {database['NAME']} ({connection.vendor}); migrating")
    call_command("migrate", verbosity=0, interactive=False)
    if postgres:
        major, minor = divmod(connection.pg_version, 10000)
        engine_label = f"PostgreSQL {major}.{minor}"
        db_detail = f"{engine_label}, database `{database['NAME']}` (CONN_MAX_AGE 60, VACUUM ANALYZE after loading)"
    else:
        import sqlite3

        engine_label = f"SQLite {sqlite3.sqlite_version}"
        db_detail = f"{engine_label}, a file in a temporary directory (WAL, as `make run`; not ANALYZEd)"

    runs = scenarios.Runs(scan_first=2, scan_steady=3, pages=3, materialise=1) if args.quick else scenarios.Runs()
    load_at_start = report.load_average()
    rng = random.Random(args.seed)
    today = timezone.localdate()
    now = timezone.now()
    people = data.make_people(rng, users=args.users)
    if args.only in (None, "calendar"):
        _calendar(args, clock, started, today, now, people, rng, postgres, engine_label, db_detail, load_at_start, runs)
    if args.only in (None, "evidence"):
        from . import evidence_bench

        data.wipe_calendar()
        evidence_bench.run(args, tmp, database, clock, today, people, rng, postgres, engine_label, db_detail)
    if args.only in (None, "risks"):
        from . import risks_bench

        risks_bench.run(args, clock, today, people, rng, postgres, engine_label, db_detail)
    if args.only in (None, "audits"):
        from . import audits_bench

        audits_bench.run(args, clock, today, people, rng, postgres, engine_label, db_detail)
    if args.only in (None, "portal"):
        from . import portal_bench

        portal_bench.run(args, clock, today, people, rng, postgres, engine_label, db_detail)
    return 0


def _calendar(args, clock, started, today, now, people, rng, postgres, engine_label, db_detail, load_at_start, runs):
    from django.conf import settings
    from django.db import connection

    from . import data, report, scenarios

    # 1. The small data set: the pages' query counts to compare with the large one.
    small = data.make_calendar(people, schedules=args.small_schedules, today=today, rng=rng)
    _step(clock, f"Small data set: {small.occurrences:,} occurrences; measuring the pages")
    small_pages = scenarios.bench_pages(
        scenarios.pages_for(people, today), runs, suffix=" [small data set]", memory=False
    )
    data.wipe_calendar()

    # 2. The large data set.
    built = time.perf_counter()
    sizes = data.make_calendar(people, schedules=args.schedules, today=today, rng=rng)
    sizes.build_seconds = time.perf_counter() - built
    sizes.users = sum(len(v) for v in people.by_role.values())
    sizes.departments = len(people.departments)
    small.users = sizes.users
    small.departments = sizes.departments
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    _step(clock, f"Large data set built in {sizes.build_seconds:.1f} s: {sizes.describe()}")

    results = []
    _step(clock, "Measuring notices.scan()")
    results += scenarios.bench_scan(today, now, runs)
    _step(clock, "Measuring the pages")
    large_pages = scenarios.bench_pages(scenarios.pages_for(people, today), runs)
    results += large_pages
    _step(clock, "Measuring services.materialise_all()")
    results += scenarios.bench_materialise(today, runs)
    took = time.perf_counter() - clock
    _step(clock, "Done")

    load_at_end = report.load_average()
    load = "" if load_at_start is None else f"{load_at_start:.1f} at the start, {load_at_end:.1f} at the end"
    box = report.machine(db_detail, load)
    constancy = scenarios.query_constancy(small_pages, large_pages)
    print()
    print(f"Machine: {box.describe()}")
    print(f"Data set (built in {sizes.build_seconds:.1f} s): {sizes.describe()}")
    print(f"Small data set: {small.describe()}")
    print()
    print(report.terminal_table(results))
    print()
    print(report.terminal_table(small_pages))
    print()
    for line in constancy:
        print(f"Queries, small → large: {line}")
    missed = [r for r in results if r.met is False]
    for r in missed:
        print(f"TARGET MISSED: {r.name}: {r.median_ms:,.0f} ms (target {r.target_ms:,.0f} ms)")
    for r in results:
        if r.skipped:
            print(f"SKIPPED: {r.name}: {r.skipped}")

    if args.profile:
        print()
        print(scenarios.profile_targets(people, today, now))

    if not args.no_docs and not args.quick:
        notes = [
            f"Today was {today} ({settings.TIME_ZONE}); data set built in {sizes.build_seconds:.1f} s "
            f"(seed {args.seed}).",
            f"Runs: scan first run {runs.scan_first}, steady state {runs.scan_steady}; pages {runs.pages} after "
            f"one warm-up request; materialise_all {runs.materialise}. DB ms: time inside the driver's "
            "execute() (with SQLite, rows fetched later are not in it).",
        ]
        notes += [f"Target missed: {r.name} ({r.median_ms:,.0f} ms)." for r in missed]
        section = report.run_section(
            engine_key="postgresql" if postgres else "sqlite",
            engine_label=engine_label,
            started=started,
            took_s=took,
            box=box,
            data_set=f"{sizes.describe()}",
            small_data_set=small.describe(),
            results=results + small_pages,
            constancy=constancy,
            notes=notes,
        )
        path = report.update_docs(section, engine_key="postgresql" if postgres else "sqlite", day=started.date())
        print(f"\nRecorded in {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")


if __name__ == "__main__":
    sys.exit(main())
