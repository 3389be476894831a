"""The risk register under load (`python -m benchmarks.run --only risks`, and part of a full `make bench`).

Data set: the shipped catalogues (Annex A for the risks' Annex A entries), 100 controls, 5,000 risks over the
benchmark's owners and departments on the default 5×5 criteria (levels drawn at random, review dates spread from
three months ago to a year ahead, so about a tenth are overdue), each linked to 0–3 controls and 0–3 Annex A
entries, with 10 assessments each (50,000, bulk-created over three years) and 100 open review requests; one
risk carries 200 assessments (its history is the one measured). Measured, signed in as a compliance manager,
through the Django test client: the register's first page, the register filtered by level and department, the
heatmap, the review queue, the busy risk's page and its history. The same pages on a small register (50 risks,
500 assessments) first, for the query counts. Target: each page under 100 ms with a constant number of queries.
"""

from __future__ import annotations

import datetime
import random
import time

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from .measure import Result, measure, skipped

PAGE_TARGET_MS = 100
ASSESSMENTS_PER_RISK = 10
BUSY_ASSESSMENTS = 200
BATCH = 2000


def build(people, *, risks: int, rng: random.Random, today: datetime.date) -> dict:
    """Bulk-create the register (see the module docstring); returns what was made."""
    from controls.catalogue import load_catalogue, shipped_catalogues
    from controls.models import Control, Requirement
    from risks.models import Assessment, Counter, ReviewRequest, Risk
    from risks.services import matrix_ensure, reference_for

    began = time.perf_counter()
    if not Requirement.objects.filter(framework__has_soa=True).exists():
        for path in shipped_catalogues():
            load_catalogue(path)
    annex_a = list(Requirement.objects.filter(framework__has_soa=True).values_list("pk", flat=True))
    if Control.objects.count() < 100:
        owners = people.owners
        Control.objects.bulk_create(
            [
                Control(reference=f"RB-{i:03d}", name=f"Risk bench control {i}", owner=owners[i % len(owners)])
                for i in range(100)
            ],
            ignore_conflicts=True,
        )
    controls = list(Control.objects.values_list("pk", flat=True))
    matrix = matrix_ensure()
    start = Counter.objects.filter(name="risk").values_list("value", flat=True).first() or 0
    rows = []
    for i in range(start + 1, start + risks + 1):
        owner = rng.choices(people.owners, weights=people.owner_weights)[0]
        il, ii = rng.randint(1, 5), rng.randint(1, 5)
        rl, ri = rng.randint(1, il), rng.randint(1, ii)
        last = today - datetime.timedelta(days=rng.randint(0, 360))
        rows.append(
            Risk(
                number=i,
                reference=reference_for(i),
                title=f"Risk {i}: {rng.choice(['Phishing', 'Ransomware', 'Supplier breach', 'Outage', 'Leak'])}",
                asset=rng.choice(["Laptops", "Customer database", "Payroll", "File servers", "CRM"]),
                threat="A threat",
                vulnerability="A weakness",
                owner=owner,
                department_id=owner.department_id,
                matrix=matrix,
                inherent_likelihood=il,
                inherent_impact=ii,
                inherent_score=il * ii,
                residual_likelihood=rl,
                residual_impact=ri,
                residual_score=rl * ri,
                treatment=rng.choice(["mitigate", "mitigate", "accept", "transfer", "avoid"]),
                status=rng.choice(["open", "treating", "treating", "accepted"]),
                last_reviewed_on=last,
                next_review_on=today + datetime.timedelta(days=rng.randint(-90, 365)),
                assessment_count=ASSESSMENTS_PER_RISK,
            )
        )
    Risk.objects.bulk_create(rows, batch_size=BATCH)
    Counter.objects.update_or_create(name="risk", defaults={"value": start + risks})
    made = list(Risk.objects.filter(number__gt=start).order_by("number"))
    through_c, through_r = Risk.controls.through, Risk.requirements.through
    links_c, links_r = [], []
    for risk in made:
        for pk in rng.sample(controls, rng.randint(0, 3)):
            links_c.append(through_c(risk_id=risk.pk, control_id=pk))
        for pk in rng.sample(annex_a, rng.randint(0, 3)):
            links_r.append(through_r(risk_id=risk.pk, requirement_id=pk))
    through_c.objects.bulk_create(links_c, batch_size=BATCH)
    through_r.objects.bulk_create(links_r, batch_size=BATCH)
    busy = made[0]
    assessments = []
    for risk in made:
        n = BUSY_ASSESSMENTS if risk.pk == busy.pk else ASSESSMENTS_PER_RISK
        for k in range(1, n + 1):
            at = timezone.now() - datetime.timedelta(days=(n - k) * 1095 // n)
            assessments.append(
                Assessment(
                    risk=risk,
                    number=k,
                    kind="identified" if k == 1 else rng.choice(["review", "review", "change"]),
                    matrix=matrix,
                    snapshot={
                        "inherent_likelihood": risk.inherent_likelihood,
                        "inherent_impact": risk.inherent_impact,
                        "inherent_score": risk.inherent_score,
                        "residual_likelihood": risk.residual_likelihood,
                        "residual_impact": risk.residual_impact,
                        "residual_score": risk.residual_score,
                        "treatment": risk.treatment,
                        "controls": [],
                        "requirements": [],
                    },
                    changed=[] if k > 1 else ["inherent_likelihood"],
                    inherent_score=risk.inherent_score,
                    residual_score=risk.residual_score,
                    reason="Reviewed: scores, treatment and controls checked.",
                    reviewed_on=timezone.localdate(at),
                    by=risk.owner,
                    by_name=str(risk.owner),
                    at=at,
                )
            )
        if len(assessments) >= BATCH * 5:
            Assessment.objects.bulk_create(assessments, batch_size=BATCH)
            assessments = []
    Assessment.objects.bulk_create(assessments, batch_size=BATCH)
    Risk.objects.filter(pk=busy.pk).update(assessment_count=BUSY_ASSESSMENTS)
    asked = rng.sample(made, min(100, len(made)))
    ReviewRequest.objects.bulk_create(
        [ReviewRequest(risk=r, reason="Incident touched this system", source="incident") for r in asked]
    )
    _analyze()
    return {
        "risks": len(made),
        "assessments": Assessment.objects.filter(risk__in=made).count(),
        "busy": busy,
        "seconds": time.perf_counter() - began,
        "department": people.departments[0].pk,
    }


def _analyze() -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in ("risks_risk", "risks_assessment", "risks_risk_controls", "risks_risk_requirements"):
                cursor.execute(f"ANALYZE {table}")


def wipe() -> None:
    from risks.models import Assessment, ReviewRequest, Risk

    ReviewRequest.objects.all().delete()
    Assessment.objects.all().delete()
    Risk.objects.all().delete()


def pages(world: dict) -> list[tuple[str, str, list, dict]]:
    busy = world["busy"]
    return [
        ("register, first page", "risks:index", [], {}),
        ("register, level high + department", "risks:index", [], {"level": "high", "department": world["department"]}),
        ("heatmap", "risks:heatmap", [], {}),
        ("review queue", "risks:queue", [], {}),
        ("a risk's page", "risks:detail", [busy.pk], {}),
        ("a risk's history", "risks:history", [busy.pk], {}),
    ]


def bench_pages(user, world: dict, runs: int, *, suffix: str = "", memory: bool = True) -> list[Result]:
    client = Client()
    client.force_login(user)
    results = []
    for name, url_name, args, params in pages(world):
        url = reverse(url_name, args=args)

        def get(url=url, params=params):
            response = client.get(url, params)
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
    """Small register (query counts), then the large one; print and record the results."""
    from . import report, scenarios

    def step(message: str) -> None:
        print(f"[{time.perf_counter() - clock:6.1f} s] {message}", flush=True)

    started = datetime.datetime.now(datetime.UTC)
    began = time.perf_counter()
    load_at_start = report.load_average()
    runs = 3 if args.quick else 11
    manager = people.compliance
    small = build(people, risks=50, rng=rng, today=today)
    step(f"Small register: {small['risks']} risks, {small['assessments']:,} assessments; measuring the pages")
    small_pages = bench_pages(manager, small, runs, suffix=" [small register]", memory=False)
    wipe()
    world = build(people, risks=args.risks, rng=rng, today=today)
    described = (
        f"{world['risks']:,} risks, {world['assessments']:,} assessments (the measured risk has "
        f"{BUSY_ASSESSMENTS}), 100 open review requests"
    )
    step(f"Large register built in {world['seconds']:.1f} s: {described}")
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
        key = f"risks-{'postgresql' if postgres else 'sqlite'}"
        notes = [
            f"Risk register benchmark (`--only risks`). Today was {today}; register built in {world['seconds']:.1f} s "
            f"(seed {args.seed}), bulk-created (no review tasks on the calendar: the pages measured do not read them).",
            f"Runs: {runs} per page after one warm-up request, signed in as a compliance manager. Target: each page "
            f"under {PAGE_TARGET_MS} ms with a constant number of queries.",
        ]
        notes += [f"Target missed: {m}." for m in missed]
        section = report.run_section(
            engine_key=key,
            engine_label=f"Risk register — {engine_label}",
            started=started,
            took_s=took,
            box=box,
            data_set=described,
            small_data_set=f"{small['risks']} risks, {small['assessments']:,} assessments",
            results=results + small_pages,
            constancy=constancy,
            notes=notes,
        )
        path = report.update_docs(section, engine_key=key, day=started.date())
        print(f"\nRecorded in {path}")
