"""The results: a table on the terminal, and a section in docs/benchmarks.md.

docs/benchmarks.md keeps its introduction (above the results marker) as people wrote it, then one
section per run date, newest first; inside a date, one subsection per database engine, newest first. A
second run on the same day and engine replaces that day's subsection, so history is kept per day without
piling up reruns.
"""

import datetime
import os
import platform
import re
from dataclasses import dataclass
from pathlib import Path

from .measure import Result

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
RESULTS_MARKER = "<!-- bench:results (generated below this line by `make bench`; one section per run date) -->"
DATE_RE = re.compile(r"^<!-- bench:date (\S+) -->$", re.MULTILINE)
RUN_RE = re.compile(r"^<!-- bench:run (\S+) -->$", re.MULTILINE)

INTRO = """# Benchmarks

`make bench` (`benchmarks/run.py`) builds a large calendar in a database of its own and times the
calendar's hot paths against it. It is a benchmark, not a test: nothing fails, it reports.

* **Database.** With `DATABASE_URL` set (PostgreSQL), it drops and recreates a database named
  `isms_bench` on that server (left in place afterwards, for inspection) and never touches the database
  the URL names; otherwise it uses a SQLite file in a temporary directory. Settings are `tests.settings`
  with that database, locmem email and a temporary data directory: the developer's `var/` is never read
  or written. Migrations run first.
* **Data set.** About 200 users in six departments; 2,000 schedules (weekly, monthly, quarterly, yearly;
  reminders [3, 1], [14, 3, 1] or [30, 14, 3, 1]; 7 days' grace); about 100,000 occurrences from three
  years ago to the 13-month horizon, with realistic states (settled history mostly done on time, some
  late, missed, skipped; recent work overdue or open; the future open) and the notice history the scan
  would have sent for the settled past (all sent). Built with `bulk_create` in well under a minute; see
  `benchmarks/data.py`.
* **Measured** (median of several runs with `time.perf_counter`; queries with `CaptureQueriesContext`;
  peak Python allocation with `tracemalloc` in one extra, untimed run):
  * `notices.scan()` — the first run (it marks missed tasks and writes every notice due today: the
    catch-up after an import or an outage; the state is put back between runs) and the steady state
    (the same scan a minute later, when everything it finds already has its notice). Delivery
    (`isms.notices.engine._enqueue`) is replaced by a collector, so no broker is needed; it reports what was queued.
  * the month view (`maintenance:month`, this month and a month a year ago), the agenda
    (`maintenance:agenda`) and my tasks (`maintenance:mine`) through the Django test client, signed in
    as a compliance manager (my tasks also as the busiest control owner). The same pages are measured on
    a small data set (20 schedules) first, to show the number of queries does not grow with the data.
  * `services.materialise_all()` — the daily job: steady state (nothing to create) and after deleting
    the last month of occurrences (it makes them again).

## Targets

| what | target |
|---|---|
| `notices.scan()` (first run and steady state) | under 5 s |
| month view | under 200 ms, with the same number of queries whatever the number of rows |

## Running it

```sh
make bench                                                              # SQLite
DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres make bench    # PostgreSQL (uses isms_bench)
.venv/bin/python -m benchmarks.run --help                               # smaller data, fewer runs, profiling
```

It takes a few minutes on a 2-core machine. `--profile` adds a cProfile of the scan and the month view.

"""


@dataclass
class Machine:
    cpus: int
    cpu_model: str
    memory_gib: float
    python: str
    django: str
    database: str
    load: str = ""

    def describe(self) -> str:
        return (
            f"{self.cpus} CPUs ({self.cpu_model}), {self.memory_gib:.1f} GiB RAM; "
            f"Python {self.python}, Django {self.django}; {self.database}"
            + (f"; load average {self.load}" if self.load else "")
        )


def load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def machine(database: str, load: str = "") -> Machine:
    import django

    cpu_model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) / 2**20
                break
    except OSError:
        pass
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0
    return Machine(cpus, cpu_model, memory, platform.python_version(), django.get_version(), database, load)


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def _target(result: Result) -> str:
    if result.target_ms is None:
        return ""
    return f"< {result.target_ms / 1000:g} s" if result.target_ms >= 1000 else f"< {result.target_ms:g} ms"


def _verdict(result: Result) -> str:
    met = result.met
    return "" if met is None else ("met" if met else "**missed**")


ROW_HEADERS = ["measurement", "median ms", "runs", "queries", "DB ms", "peak MB", "target", "result", "notes"]


def rows(results: list[Result]) -> list[list[str]]:
    out = []
    for r in results:
        if r.skipped:
            out.append([r.name, "skipped", "", "", "", "", _target(r), "", r.skipped])
            continue
        out.append(
            [
                r.name,
                _ms(r.median_ms),
                str(len(r.runs_ms)),
                r.query_count,
                _ms(r.median_sql_ms),
                "–" if r.peak_mb is None else f"{r.peak_mb:,.1f}",
                _target(r),
                _verdict(r).strip("*"),
                r.note,
            ]
        )
    return out


def terminal_table(results: list[Result]) -> str:
    table = [ROW_HEADERS, *rows(results)]
    widths = [max(len(row[i]) for row in table) for i in range(len(ROW_HEADERS))]
    right = {1, 2, 3, 4, 5}
    lines = []
    for n, row in enumerate(table):
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(results: list[Result]) -> str:
    lines = ["| " + " | ".join(ROW_HEADERS) + " |", "|---|--:|--:|--:|--:|--:|---|---|---|"]
    for r, row in zip(results, rows(results), strict=True):
        row[7] = _verdict(r)
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    return "\n".join(lines)


def run_section(
    *,
    engine_key: str,
    engine_label: str,
    started: datetime.datetime,
    took_s: float,
    box: Machine,
    data_set: str,
    small_data_set: str,
    results: list[Result],
    constancy: list[str],
    notes: list[str],
) -> str:
    parts = [
        f"<!-- bench:run {engine_key} -->",
        f"### {engine_label} — {started:%H:%M} UTC, {took_s / 60:.1f} min in all",
        "",
        f"**Machine:** {box.describe()}.",
        "",
        f"**Data set:** {data_set}.",
        "",
        f"**Small data set** (query counts only): {small_data_set}.",
        "",
        markdown_table(results),
        "",
    ]
    if constancy:
        parts += ["**Queries, small → large data set:** " + "; ".join(constancy) + ".", ""]
    parts += [f"* {n}" for n in notes]
    if notes:
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def _split(text: str) -> tuple[str, list[tuple[str, list[tuple[str, str]]]]]:
    """(intro, [(date, [(engine, block)])]) from an existing docs file."""
    if RESULTS_MARKER not in text:
        return text.rstrip() + "\n\n" if text.strip() else INTRO, []
    intro, results = text.split(RESULTS_MARKER, 1)
    dates = []
    date_marks = list(DATE_RE.finditer(results))
    for i, mark in enumerate(date_marks):
        end = date_marks[i + 1].start() if i + 1 < len(date_marks) else len(results)
        body = results[mark.end() : end]
        runs = []
        run_marks = list(RUN_RE.finditer(body))
        for j, run in enumerate(run_marks):
            run_end = run_marks[j + 1].start() if j + 1 < len(run_marks) else len(body)
            runs.append((run.group(1), body[run.start() : run_end].strip() + "\n"))
        dates.append((mark.group(1), runs))
    return intro, dates


def update_docs(section: str, *, engine_key: str, day: datetime.date, path: Path = DOCS) -> Path:
    text = path.read_text() if path.exists() else ""
    intro, dates = _split(text)
    key = day.isoformat()
    existing = dict(dates)
    runs = [(e, block) for e, block in existing.get(key, []) if e != engine_key]
    existing[key] = [(engine_key, section), *runs]
    out = [intro.rstrip(), "", RESULTS_MARKER, ""]
    for date in sorted(existing, reverse=True):
        out += [f"<!-- bench:date {date} -->", f"## {date}", ""]
        for _, block in existing[date]:
            out += [block.rstrip(), ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out).rstrip() + "\n")
    return path
