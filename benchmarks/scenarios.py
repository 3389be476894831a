"""What is measured: the notice scan, the calendar pages and the daily materialisation."""

import cProfile
import datetime
import io
import pstats
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from unittest import mock

from dateutil.relativedelta import relativedelta
from django.db.models import Count, F
from django.test import Client
from django.urls import reverse

from isms.maintenance import notices, services
from isms.maintenance.models import Occurrence, OccurrenceEvent
from isms.notices import engine
from isms.notices.models import Notice

from .data import People
from .measure import Result, measure, skipped

SCAN_TARGET_MS = 5_000
MONTH_TARGET_MS = 200


@dataclass
class Runs:
    scan_first: int = 3
    scan_steady: int = 7
    pages: int = 11
    materialise: int = 3


# --- the notice scan ----------------------------------------------------------------------------------------


@contextmanager
def collected_enqueue():
    """The notice engine's _enqueue replaced by a collector: what would have gone to the broker, no broker needed."""
    queued: list[int] = []
    with mock.patch.object(engine, "_enqueue", side_effect=lambda ids: queued.extend(ids)):
        yield queued


def bench_scan(today: datetime.date, now: datetime.datetime, runs: Runs) -> list[Result]:
    with collected_enqueue() as queued:
        last_notice = Notice.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        last_event = OccurrenceEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        to_miss = list(Occurrence.objects.open().filter(grace_until__lt=today).values_list("pk", flat=True))

        def back_to_before_the_first_scan():
            Notice.objects.filter(pk__gt=last_notice).delete()
            OccurrenceEvent.objects.filter(pk__gt=last_event).delete()
            Occurrence.objects.filter(pk__in=to_miss, state=Occurrence.State.MISSED).update(
                state=Occurrence.State.OPEN, link_version=F("link_version") - 1
            )
            queued.clear()

        def scan():
            return notices.scan(today=today, now=now)

        first = measure(
            "scan, first run",
            scan,
            runs=runs.scan_first,
            setup=back_to_before_the_first_scan,
            target_ms=SCAN_TARGET_MS,
        )
        # The memory run came last and left the state of a real first run: its counts are the ones to report.
        written = Notice.objects.filter(pk__gt=last_notice).count()
        first.note = (
            f"marked {first.value['missed']:,} missed; wrote {written:,} notices; queued {len(queued):,} "
            f"(scan said {first.value['queued']:,}); state restored between runs"
        )
        # The worker delivers what was queued; a minute later the scan runs again.
        Notice.objects.filter(sent_at__isnull=True).update(sent_at=now, attempts=1)
        queued.clear()
        steady = measure("scan, steady state", scan, runs=runs.scan_steady, target_ms=SCAN_TARGET_MS)
        steady.note = (
            f"marked {steady.value['missed']:,} missed; queued {len(queued):,} over {runs.scan_steady + 1} runs "
            "(requeueing is the engine's own beat job now, not in the scan); "
            f"{Notice.objects.count():,} notices in the table"
        )
    return [first, steady]


# --- the pages ----------------------------------------------------------------------------------------------


@dataclass
class Page:
    name: str
    url_name: str
    params: dict
    user: object
    target_ms: float | None = None

    def label(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.name} ({self.url_name}{'?' + query if query else ''})"


def busiest_owner(people: People):
    top = Occurrence.objects.values("owner_id").annotate(n=Count("pk")).order_by("-n").first()
    return next(u for u in people.owners if u.pk == top["owner_id"])


def pages_for(people: People, today: datetime.date) -> list[Page]:
    compliance = people.compliance
    year_ago = today - relativedelta(years=1)
    return [
        Page("month view, this month", "maintenance:month", {}, compliance, MONTH_TARGET_MS),
        Page(
            "month view, a year ago",
            "maintenance:month",
            {"year": year_ago.year, "month": year_ago.month},
            compliance,
            MONTH_TARGET_MS,
        ),
        Page("agenda", "maintenance:agenda", {}, compliance),
        Page("my tasks, compliance manager", "maintenance:mine", {}, compliance),
        Page("my tasks, busiest owner", "maintenance:mine", {}, busiest_owner(people)),
    ]


def _get(client: Client, url: str, params: dict) -> Callable[[], object]:
    def get():
        response = client.get(url, params)
        if response.status_code != 200:
            raise PageError(f"HTTP {response.status_code}")
        return response

    return get


class PageError(Exception):
    pass


def _describe(response) -> str:
    html = response.content.decode()
    tasks = html.count('class="calendar-item')
    rows = html.count("<tr")
    shown = f"{tasks:,} tasks in the grid" if tasks else f"{rows:,} table rows"
    return f"{shown}, {len(html) / 1024:,.0f} KB HTML"


def bench_pages(pages: list[Page], runs: Runs, *, suffix: str = "", memory: bool = True) -> list[Result]:
    clients: dict[int, Client] = {}
    results = []
    for page in pages:
        name = page.label() + suffix
        try:
            url = reverse(page.url_name)
        except Exception as exc:  # noqa: BLE001 - the views are being written: skip, say why
            results.append(skipped(name, f"not available yet ({type(exc).__name__}: {exc})", page.target_ms))
            continue
        if page.user.pk not in clients:
            clients[page.user.pk] = Client()
            clients[page.user.pk].force_login(page.user)
        get = _get(clients[page.user.pk], url, page.params)
        try:
            result = measure(name, get, runs=runs.pages, warmup=1, memory=memory, target_ms=page.target_ms)
        except Exception as exc:  # noqa: BLE001 - a broken page must not stop the benchmark
            results.append(skipped(name, f"failed ({type(exc).__name__}: {exc})"[:300], page.target_ms))
            continue
        result.note = _describe(result.value)
        results.append(result)
    return results


def query_constancy(small: list[Result], large: list[Result]) -> list[str]:
    """'month view, this month: 9 → 9 (constant)' for each page measured on both data sets."""
    out = []
    for s, big in zip(small, large, strict=True):
        if s.skipped or big.skipped:
            continue
        same = s.query_count == big.query_count
        out.append(
            f"{big.name.split(' (')[0]}: {s.query_count} → {big.query_count} ({'constant' if same else 'GROWS'})"
        )
    return out


# --- materialise_all ----------------------------------------------------------------------------------------


def bench_materialise(today: datetime.date, runs: Runs) -> list[Result]:
    steady = measure(
        "materialise_all, steady state", lambda: services.materialise_all(today), runs=runs.materialise, memory=True
    )
    steady.note = f"created {steady.value:,}"
    cutoff = services.horizon(today) - relativedelta(months=1)
    deleted = []

    def delete_last_month():
        deleted.append(Occurrence.objects.filter(due_date__gt=cutoff).delete()[1].get("maintenance.Occurrence", 0))

    refill = measure(
        "materialise_all, last month deleted",
        lambda: services.materialise_all(today),
        runs=runs.materialise,
        setup=delete_last_month,
        memory=True,
    )
    refill.note = f"deleted {deleted[-1]:,} due after {cutoff}, created {refill.value:,}"
    return [steady, refill]


# --- profiling (--profile) ----------------------------------------------------------------------------------


def profile(label: str, fn: Callable[[], object], limit: int = 30) -> str:
    """The functions the time went to: by own time (where it is spent) and by cumulative time (who spent it)."""
    profiler = cProfile.Profile()
    profiler.enable()
    fn()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(limit)
    stats.sort_stats("cumulative").print_stats(r"isms|benchmarks|template|db/models", limit)
    return f"--- cProfile: {label} ---\n{out.getvalue()}"


def profile_targets(people: People, today: datetime.date, now: datetime.datetime) -> str:
    client = Client()
    client.force_login(people.compliance)
    parts = []
    with collected_enqueue():
        parts.append(profile("scan, steady state", lambda: notices.scan(today=today, now=now)))
    try:
        url = reverse("maintenance:month")
        parts.append(profile("month view, this month", lambda: client.get(url)))
    except Exception as exc:  # noqa: BLE001
        parts.append(f"month view not profiled: {exc}")
    return "\n".join(parts)
