"""The growth benchmark's section in docs/benchmarks.md (benchmarks/growth.py): each figure at each size, its ratio
from one size to the next, and how it grows. Placed by benchmarks/report.py like every benchmark section."""

import datetime
from pathlib import Path

from . import report

ENGINE_KEY = "growth-postgresql"
MEASUREMENTS = [
    ("scan", "notice scan, steady state (`notices.scan()`, nothing new to send)"),
    ("month", "month view, this month (busiest compliance manager)"),
    ("library", "evidence library, first page"),
    ("library-filters", "evidence library, control + kind"),
    ("library-search", "evidence library, search `review`"),
]
FIGURES = [
    ("wall_ms", "wall ms (median)"),
    ("cpu_ms", "CPU ms (median)"),
    ("db_ms", "DB ms (median)"),
    ("queries", "queries"),
    ("slow_ms", "slowest query, EXPLAIN ANALYZE ms"),
    ("slow_buffers", "slowest query, pages touched (8 KB buffers)"),
    ("html_kb", "HTML KB"),
]


def _value(result: dict, key: str, figure: str) -> float | None:
    m = result.get(key) or {}
    if figure == "slow_ms":
        return (m.get("slowest") or {}).get("ms")
    if figure == "slow_buffers":
        return (m.get("slowest") or {}).get("buffers")
    return m.get(figure)


def _number(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}" if value >= 1 else f"{value:,.2f}"


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return "–"
    if a == 0:
        return "=" if b == 0 else "from 0"
    return f"×{b / a:,.1f}" if b / a < 10 else f"×{b / a:,.0f}"


def verdict(values: list[float | None], sizes: list[int]) -> str:
    """How a figure grows over sizes a tenfold apart: flat (at most ×1.25 from the smallest to the largest, or from
    the middle size to the largest: bounded), linear (the second step's increase at least five times the first's:
    the cost per row is constant, so it shows once it outweighs the fixed part), logarithmic (about the same
    increase at each tenfold), or between."""
    if len(values) < 3 or any(v is None for v in values):
        return ""
    if any(b != a * 10 for a, b in zip(sizes, sizes[1:], strict=False)):
        return ""
    v1, v2, v3 = values[0], values[1], values[-1]
    if v3 <= max(v1 * 1.25, v1 + 1):
        return "flat"
    if v3 <= max(v2 * 1.25, v2 + 1):
        return "flat past the middle size (bounded)"
    d1, d2 = v2 - v1, v3 - v2
    per_100k = d2 / (sizes[-1] - sizes[-2]) * 100_000
    if d1 <= 0 or d2 / d1 >= 5:
        return f"linear (+{_number(per_100k)} per 100,000)"
    if d2 / d1 <= 2.5:
        return "logarithmic"
    return f"between (×{d2 / d1:,.1f} the increase)"


def table(results: list[dict]) -> str:
    sizes = [r["size"] for r in results]
    headers = ["measurement", "figure", *[f"{s:,}" for s in sizes]]
    headers += [f"{label(a)} → {label(b)}" for a, b in zip(sizes, sizes[1:], strict=False)] + ["grows"]
    lines = ["| " + " | ".join(headers) + " |", "|---|---" + "|--:" * (len(headers) - 3) + "|---|"]
    for key, name in MEASUREMENTS:
        first = True
        for figure, figure_name in FIGURES:
            values = [_value(r, key, figure) for r in results]
            if all(v is None for v in values):
                continue
            cells = [name if first else "", figure_name]
            cells += [
                f"{v:,}" if figure in ("queries", "slow_buffers") and v is not None else _number(v) for v in values
            ]
            cells += [_ratio(a, b) for a, b in zip(values, values[1:], strict=False)]
            cells.append(verdict(values, sizes))
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
            first = False
    return "\n".join(lines)


def label(size: int) -> str:
    from .growth import label as size_label

    return size_label(size)


def section(results: list[dict], *, started, took_s: float, load, args) -> str:
    start, end = load
    pg = results[-1]["spec"] if results else {}
    box = report.machine(
        f"{results[-1].get('pg', 'PostgreSQL') if results else 'PostgreSQL'}, a database per size: "
        + ", ".join(f"`{r['db']}` ({r['db_bytes'] / 2**30:,.2f} GiB)" for r in results if r.get("db_bytes")),
        f"{start[0]:.2f} at the start, {end[0]:.2f} at the end",
    )
    built = "; ".join(
        f"{r['size']:,}: {'reused, built ' + str(r['spec'].get('built_on')) + ' in' if r['reused'] else 'built in'} "
        f"{r['spec'].get('build_seconds', 0):,.0f} s"
        for r in results
    )
    data_sets = [
        f"* **{r['size']:,}** ({r['db']}, {r['spec'].get('schedules'):,} schedules): {r['spec'].get('description')}. "
        f"Measured as `{r['targets']['manager']}`; control filter on {r['targets']['control']} "
        f"({r['targets']['control_activities']} periodic activities)."
        for r in results
    ]
    scans = "; ".join(
        f"{r['size']:,}: catch-up run marked {r['scan']['value']['catch_up']['missed']:,} missed and queued "
        f"{r['scan']['value']['catch_up']['queued']:,}; timed runs queued {r['scan']['value']['queued']:,}"
        for r in results
    )
    sizes = " / ".join(f"{r['size']:,}" for r in results)
    parts = [
        f"<!-- bench:run {ENGINE_KEY} -->",
        f"### Growth — {results[-1].get('pg', 'PostgreSQL') if results else 'PostgreSQL'}, "
        f"{sizes} occurrences and evidence items — "
        f"{started:%H:%M} UTC, {took_s / 60:.1f} min in all",
        "",
        f"**Machine:** {box.describe()}.",
        "",
        f"**Data sets** (`make bench-growth`, seed {pg.get('seed')}; {built}): the load test's builder with the "
        "schedules scaled so that the occurrences reach the size and as many evidence items; the same 200 users, "
        "300 requirements and 500 controls at every size, so only the rows grow.",
        "",
        *data_sets,
        "",
        table(results),
        "",
        f"* In-process through Django's test client (production settings, DEBUG off, page cache off: "
        f"PAGE_CACHE_SECONDS=0), median of {args.runs} runs after two untimed ones. *CPU ms*: this process "
        "(Python, templates, the driver); *wall ms* adds the database's time; *DB ms*: time inside the driver's "
        "execute(), rows fetched included. *slowest query*: the measurement's slowest SELECT in its last run, "
        "run again under EXPLAIN (ANALYZE, BUFFERS): its execution time and the 8 KB pages it touched (shared hit "
        "+ read) — the figure that says how much of the table a query reads.",
        f"* The scan in its steady state: one untimed catch-up run first (it marks missed tasks and writes what is "
        f"due today; what it queued is then marked delivered), then the timed runs, which find nothing new ({scans}).",
        "* *grows*: flat = at most ×1.25 from the smallest size to the largest (bounded: from the middle size to "
        "the largest); linear = the increase from the "
        "middle size to the largest at least five times the increase before it (a constant cost per row, shown "
        "with its slope once it outweighs the fixed part); logarithmic = about the same increase at each tenfold.",
    ]
    return "\n".join(parts).rstrip() + "\n"


def plans(results: list[dict]) -> str:
    """Every SELECT of each measurement's last run with its plan (EXPLAIN ANALYZE, BUFFERS), slowest first."""
    out = []
    for r in results:
        for key, name in MEASUREMENTS:
            for n, e in enumerate((r.get(key) or {}).get("explained") or []):
                out.append(
                    f"--- {r['size']:,}: {name}, query {n + 1} ({e['ms']:,.1f} ms, {e['buffers']:,} pages)\n"
                    f"{e['sql']}\n{e['plan']}\n"
                )
    return "\n".join(out)


def record(text: str, day: datetime.date) -> Path:
    return report.update_docs(text, engine_key=ENGINE_KEY, day=day)
