"""Timing helpers: median of several runs (time.perf_counter), the queries of each run
(CaptureQueriesContext) and the time spent executing them, and, in one extra run of its own, the peak
memory Python allocated (tracemalloc: it slows the code it traces, so it never runs while timing).

"DB ms" is the time inside the driver's execute(): with psycopg that includes fetching the rows; with
SQLite most rows are computed while fetching, after execute() returns, so it shows less of the database's
share there. A cProfile (`--profile`) tells the two apart."""

import statistics
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection
from django.test.utils import CaptureQueriesContext


@dataclass
class Result:
    name: str
    runs_ms: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)
    peak_mb: float | None = None
    note: str = ""
    target_ms: float | None = None
    skipped: str | None = None
    value: object = None  # what the last run returned
    captured: list = field(default_factory=list, repr=False)  # the last run's queries (SQL and time)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.runs_ms)

    @property
    def query_count(self) -> str:
        if not self.queries:
            return "–"
        low, high = min(self.queries), max(self.queries)
        return f"{low:,}" if low == high else f"{low:,}–{high:,}"

    @property
    def median_sql_ms(self) -> float | None:
        return statistics.median(self.sql_ms) if self.sql_ms else None

    @property
    def met(self) -> bool | None:
        if self.skipped or self.target_ms is None:
            return None
        return self.median_ms <= self.target_ms


class _ExecuteTimer:
    """A connection.execute_wrapper counting the queries and adding up the time spent in execute()."""

    def __init__(self):
        self.seconds = 0.0
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - start


def measure(
    name: str,
    fn: Callable[[], object],
    *,
    runs: int,
    setup: Callable[[], object] | None = None,
    warmup: int = 0,
    memory: bool = True,
    target_ms: float | None = None,
    note: str = "",
) -> Result:
    """Run `fn` `runs` times (after `setup` each time, untimed) and once more under tracemalloc."""
    result = Result(name, target_ms=target_ms, note=note)
    for _ in range(warmup):
        if setup:
            setup()
        fn()
    for _ in range(runs):
        if setup:
            setup()
        timer = _ExecuteTimer()
        connection.queries_log.clear()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Limit for query logging exceeded")
            with CaptureQueriesContext(connection) as ctx, connection.execute_wrapper(timer):
                start = time.perf_counter()
                result.value = fn()
                elapsed = time.perf_counter() - start
            captured = len(ctx.captured_queries)
        result.runs_ms.append(elapsed * 1000)
        # Django keeps the last 9,000 queries only (connection.queries_log); past that, count in the wrapper.
        result.queries.append(captured if captured < connection.queries_log.maxlen else timer.count)
        result.captured = ctx.captured_queries
        result.sql_ms.append(timer.seconds * 1000)
    if memory:
        if setup:
            setup()
        tracemalloc.start()
        try:
            fn()
            result.peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
        finally:
            tracemalloc.stop()
    return result


def skipped(name: str, reason: str, target_ms: float | None = None) -> Result:
    return Result(name, skipped=reason, target_ms=target_ms)
