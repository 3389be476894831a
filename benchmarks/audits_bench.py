"""The audit programme under load (`python -m benchmarks.run --only audits`, and part of a full `make bench`).

Data set: three years of a certification cycle. The shipped catalogues with the SoA approved (every Annex A
control applicable: 93 rows plus the clauses), 100 controls, 1,000 recurring control activities with 100,000
tasks spread over the three years (mostly done on time, some late, some missed), 33 monthly internal audits with
ten areas each and their checklist results, the three external audits, 500 nonconformities (with their
requirements, one or two corrective actions and an effectiveness check each), 200 open risks linked to Annex A
entries, and two management reviews (the earlier one approved with 20 actions, the later one open). Measured,
signed in as a compliance manager, through the Django test client with the page cache off (each page built in
full): the programme's coverage matrix and the open management review with its input pack. The same pages on a
small data set first (10 schedules, 1,000 tasks, 5 nonconformities, 3 audits), for the query counts. Target: each
page under 300 ms with a constant number of queries.
"""

from __future__ import annotations

import datetime
import random
import time

from dateutil.relativedelta import relativedelta
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from .measure import Result, measure, skipped

PAGE_TARGET_MS = 300
BATCH = 2000


def build(people, *, schedules: int, occurrences: int, ncs: int, audits: int, rng: random.Random, today) -> dict:
    """Bulk-create the data set (see the module docstring); returns what was made."""
    from audits import services
    from audits.models import (
        Audit,
        ChecklistRow,
        CorrectiveAction,
        EffectivenessCheck,
        ManagementReview,
        Nonconformity,
        ReviewAction,
        ReviewStatus,
    )
    from controls.catalogue import load_catalogue, shipped_catalogues
    from controls.models import Control, Framework, Requirement, SoAVersion
    from controls.services import soa_approve
    from isms.maintenance.models import Occurrence, Schedule
    from isms.organisation.models import Certificate, Organisation
    from isms.organisation.services import certificate_save
    from risks.models import Risk
    from risks.services import matrix_ensure

    began = time.perf_counter()
    compliance = people.compliance
    if not Requirement.objects.filter(framework__has_soa=True).exists():
        for path in shipped_catalogues():
            load_catalogue(path)
    if not SoAVersion.objects.exists():
        soa_approve(framework=Framework.objects.get(has_soa=True), by=compliance, note="Benchmark")
    annex_a = list(Requirement.objects.filter(framework__has_soa=True).values_list("pk", flat=True))
    clauses = list(Requirement.objects.filter(framework__code="iso27001-2022-clauses").values_list("pk", flat=True))
    owners = people.owners
    if Control.objects.filter(reference__startswith="AB-").count() < 100:
        Control.objects.bulk_create(
            [
                Control(reference=f"AB-{i:03d}", name=f"Audit bench control {i}", owner=owners[i % len(owners)])
                for i in range(100)
            ],
            ignore_conflicts=True,
        )
        through = Control.requirements.through
        through.objects.bulk_create(
            [
                through(control_id=c, requirement_id=annex_a[i % len(annex_a)])
                for i, c in enumerate(Control.objects.filter(reference__startswith="AB-").values_list("pk", flat=True))
            ],
            ignore_conflicts=True,
        )
    controls = list(Control.objects.filter(reference__startswith="AB-"))
    if Certificate.objects.current() is None:
        certificate_save(
            organisation=Organisation.current(),
            certification_body="Bench Certification",
            certificate_number="BENCH-1",
            issue_date=today - relativedelta(months=33),
        )
    certificate = Certificate.objects.current()
    programme = services.programme_ensure(certificate=certificate)
    start = certificate.issue_date
    span = (today - start).days

    # Control activities and their tasks over the cycle.
    from django.contrib.contenttypes.models import ContentType

    ct = ContentType.objects.get_for_model(Control)
    Schedule.objects.bulk_create(
        [
            Schedule(
                title=f"Bench activity {i}",
                kind="control_activity",
                subject_type=ct,
                subject_id=controls[i % len(controls)].pk,
                owner=(o := owners[i % len(owners)]),
                department_id=o.department_id,
                rrule="FREQ=WEEKLY",
                start_date=start,
            )
            for i in range(schedules)
        ],
        batch_size=BATCH,
    )
    made = list(Schedule.objects.filter(title__startswith="Bench activity").select_related("owner"))
    per = max(1, occurrences // len(made))
    rows = []
    for schedule in made:
        for k in range(per):
            due = start + datetime.timedelta(days=k * span // per)
            roll = rng.random()
            state = "done" if roll < 0.9 else ("missed" if roll < 0.96 else "open")
            done_on = due + datetime.timedelta(days=rng.choice([-1, 0, 0, 0, 2, 5])) if state == "done" else None
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
                    completed_at=timezone.make_aware(datetime.datetime.combine(done_on, datetime.time(10)))
                    if done_on
                    else None,
                )
            )
        if len(rows) >= BATCH * 5:
            Occurrence.objects.bulk_create(rows, batch_size=BATCH)
            rows = []
    Occurrence.objects.bulk_create(rows, batch_size=BATCH)

    # Monthly internal audits with ten areas each and their results.
    areas = clauses + annex_a
    first_number = Audit.objects.count() + 100
    new_audits = [
        Audit(
            programme=programme,
            kind="internal",
            number=first_number + i,
            reference=f"IB-{first_number + i:03d}",
            title=f"Bench audit {i}",
            planned_on=start + relativedelta(months=i),
            status="signed_off" if start + relativedelta(months=i) < today else "planned",
            signed_off_at=timezone.make_aware(
                datetime.datetime.combine(start + relativedelta(months=i, days=5), datetime.time(12))
            )
            if start + relativedelta(months=i) < today
            else None,
        )
        for i in range(audits)
    ]
    Audit.objects.bulk_create(new_audits)
    bench_audits = list(Audit.objects.filter(title__startswith="Bench audit").order_by("planned_on"))
    scope, checklist = [], []
    results = ["conforming"] * 7 + ["minor", "observation", "ofi", "not_sampled"]
    for i, audit in enumerate(bench_audits):
        for j in range(10):
            req = areas[(i * 10 + j) % len(areas)]
            scope.append(Audit.scope.through(audit_id=audit.pk, requirement_id=req))
            checklist.append(ChecklistRow(audit=audit, requirement_id=req, position=j, result=rng.choice(results)))
    Audit.scope.through.objects.bulk_create(scope, ignore_conflicts=True)
    ChecklistRow.objects.bulk_create(checklist, ignore_conflicts=True)

    # Nonconformities with actions and checks.
    base = Nonconformity.objects.count() + 1000
    states = ["open", "open", "checking", "closed", "closed", "closed", "dismissed", "proposed"]
    nc_rows = []
    for i in range(ncs):
        raised = start + datetime.timedelta(days=rng.randint(0, span))
        state = rng.choice(states)
        closed = raised + datetime.timedelta(days=rng.randint(20, 120)) if state == "closed" else None
        o = owners[i % len(owners)]
        nc_rows.append(
            Nonconformity(
                number=base + i,
                reference=f"NB-{base + i}",
                source=rng.choice(["internal_audit", "missed_control", "self", "incident"]),
                state=state,
                title=f"Bench nonconformity {i}",
                description="A requirement not met.",
                owner=o,
                department_id=o.department_id,
                raised_on=raised,
                closed_on=closed,
                severity=rng.choice(["minor", "major"]),
                round=2 if i % 17 == 0 else 1,
            )
        )
    Nonconformity.objects.bulk_create(nc_rows, batch_size=BATCH)
    bench_ncs = list(Nonconformity.objects.filter(title__startswith="Bench nonconformity"))
    through = Nonconformity.requirements.through
    through.objects.bulk_create(
        [through(nonconformity_id=n.pk, requirement_id=areas[k % len(areas)]) for k, n in enumerate(bench_ncs)],
        ignore_conflicts=True,
    )
    actions, checks = [], []
    for n in bench_ncs:
        for k in range(1 + n.pk % 2):
            due = n.raised_on + datetime.timedelta(days=30 + 10 * k)
            actions.append(
                CorrectiveAction(
                    nonconformity=n,
                    title="Fix it",
                    owner=n.owner,
                    due_on=due,
                    done_on=due
                    if (n.state in ("closed", "checking") or due < today - datetime.timedelta(days=60))
                    else None,
                )
            )
        if n.state in ("closed", "checking"):
            checked = n.closed_on if n.state == "closed" else None
            checks.append(
                EffectivenessCheck(
                    nonconformity=n,
                    round=1,
                    due_on=n.raised_on + datetime.timedelta(days=70),
                    checker=compliance,
                    outcome="passed" if checked else "",
                    checked_on=checked,
                )
            )
    CorrectiveAction.objects.bulk_create(actions, batch_size=BATCH)
    EffectivenessCheck.objects.bulk_create(checks, batch_size=BATCH)

    # Open risks above and below the threshold, linked to Annex A entries.
    matrix = matrix_ensure()
    if not Risk.objects.filter(title__startswith="Audit bench risk").exists():
        risk_rows = []
        top = (Risk.objects.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        for i in range(200):
            rl, ri = rng.randint(1, 5), rng.randint(1, 5)
            o = owners[i % len(owners)]
            risk_rows.append(
                Risk(
                    number=top + i,
                    reference=f"RB-{top + i}",
                    title=f"Audit bench risk {i}",
                    asset="x",
                    threat="x",
                    vulnerability="x",
                    owner=o,
                    department_id=o.department_id,
                    matrix=matrix,
                    inherent_likelihood=rl,
                    inherent_impact=ri,
                    inherent_score=rl * ri,
                    residual_likelihood=rl,
                    residual_impact=ri,
                    residual_score=rl * ri,
                )
            )
        Risk.objects.bulk_create(risk_rows)
        rt = Risk.requirements.through
        rt.objects.bulk_create(
            [
                rt(risk_id=r, requirement_id=annex_a[k % len(annex_a)])
                for k, r in enumerate(
                    Risk.objects.filter(title__startswith="Audit bench risk").values_list("pk", flat=True)
                )
            ],
            ignore_conflicts=True,
        )

    # Two management reviews: the earlier approved with 20 actions, the later open.
    rb = ManagementReview.objects.count() + 100
    earlier = ManagementReview.objects.create(
        number=rb,
        reference=f"MB-{rb}",
        planned_on=today - relativedelta(months=6),
        chair=compliance,
        status=ReviewStatus.APPROVED,
        period_start=today - relativedelta(months=12),
        period_end=today - relativedelta(months=6),
        meeting_on=today - relativedelta(months=6),
    )
    ReviewAction.objects.bulk_create(
        [
            ReviewAction(
                review=earlier,
                title=f"Action {i}",
                owner=owners[i % len(owners)],
                due_on=today - relativedelta(months=3),
                done_on=today if i % 2 else None,
            )
            for i in range(20)
        ]
    )
    later = ManagementReview.objects.create(
        number=rb + 1,
        reference=f"MB-{rb + 1}",
        planned_on=today,
        chair=compliance,
        status=ReviewStatus.OPEN,
        period_start=today - relativedelta(months=6) + datetime.timedelta(days=1),
        period_end=today,
    )
    _analyze()
    return {
        "programme": programme,
        "review": later,
        "schedules": len(made),
        "occurrences": Occurrence.objects.filter(schedule__in=made).count(),
        "ncs": len(bench_ncs),
        "audits": len(bench_audits),
        "seconds": time.perf_counter() - began,
    }


def _analyze() -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def wipe() -> None:
    from audits.models import Audit, ManagementReview, Nonconformity
    from isms.maintenance.models import Occurrence, Schedule
    from risks.models import Risk

    Nonconformity.objects.filter(title__startswith="Bench nonconformity").delete()
    Audit.objects.filter(title__startswith="Bench audit").delete()
    ManagementReview.objects.filter(reference__startswith="MB-").delete()
    Occurrence.objects.filter(schedule__title__startswith="Bench activity").delete()
    Schedule.objects.filter(title__startswith="Bench activity").delete()
    Risk.objects.filter(title__startswith="Audit bench risk").delete()


def pages(world: dict) -> list[tuple[str, str, list]]:
    return [
        ("coverage matrix", "audits:programme", []),
        ("management review with its input pack", "audits:review", [world["review"].pk]),
    ]


def bench_pages(user, world: dict, runs: int, *, suffix: str = "", memory: bool = True) -> list[Result]:
    client = Client()
    client.force_login(user)
    results = []
    for name, url_name, args in pages(world):
        url = reverse(url_name, args=args)

        def get(url=url):
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"HTTP {response.status_code}")
            return response

        label = f"{name} ({url_name})"
        try:
            result = measure(label + suffix, get, runs=runs, warmup=1, memory=memory, target_ms=PAGE_TARGET_MS)
        except Exception as exc:  # noqa: BLE001 - report and go on
            results.append(skipped(label + suffix, f"failed ({type(exc).__name__}: {exc})"[:300], PAGE_TARGET_MS))
            continue
        html = result.value.content.decode()
        result.note = f"{html.count('<tr'):,} table rows, {len(html) / 1024:,.0f} KB HTML"
        results.append(result)
    return results


def run(args, clock: float, today, people, rng, postgres: bool, engine_label: str, db_detail: str) -> None:
    """Small data set (query counts), then the large one; print and record the results."""
    from django.conf import settings

    from . import report, scenarios

    def step(message: str) -> None:
        print(f"[{time.perf_counter() - clock:6.1f} s] {message}", flush=True)

    settings.PAGE_CACHE_SECONDS = 0  # build every page: what the first view after a change costs
    started = datetime.datetime.now(datetime.UTC)
    began = time.perf_counter()
    load_at_start = report.load_average()
    runs = 3 if args.quick else 11
    manager = people.compliance
    small = build(people, schedules=10, occurrences=1000, ncs=5, audits=3, rng=rng, today=today)
    step(f"Small set: {small['schedules']} schedules, {small['occurrences']:,} tasks, {small['ncs']} NCs")
    small_pages = bench_pages(manager, small, runs, suffix=" [small set]", memory=False)
    wipe()
    world = build(
        people,
        schedules=args.audit_schedules,
        occurrences=args.audit_occurrences,
        ncs=args.audit_ncs,
        audits=33,
        rng=rng,
        today=today,
    )
    described = (
        f"{world['schedules']:,} control activities, {world['occurrences']:,} tasks over three years, "
        f"{world['audits']} internal audits, {world['ncs']} nonconformities, 200 risks, two management reviews"
    )
    step(f"Large set built in {world['seconds']:.1f} s: {described}")
    results = bench_pages(manager, world, runs)
    took = time.perf_counter() - began
    load_at_end = report.load_average()
    load = "" if load_at_start is None else f"{load_at_start:.1f} at the start, {load_at_end:.1f} at the end"
    box = report.machine(db_detail, load)
    constancy = scenarios.query_constancy(small_pages, results)
    print()
    print(report.terminal_table(results + small_pages))
    for line in constancy:
        print(f"Queries, small → large: {line}")
    missed = [f"{r.name} ({r.median_ms:,.0f} ms)" for r in results if r.met is False]
    missed += [f"query count grows: {line}" for line in constancy if "GROWS" in line]
    for m in missed:
        print(f"TARGET MISSED: {m}")
    if not args.no_docs and not args.quick:
        key = f"audits-{'postgresql' if postgres else 'sqlite'}"
        notes = [
            f"Audit programme benchmark (`--only audits`). Today was {today}; data built in {world['seconds']:.1f} s "
            f"(seed {args.seed}), bulk-created; the page cache off (every page built in full).",
            f"Runs: {runs} per page after one warm-up request, signed in as a compliance manager. Target: each page "
            f"under {PAGE_TARGET_MS} ms with a constant number of queries.",
        ]
        notes += [f"Target missed: {m}." for m in missed]
        section = report.run_section(
            engine_key=key,
            engine_label=f"Audit programme — {engine_label}",
            started=started,
            took_s=took,
            box=box,
            data_set=described,
            small_data_set=f"{small['schedules']} schedules, {small['occurrences']:,} tasks, {small['ncs']} NCs",
            results=results + small_pages,
            constancy=constancy,
            notes=notes,
        )
        report.update_docs(section, engine_key=key, day=started.date())
