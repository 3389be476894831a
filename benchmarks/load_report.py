"""The load test's section in docs/benchmarks.md: the machine, the server and the load, then one row per page with
each figure and its multiple of the floor (the median of the floor measured at the start, middle and end).
Placed by benchmarks/report.py like every benchmark section (one per run date and kind, newest first)."""

import datetime
import statistics
from pathlib import Path

from . import report

ENGINE_KEY = "load-postgresql"
NO_RATIO = {"html"}  # the floor answers a few bytes of text: a multiple of it says nothing
FIGURES = ["p50", "p95", "p99", "rps", "cpu", "built_cpu", "db_load", "db_alone", "queries", "html"]
HEADERS = [
    "page",
    "page cache",
    "requests",
    "errors",
    "others' CPU",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "req/s",
    "worker CPU ms/req",
    "CPU ms to build it, alone",
    "DB ms/req under load",
    "DB ms/req alone",
    "queries",
    "HTML KB",
]


def _number(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}" if value >= 1 else f"{value:,.2f}"


def _ratio(value: float | None, floor: float | None) -> str:
    if value is None or not floor:
        return ""
    r = value / floor
    if r < 1:  # requests per second: a fraction of the floor's
        return f"1/{1 / r:,.0f}" if r <= 0.1 else f"1/{1 / r:,.1f}"
    return f"×{r:,.0f}" if r >= 10 else f"×{r:,.1f}"


def floor_medians(pages) -> dict[str, float | None]:
    floors = [p for p in pages if p.key.startswith("floor")]
    out = {}
    for name in FIGURES:
        values = [p.figure(name) for p in floors if p.figure(name) is not None]
        out[name] = statistics.median(values) if values else None
    return out


def _row(page, floor: dict, *, is_floor: bool) -> list[str]:
    others = "–" if page.others_pct is None else f"{page.others_pct:.0f}%"
    cache = {"hit": "served", "miss": "kept, not served", "": "–"}.get(page.cache, page.cache)
    cells = [page.label, cache, f"{page.wrk.get('requests', 0):,}", f"{page.errors:,}", others]
    for name in FIGURES:
        value = page.figure(name)
        if name == "html" and is_floor and page.html_bytes is not None:
            cells.append(f"{page.html_bytes} bytes")
            continue
        text = f"{value:,}" if name == "queries" and value is not None else _number(value)
        if not is_floor and value is not None and name not in NO_RATIO:
            text += f" ({_ratio(value, floor[name])})"
        cells.append(text)
    return cells


def table(pages) -> str:
    floor = floor_medians(pages)
    lines = ["| " + " | ".join(HEADERS) + " |", "|---" + "|--:" * (len(HEADERS) - 1) + "|"]
    for page in pages:
        label_row = _row(page, floor, is_floor=page.key.startswith("floor"))
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in label_row) + " |")
    median = ["**floor, median of the three**", "", "", "", ""] + [
        "" if n in NO_RATIO or floor[n] is None else f"**{f'{floor[n]:,g}' if n == 'queries' else _number(floor[n])}**"
        for n in FIGURES
    ]
    lines.append("| " + " | ".join(median) + " |")
    return "\n".join(lines)


def verdicts(pages) -> list[str]:
    """Issue 9's ratios, read off this run: hot pages within 3× of the floor (p50 and worker CPU), the
    requirement's coverage within 10× and under 300 KB."""
    floor = floor_medians(pages)
    within, over = [], []
    for page in pages:
        if not page.hot or not page.wrk:
            continue
        limit = float(page.hot)
        p50, cpu = page.figure("p50"), page.figure("cpu")
        r50 = p50 / floor["p50"] if p50 is not None and floor["p50"] else None
        rcpu = cpu / floor["cpu"] if cpu is not None and floor["cpu"] else None
        problems = []
        if r50 is None or r50 > limit:
            problems.append(f"p50 {_ratio(p50, floor['p50']) or '?'}")
        if rcpu is None or rcpu > limit:
            problems.append(f"CPU {_ratio(cpu, floor['cpu']) or '?'}")
        if page.hot == "10" and (page.html_bytes or 0) > 300 * 1024:
            problems.append(f"{page.html_bytes / 1024:,.0f} KB of HTML")
        if page.errors:
            problems.append(f"{page.errors} errors")
        (over if problems else within).append(
            f"{page.label} ({', '.join(problems)}, limit ×{page.hot:s})" if problems else page.label
        )
    lines = []
    lines.append(
        "Issue 9's ratios (p50 and worker CPU within ×3 of the floor, requirement coverage ×10 and under "
        f"300 KB): within — {'; '.join(within) or 'none'}."
    )
    lines.append(f"Over: {'; '.join(over) or 'none'}.")
    built = [
        f"{page.label} {_ratio(page.built_cpu_ms, floor['built_cpu'])}"
        for page in pages
        if page.hot and page.built_cpu_ms is not None and floor["built_cpu"]
    ]
    if built:
        lines.append(
            "The first view after a change (the page built, in-process, CPU as a multiple of the floor's): "
            + "; ".join(built)
            + "."
        )
    return lines


def section(pages, *, started, took_s, pg_label, spec, reused, targets, args, wrk_version, load) -> str:
    import gunicorn

    start, end = load
    box = report.machine(
        f"{pg_label}, database `isms_load` (CONN_MAX_AGE 60, health checks)",
        f"{start[0]:.2f} / {start[1]:.2f} / {start[2]:.2f} (1, 5, 15 min) at the start, "
        f"{end[0]:.2f} / {end[1]:.2f} / {end[2]:.2f} at the end",
    )
    built = (
        f"reused, built {spec.get('built_on')}"
        if reused
        else f"built for this run in {spec.get('build_seconds', 0):.0f} s"
    )
    slow = [f"{p.label} {p.duration:g} s" for p in pages if p.duration > args.duration]
    longer = (
        f"longer for a page too slow to complete about {args.min_requests} requests in that: " + ", ".join(slow)
        if slow
        else "none needed longer"
    )
    served = sum(p.served for p in pages)
    drained = max((p.drain_s for p in pages), default=0)
    parts = [
        f"<!-- bench:run {ENGINE_KEY} -->",
        f"### Load — {pg_label}, gunicorn and wrk — {started:%H:%M} UTC, {took_s / 60:.1f} min in all",
        "",
        f"**Machine:** {box.describe()}.",
        "",
        f"**Server:** gunicorn {gunicorn.__version__} (`deploy/gunicorn.conf.py`: its access log and logger), "
        f"{args.workers} sync workers on 127.0.0.1, `benchmarks/load_settings.py` = production settings (DEBUG off, "
        "a throwaway SECRET_KEY, ALLOWED_HOSTS=127.0.0.1; plain http on loopback, so SECURE_SSL_REDIRECT and the "
        "cookies' Secure flag off; STATIC_MANIFEST off, no collectstatic; REDIS_URL unset, so each worker caches in "
        "its own memory, its rate-limit counts and its copies of pages (the page cache, "
        "`isms/foundation/pagecache.py`: a page is kept until any write is committed, another day comes, or "
        "`PAGE_CACHE_SECONDS` — 600 — pass; the data version it is keyed on is read from the database on every "
        "request); RATE_LIMIT_REQUESTS raised to 100,000) with the floor view added in `benchmarks/load_urls.py`.",
        "",
        f"**Load:** wrk {wrk_version}, {args.connections} connections on {args.threads} threads, "
        f"{args.duration:g} s per page ({longer}) after {args.warmup:g} s of untimed warm-up, wrk's timeout "
        f"{args.timeout} s; "
        "signed in through the login form (compliance manager, control owner), the task page through its emailed "
        "link (the token posted to the task-link page, then the task page in that session).",
        "",
        f"**Data set** (`isms_load`, seed {spec.get('seed')}, {built}): {spec.get('description')}. "
        f"Measured on: {targets.describe()}.",
        "",
        table(pages),
        "",
    ]
    floor_bytes = next((p.html_bytes for p in pages if p.key.startswith("floor")), "a few")
    notes = [
        "Each cell: the figure, then (×n) its multiple of the floor's median (the floor view: the same middleware "
        f"and login, one ORM query, a response of {floor_bytes} bytes); for *req/s* (1/n), n times fewer than the "
        "floor's; *HTML KB* has no multiple. *requests*, *p50/p95/p99* and *req/s*: wrk, over the "
        "timed window (a request still waiting when the window closes is not in them; slow pages complete few). "
        "*errors*: non-2xx answers and socket errors (connect, read, write, timeout) seen by wrk.",
        "*others' CPU*: what the machine's cores spent on anything but this run (its gunicorn, wrk, this process "
        "and PostgreSQL — all of PostgreSQL, since the parallel workers a query starts end before they can be told "
        "apart; so other sessions' database work is not in it) from the start of the page's window until its "
        "workers fell idle, as a share of all cores (/proc/stat): other work on a shared machine, which slows the "
        "page's latencies. – when PostgreSQL does not run on this machine.",
        "*worker CPU ms/req*: user + system time of the gunicorn workers (/proc/<pid>/stat) from just before the "
        "window to when the workers fell idle after it, divided by the requests they answered in that time (their "
        f"access log: {served:,} in all, including the queue that drained after wrk stopped, at most "
        f"{drained:.0f} s).",
        "*page cache*: what the server's page cache did with one more view of the page after the warm-up "
        "(*served*: the view came from the cache, as every view under load does until data changes; – the page is "
        "not cached: it is built on every request). Nothing is written during the load, so each worker builds a "
        "cached page once and serves it after; the first view after any change costs the *CPU ms to build it*.",
        "*CPU ms to build it, alone*: this process's CPU per request (median of at least 5) for the page built "
        "in-process through Django's test client with the page cache off, middleware included: what a view costs "
        "the first time after a change (a task completed, evidence added), the cache's cold cost; the floor's own "
        "figure is measured the same way.",
        "*DB ms/req under load*: PostgreSQL's own clock for `isms_load` (pg_stat_database.active_time, time spent "
        "executing statements) over the same span, divided by the same requests; connections are ended before each "
        "reading so that every backend has written its statistics (the workers reconnect on their next request); "
        "it includes waiting for the CPU, which the workers share with PostgreSQL. "
        "*DB ms/req alone*, *queries* and *HTML KB*: the page in this process through Django's test client on the "
        f"same database with nothing else running (median of {args.runs} runs after one; time inside the driver's "
        "execute(), rows fetched included).",
    ]
    mismatched = [p for p in pages if p.server_statuses and set(p.server_statuses) - {"200"}]
    for p in mismatched:
        notes.append(f"{p.label}: the server answered {p.server_statuses}.")
    notes += verdicts(pages)
    notes.append(
        "Timings on a shared 2-core machine vary with whatever else runs (the load average at the start; the one at "
        "the end includes this run's own wrk, gunicorn and PostgreSQL, which keep both cores busy); compare "
        "multiples of the floor taken in the same run rather than milliseconds across runs."
    )
    parts += [f"* {n}" for n in notes]
    return "\n".join(parts).rstrip() + "\n"


def record(text: str, day: datetime.date) -> Path:
    return report.update_docs(text, engine_key=ENGINE_KEY, day=day)
