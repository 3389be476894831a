"""The auditor's portal pages under load (`python -m benchmarks.run --only portal`, and part of a full `make bench`).

Data set: the shipped catalogues with the SoA approved; 500 controls mapped round-robin to the Annex A
requirements (every tenth also to 5.15, the busiest requirement), each with a monthly activity over three years
(18,000 tasks: mostly done on time, some late, some missed, some skipped) and ~50,000 evidence items (two or three
on each done task, the rest filed on the controls, a few dated outside the period); 12 internal audits with ten
checklist rows each, 100 nonconformities with a corrective action each, 200 risks with a treatment action each,
200 incidents, two management reviews (one approved). An engagement over the last 12 months for one auditor:
Annex A, the benchmark's controls, every area. Measured, signed in as that auditor, through the Django test client
(middleware included: every request writes the auditor's log line): the overview, the busiest requirement, the
busiest control, each area's list and one record of each, an evidence file's download; and the floor view (the
same middleware and login, one query, a few bytes: benchmarks/load_urls.py) in the same run, as the ratio's
base. The same pages on a small data set first (10 controls), for the query counts; the large set is built on
top of it. Target: each page under 100 ms with the same number of queries on both sets.
"""

from __future__ import annotations

import datetime
import gc
import hashlib
import itertools
import os
import random
import time

from dateutil.relativedelta import relativedelta
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from .measure import Result, measure, skipped

PAGE_TARGET_MS = 100
BATCH = 2000
PREFIX = "PB"


def _aware(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def build(
    people, *, controls: int, evidence: int, rng: random.Random, today: datetime.date, tag: str, scale: int = 10
) -> dict:
    """Bulk-create `controls` more controls with three years of monthly tasks and about `evidence` evidence items,
    and the areas' records (see the module docstring); returns what was made. `tag` tells two builds apart."""
    from django.contrib.contenttypes.models import ContentType

    from controls.catalogue import load_catalogue, shipped_catalogues
    from controls.models import Control, Framework, Requirement, SoAVersion
    from controls.services import soa_approve
    from evidence.models import EvidenceItem
    from isms.maintenance.models import Occurrence, Schedule

    began = time.perf_counter()
    compliance = people.compliance
    owners = people.owners
    if not Requirement.objects.filter(framework__has_soa=True).exists():
        for path in shipped_catalogues():
            load_catalogue(path)
    annex_a_framework = Framework.objects.get(has_soa=True)
    if not SoAVersion.objects.filter(framework=annex_a_framework).exists():
        soa_approve(framework=annex_a_framework, by=compliance, note="Benchmark")
    annex_a = list(
        Requirement.objects.filter(framework=annex_a_framework).order_by("position").values_list("pk", flat=True)
    )
    busiest = Requirement.objects.get(framework=annex_a_framework, identifier="5.15")

    # Controls, mapped round-robin (every tenth also to 5.15).
    first = Control.objects.filter(reference__startswith=f"{PREFIX}-").count()
    Control.objects.bulk_create(
        [
            Control(
                reference=f"{PREFIX}-{first + i:04d}",
                name=f"Portal bench control {first + i}",
                owner=(o := owners[i % len(owners)]),
                department_id=o.department_id,
                status="implemented",
                description="Reviewed monthly; evidence filed with each review.",
            )
            for i in range(controls)
        ]
    )
    made = list(Control.objects.filter(reference__startswith=f"{PREFIX}-").order_by("reference")[first:])
    through = Control.requirements.through
    links = [through(control_id=c.pk, requirement_id=annex_a[(first + i) % len(annex_a)]) for i, c in enumerate(made)]
    links += [through(control_id=c.pk, requirement_id=busiest.pk) for i, c in enumerate(made) if i % 10 == 0]
    through.objects.bulk_create(links, ignore_conflicts=True)

    # A monthly activity per control over three years.
    ct = ContentType.objects.get_for_model(Control)
    start = today - relativedelta(years=3)
    Schedule.objects.bulk_create(
        [
            Schedule(
                title=f"Portal bench review {tag} {c.reference}",
                kind="control_activity",
                subject_type=ct,
                subject_id=c.pk,
                owner_id=c.owner_id,
                department_id=c.department_id,
                rrule="FREQ=MONTHLY",
                start_date=start,
            )
            for c in made
        ],
        batch_size=BATCH,
    )
    schedules = list(Schedule.objects.filter(title__startswith=f"Portal bench review {tag} "))
    rows = []
    for schedule in schedules:
        for k in range(36):
            due = start + relativedelta(months=k)
            roll = rng.random()
            state = "done" if roll < 0.88 else "missed" if roll < 0.94 else "skipped" if roll < 0.97 else "open"
            done_on = due + datetime.timedelta(days=rng.choice([-2, 0, 0, 0, 1, 6])) if state == "done" else None
            rows.append(
                Occurrence(
                    schedule=schedule,
                    due_date=due,
                    title=schedule.title,
                    owner_id=schedule.owner_id,
                    department_id=schedule.department_id,
                    remind_from=due - datetime.timedelta(days=14),
                    grace_until=due + datetime.timedelta(days=7),
                    state=state,
                    completed_on=done_on,
                    completed_at=_aware(done_on) if done_on else None,
                    skip_reason="System retired for the month" if state == "skipped" else "",
                )
            )
    Occurrence.objects.bulk_create(rows, batch_size=BATCH)
    done = list(
        Occurrence.objects.filter(schedule__in=schedules, state="done").values_list(
            "pk", "schedule__subject_id", "due_date"
        )
    )

    # Evidence: two or three files on each done task, the rest filed on the controls; a few outside the period.
    per_task = max(1, min(3, int(evidence * 0.7 / max(1, len(done)))))
    items = []
    submitter = owners[0]
    for pk, control_id, due in done:
        for k in range(per_task):
            effective = due if rng.random() > 0.02 else due + datetime.timedelta(days=400)
            items.append(
                EvidenceItem(
                    type="file",
                    title=f"Review export {k + 1}",
                    file=f"evidence/bench/{pk}-{k}",
                    original_name=f"review-{pk}-{k}.csv",
                    content_type="text/csv",
                    size=rng.randint(2_000, 2_000_000),
                    sha256=hashlib.sha256(f"{tag}{pk}-{k}".encode()).hexdigest(),
                    submitted_by=submitter,
                    submitted_at=_aware(due),
                    occurrence_id=pk,
                    control_id=control_id,
                    effective_date=effective,
                )
            )
    direct = max(0, evidence - len(items))
    for i in range(direct):
        c = made[i % len(made)]
        day = start + datetime.timedelta(days=rng.randint(0, (today - start).days))
        items.append(
            EvidenceItem(
                type="note" if i % 2 else "link",
                title=f"Policy note {i}",
                note="Approved by the board." if i % 2 else "",
                url="" if i % 2 else "https://wiki.example.com/policy",
                submitted_by=submitter,
                submitted_at=_aware(day),
                control_id=c.pk,
                effective_date=day,
            )
        )
    EvidenceItem.objects.bulk_create(items, batch_size=BATCH)

    areas = _areas(people, rng, today, tag, annex_a, scale)
    _analyze()
    return {
        "controls": made,
        "busiest_requirement": busiest,
        "busiest_control": made[0],  # mapped to its own requirement and to 5.15
        "schedules": len(schedules),
        "occurrences": len(rows),
        "evidence": len(items),
        "seconds": time.perf_counter() - began,
        **areas,
    }


def _areas(people, rng, today, tag, annex_a, scale: int) -> dict:
    """The areas' records in the period: internal audits, nonconformities, risks, incidents, management reviews
    (`scale` tenths of 12 audits, 100 nonconformities, 200 risks and 200 incidents)."""
    from audits.models import (
        Audit,
        ChecklistRow,
        CorrectiveAction,
        ManagementReview,
        Nonconformity,
        ReviewAction,
        ReviewStatus,
    )
    from audits.selectors import review_pack
    from events.models import Incident
    from events.services import severity_scale_ensure
    from risks.models import Risk, TreatmentAction
    from risks.services import matrix_ensure

    compliance, owners = people.compliance, people.owners
    top = (Audit.objects.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    Audit.objects.bulk_create(
        [
            Audit(
                kind="internal",
                number=top + i,
                reference=f"IP-{tag}-{top + i}",
                title=f"Portal bench audit {tag} {i}",
                planned_on=today - relativedelta(months=i + 1),
                status="signed_off",
                summary="All sampled areas conform.",
                conclusion="Effective.",
                signed_off_by=compliance,
                signed_off_at=_aware(today - relativedelta(months=i + 1) + datetime.timedelta(days=5)),
            )
            for i in range(max(1, 12 * scale // 10))
        ]
    )
    audits = list(Audit.objects.filter(title__startswith=f"Portal bench audit {tag} "))
    ChecklistRow.objects.bulk_create(
        [
            ChecklistRow(audit=a, requirement_id=annex_a[(i * 10 + j) % len(annex_a)], position=j, result="conforming")
            for i, a in enumerate(audits)
            for j in range(10)
        ],
        ignore_conflicts=True,
    )
    top = (Nonconformity.objects.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    Nonconformity.objects.bulk_create(
        [
            Nonconformity(
                number=top + i,
                reference=f"NP-{tag}-{top + i}",
                source="self",
                state="open",
                title=f"Portal bench nonconformity {tag} {i}",
                description="A requirement not met.",
                owner=(o := owners[i % len(owners)]),
                department_id=o.department_id,
                raised_on=today - datetime.timedelta(days=rng.randint(10, 300)),
            )
            for i in range(10 * scale)
        ]
    )
    ncs = list(Nonconformity.objects.filter(title__startswith=f"Portal bench nonconformity {tag} "))
    CorrectiveAction.objects.bulk_create(
        [
            CorrectiveAction(
                nonconformity=n, title="Fix it", owner=n.owner, due_on=n.raised_on + datetime.timedelta(30)
            )
            for n in ncs
        ]
    )
    matrix = matrix_ensure()
    top = (Risk.objects.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    risk_rows = []
    for i in range(20 * scale):
        rl, ri = rng.randint(1, 5), rng.randint(1, 5)
        o = owners[i % len(owners)]
        risk_rows.append(
            Risk(
                number=top + i,
                reference=f"RP-{tag}-{top + i}",
                title=f"Portal bench risk {tag} {i}",
                asset="Laptops",
                threat="Theft",
                vulnerability="No disk encryption",
                owner=o,
                department_id=o.department_id,
                matrix=matrix,
                inherent_likelihood=rl,
                inherent_impact=ri,
                inherent_score=rl * ri,
                residual_likelihood=max(1, rl - 1),
                residual_impact=ri,
                residual_score=max(1, rl - 1) * ri,
                next_review_on=today + datetime.timedelta(days=rng.randint(-60, 300)),
            )
        )
    Risk.objects.bulk_create(risk_rows)
    risks = Risk.objects.filter(title__startswith=f"Portal bench risk {tag} ")
    TreatmentAction.objects.bulk_create(
        [TreatmentAction(risk=r, title="Encrypt", owner=r.owner, due_date=today, created_by=compliance) for r in risks]
    )
    severity = severity_scale_ensure()[0]
    top = (Incident.objects.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    Incident.objects.bulk_create(
        [
            Incident(
                number=top + i,
                reference=f"IN-{tag}-{top + i}",
                title=f"Portal bench incident {tag} {i}",
                description="Lost laptop",
                occurred_on=(day := today - datetime.timedelta(days=rng.randint(1, 360))),
                detected_on=day,
                reported_by=owners[i % len(owners)],
                owner=owners[i % len(owners)],
                severity=severity,
            )
            for i in range(20 * scale)
        ]
    )
    top = (ManagementReview.objects.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    review = ManagementReview.objects.create(
        number=top,
        reference=f"MP-{tag}-{top}",
        planned_on=today - relativedelta(months=4),
        meeting_on=today - relativedelta(months=4),
        chair=compliance,
        status=ReviewStatus.APPROVED,
        approved_by=compliance,
        approved_at=_aware(today - relativedelta(months=4)),
        suitability="Suitable.",
        adequacy="Adequate.",
        effectiveness="Effective.",
        period_start=today - relativedelta(months=10),
        period_end=today - relativedelta(months=4),
    )
    review.frozen_pack = review_pack(review, today=today, live=True)  # as approval freezes it
    review.save(update_fields=["frozen_pack"])
    ReviewAction.objects.bulk_create(
        [
            ReviewAction(review=review, title=f"Action {i}", owner=owners[i % len(owners)], due_on=today)
            for i in range(20)
        ]
    )
    ManagementReview.objects.create(
        number=top + 1, reference=f"MP-{tag}-{top + 1}", planned_on=today, chair=compliance, status=ReviewStatus.OPEN
    )
    return {"audit": audits[0], "nc": ncs[0], "review": review}


def _analyze() -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        # VACUUM too, as the machine line says and as autovacuum soon would: bulk-loaded rows have no visibility
        # map yet, so every index-only probe (evidence "superseded?", per item on the overview) read the heap.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def engagement(people, today: datetime.date) -> tuple:
    """The auditor and their engagement over the last 12 months (Annex A, the benchmark's controls, every area)."""
    from controls.models import Control, Framework
    from isms.accounts.models import User
    from isms.foundation.roles import Role
    from portal.models import Area
    from portal.services import engagement_save

    auditor = User.objects.create_user(
        username="portal-bench-auditor", first_name="Ada", last_name="Auditor", role=Role.AUDITOR, password=None
    )
    found = engagement_save(
        by=people.compliance,
        title="Portal benchmark audit",
        certification_body="Bench Certification",
        audit=None,
        period_start=today - relativedelta(years=1),
        period_end=today - datetime.timedelta(days=1),
        access_starts_on=today - datetime.timedelta(days=1),
        access_ends_on=today + datetime.timedelta(days=14),
        areas=list(Area.values),
        frameworks=Framework.objects.filter(has_soa=True),
        controls=Control.objects.filter(reference__startswith=f"{PREFIX}-"),
        auditors=[auditor],
    )
    return auditor, found


def download_item(control, by):
    """One real file on the busiest control, for the download page."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from evidence.services import evidence_add_file

    return evidence_add_file(
        upload=SimpleUploadedFile("access-review.csv", b"user,access\n" * 5000),
        by=by,
        source="web",
        control=control,
        effective_date=timezone.localdate() - datetime.timedelta(days=30),
    )


def pages(world: dict, engagement_pk: int) -> list[tuple[str, str, dict]]:
    e = {"engagement": engagement_pk}
    return [
        ("overview", "portal:engagement", e),
        ("requirement 5.15 (busiest)", "portal:requirement", {**e, "pk": world["busiest_requirement"].pk}),
        ("control (busiest)", "portal:control", {**e, "pk": world["busiest_control"].pk}),
        ("risk register", "portal:risks", e),
        ("internal audits", "portal:internal_audits", e),
        ("internal audit", "portal:internal_audit", {**e, "pk": world["audit"].pk}),
        ("nonconformities", "portal:nonconformities", e),
        ("nonconformity", "portal:nonconformity", {**e, "pk": world["nc"].pk}),
        ("management reviews", "portal:management_reviews", e),
        ("management review", "portal:management_review", {**e, "pk": world["review"].pk}),
        ("registers", "portal:registers", e),
        ("evidence download", "portal:evidence_download", {**e, "pk": world["file"].pk}),
    ]


def _caches() -> dict:
    """The caches as production has them: Redis when REDIS_URL is set (shared by the web workers), else each
    process's own memory (as `make run`)."""
    from django.conf import settings

    url = os.environ.get("REDIS_URL", "").strip()
    if not url:
        return settings.CACHES
    return {
        alias: {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "KEY_PREFIX": prefix}
        for alias, prefix in (("default", "isms-bench"), ("pages", "isms-bench-pages"))
    }


def a_change(world: dict, by):
    """What happens between two views in a working ISMS: a control owner files a note on a task (through the
    service, as the task's emailed link does), each time on another control mapped to the busiest requirement,
    and the previous note is removed, so that no page grows as the runs go on. The data version changes, so no
    page is kept, and so does the coverage token of that control's activity: the overview and the requirement
    summarise it again."""
    from evidence.models import EvidenceItem
    from evidence.services import evidence_add_note
    from isms.maintenance.models import Occurrence

    latest = (
        Occurrence.objects.filter(
            schedule__subject_type__model="control", schedule__subject_id=control.pk, due_date__lt=timezone.localdate()
        )
        .order_by("-due_date")
        .first()
        for control in world["busiest_requirement"].controls.order_by("reference")
    )
    tasks = itertools.cycle([task for task in latest if task is not None])
    filed: list[int] = []

    def change():
        if filed:
            EvidenceItem.objects.filter(pk=filed.pop()).delete()
        note = evidence_add_note(note="Checked again: no change.", by=by, source="web", occurrence=next(tasks))
        filed.append(note.pk)

    return change


def nothing_kept():
    """No page and no activity's coverage kept: what the first view costs after a restart of the cache, or the
    first coverage read of a new day."""
    from django.core.cache import caches

    caches["default"].clear()
    caches["pages"].clear()


def bench_pages(user, world: dict, engagement_pk: int, runs: int, *, suffix: str = "", setup=None) -> list[Result]:
    """Each page for the auditor, and the floor view first (same client, same middleware); `setup` before each
    run of a page (untimed)."""
    client = Client()
    client.force_login(user)
    # The first page sets the browser's CSRF cookie, as the sign-in page does in a browser (a page is kept only
    # for a browser that holds one: isms/foundation/pagecache.py).
    client.get(reverse("portal:engagement", kwargs={"engagement": engagement_pk}))
    results = []
    targets = [("floor", "loadtest_floor", {}), *pages(world, engagement_pk)]
    for name, url_name, kwargs in targets:
        url = reverse(url_name, kwargs=kwargs)

        def get(url=url):
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"HTTP {response.status_code}")
            if response.streaming:
                b"".join(response.streaming_content)
            return response

        label = f"{name} ({url_name})"
        target = None if name == "floor" else PAGE_TARGET_MS
        try:
            result = measure(
                label + suffix,
                get,
                runs=runs,
                warmup=1,
                memory=False,
                target_ms=target,
                setup=None if name == "floor" else setup,
            )
        except Exception as exc:  # noqa: BLE001 - report and go on
            results.append(skipped(label + suffix, f"failed ({type(exc).__name__}: {exc})"[:300], target))
            continue
        response = result.value
        if not response.streaming:
            html = response.content.decode()
            result.note = f"{html.count('<tr'):,} table rows, {len(html) / 1024:,.0f} KB HTML"
        results.append(result)
    floor = results[0].median_ms if results and not results[0].skipped else None
    for r in results[1:]:
        if floor and not r.skipped:
            r.note = f"×{r.median_ms / floor:,.1f} of the floor" + (f"; {r.note}" if r.note else "")
    return results


def run(args, clock: float, today, people, rng, postgres: bool, engine_label: str, db_detail: str) -> None:
    """Small data set (query counts), then the large one on top of it; print and record the results."""
    from django.conf import settings

    from . import report, scenarios

    def step(message: str) -> None:
        print(f"[{time.perf_counter() - clock:6.1f} s] {message}", flush=True)

    settings.PAGE_CACHE_SECONDS = 600  # as in production: a page is kept until the data changes
    if postgres:
        # As isms/settings.py connects in production: no JIT compilation (benchmarks/db.py does not set it; past
        # PostgreSQL's cost threshold the overview's coverage query spent ~20 ms compiling on every view).
        from django.db import connection

        connection.settings_dict.setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
        connection.close()
    started = datetime.datetime.now(datetime.UTC)
    began = time.perf_counter()
    load_at_start = report.load_average()
    runs = 3 if args.quick else 11
    small = build(people, controls=10, evidence=1000, rng=rng, today=today, tag="s", scale=1)
    small["file"] = download_item(small["busiest_control"], people.owners[0])
    auditor, found = engagement(people, today)
    step(f"Small set: {len(small['controls'])} controls, {small['occurrences']:,} tasks, {small['evidence']:,} items")
    gc.freeze()  # what building the data left in this process: a web worker does not hold it (isms/wsgi.py)
    with override_settings(ROOT_URLCONF="benchmarks.load_urls", CACHES=_caches()):
        nothing_kept()
        change = a_change(small, people.owners[0])
        small_pages = bench_pages(auditor, small, found.pk, runs, suffix=" [small set]", setup=change)
        world = build(
            people, controls=args.portal_controls, evidence=args.portal_evidence, rng=rng, today=today, tag="l"
        )
        found.controls.add(*world["controls"])  # the engagement names its controls: the new ones join its scope
        world["file"] = small["file"]
        world["busiest_control"] = small["busiest_control"]  # the same page, now among many more rows
        for key in ("audit", "nc", "review"):
            world[key] = small[key]
        total_controls = len(small["controls"]) + len(world["controls"])
        total_tasks = small["occurrences"] + world["occurrences"]
        total_items = small["evidence"] + world["evidence"]
        described = (
            f"{total_controls:,} controls in scope, {total_tasks:,} tasks over three years, {total_items:,} evidence "
            "items, 13 internal audits, 110 nonconformities, 220 risks, 220 incidents, 4 management reviews; "
            "the engagement: the last 12 months, Annex A, every area"
        )
        step(f"Large set built in {world['seconds']:.1f} s: {described}")
        gc.freeze()
        # The first view after a change (the target): a note filed on a task before each view.
        results = bench_pages(auditor, world, found.pk, runs, setup=a_change(world, people.owners[0]))
        # Nothing kept at all: no page, no activity's coverage.
        cold = bench_pages(auditor, world, found.pk, runs, suffix=" [nothing kept]", setup=nothing_kept)[1:]
        # The same pages kept until the data changes, as they are served after their first view.
        kept = bench_pages(auditor, world, found.pk, runs, suffix=" [kept page]")[1:]
    took = time.perf_counter() - began
    load_at_end = report.load_average()
    load = "" if load_at_start is None else f"{load_at_start:.1f} at the start, {load_at_end:.1f} at the end"
    box = report.machine(db_detail, load)
    constancy = scenarios.query_constancy(small_pages[1:], results[1:])
    print()
    print(report.terminal_table(results + cold + kept + small_pages))
    for line in constancy:
        print(f"Queries, small → large: {line}")
    missed = [f"{r.name} ({r.median_ms:,.0f} ms)" for r in results if r.met is False]
    missed += [f"query count grows: {line}" for line in constancy if "GROWS" in line]
    for m in missed:
        print(f"TARGET MISSED: {m}")
    if not args.no_docs and not args.quick:
        key = f"portal-{'postgresql' if postgres else 'sqlite'}"
        caches = (
            "Redis (REDIS_URL), as production"
            if os.environ.get("REDIS_URL", "").strip()
            else ("each process's own memory (REDIS_URL unset, as `make run`)")
        )
        notes = [
            f"Auditor portal benchmark (`--only portal`). Today was {today}; data built in {world['seconds']:.1f} s "
            f"(seed {args.seed}), bulk-created (the database keeping each task's evidence count and each activity's "
            f"coverage token as it loads); caches: {caches}; the objects the build left in this process frozen out "
            "of the garbage collector's reach, as a web worker freezes what loading the application made "
            "(isms/wsgi.py)"
            + ("; PostgreSQL's JIT off, as isms/settings.py connects in production." if postgres else "."),
            f"Runs: {runs} per page after one warm-up request, signed in as the engagement's auditor (each request "
            "also writes the auditor's log line). First rows and [small set]: the first view after a change — before "
            "each view (untimed) a control owner files a note on a task of the busiest control, so no page is kept "
            "and that control's activity is summarised again. Target: each page under "
            f"{PAGE_TARGET_MS} ms with the same number of queries on both sets. ×n: the page's median as a multiple "
            "of the floor view's, measured in the same run with the same client (benchmarks/load_urls.py).",
        ]
        notes += [f"Target missed (first view after a change): {m}." for m in missed]
        slow_cold = [f"{r.name} ({r.median_ms:,.0f} ms)" for r in cold if r.met is False]
        notes.append(
            "[nothing kept]: no page and no activity's coverage kept (both caches emptied before each view): what a "
            "view costs after the cache is emptied, and the first coverage read of a new day. "
            + (f"Over the target: {', '.join(slow_cold)}." if slow_cold else "Every page is under the target.")
        )
        slow_kept = [f"{r.name} ({r.median_ms:,.0f} ms)" for r in kept if r.met is False]
        notes.append(
            "[kept page]: the same pages once viewed, kept until the data changes (isms/foundation/pagecache.py); "
            "the auditors' log line is still written for each request. "
            + (
                f"Over the target even kept: {', '.join(slow_kept)}."
                if slow_kept
                else "Every kept page is under the target."
            )
        )
        section = report.run_section(
            engine_key=key,
            engine_label=f"Auditor portal — {engine_label}",
            started=started,
            took_s=took,
            box=box,
            data_set=described,
            small_data_set=(
                f"{len(small['controls'])} controls, {small['occurrences']:,} tasks, {small['evidence']:,} evidence "
                "items, 1 internal audit, 10 nonconformities, 20 risks, 20 incidents"
            ),
            results=results + cold + kept + small_pages,
            constancy=constancy,
            notes=notes,
        )
        report.update_docs(section, engine_key=key, day=started.date())
