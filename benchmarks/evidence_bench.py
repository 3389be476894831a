"""The evidence benchmark (`python -m benchmarks.run --only evidence`): the library, coverage, the SoA PDF and a
200 MB upload against 500 controls, 300 requirements and 200,000 evidence items.

Data: the shipped catalogues plus a generated framework (to 300 requirements), 500 controls mapped to 1–4
requirements each (a few requirements to many controls), the calendar builder's schedules re-pointed at
controls as their periodic activities, and evidence bulk-created over three years (links and notes, a few
thousand "file" rows naming a dummy file, some corrections and deletions).

The upload runs through a real gunicorn worker (one sync worker, tests.settings, DEBUG off) on the same
database; its memory is read from /proc (VmRSS, VmHWM) before and during the upload."""

import contextlib
import datetime
import http.client
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from dateutil.relativedelta import relativedelta
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from controls.catalogue import CATALOGUE_DIR, load_catalogue
from controls.models import Control, Framework, ImplementationStatus, Requirement
from evidence.models import EvidenceItem
from isms.maintenance.models import Occurrence, Schedule

from . import data
from .data import People
from .measure import Result, measure, skipped

PAGE_TARGET_MS = 200
PDF_TARGET_MS = 5_000
UPLOAD_MEMORY_TARGET_MB = 50
REQUIREMENTS = 300
BATCH = 5_000


@dataclass
class World:
    controls: int = 0
    requirements: int = 0
    frameworks: int = 0
    mappings: int = 0
    schedules: int = 0
    occurrences: int = 0
    evidence: int = 0
    evidence_by_type: dict | None = None
    corrections: int = 0
    deleted: int = 0
    first: datetime.date | None = None
    last: datetime.date | None = None
    build_seconds: float = 0.0

    def describe(self) -> str:
        types = ", ".join(f"{k} {v:,}" for k, v in sorted((self.evidence_by_type or {}).items()))
        return (
            f"{self.frameworks} frameworks with {self.requirements:,} requirements; {self.controls:,} controls "
            f"({self.mappings:,} requirement mappings); {self.schedules:,} periodic activities with "
            f"{self.occurrences:,} occurrences; {self.evidence:,} evidence items ({types}; {self.corrections:,} "
            f"corrections, {self.deleted:,} deleted) effective {self.first} to {self.last}"
        )


# --- the data set -----------------------------------------------------------------------------------------------


def make_catalogue(rng: random.Random) -> list[Requirement]:
    """The shipped catalogues, then a generated framework up to REQUIREMENTS requirements in all."""
    for path in sorted(CATALOGUE_DIR.glob("*.yaml")):
        load_catalogue(path)
    missing = REQUIREMENTS - Requirement.objects.count()
    if missing > 0:
        extra = Framework.objects.create(code="bench-extra", name="Benchmark framework", version="1")
        Requirement.objects.bulk_create(
            [
                Requirement(
                    framework=extra,
                    identifier=f"BX-{i:03d}",
                    title=f"Generated requirement {i}",
                    group=f"Chapter {i // 20 + 1}",
                    description="Generated for the benchmark.",
                    position=i,
                )
                for i in range(1, missing + 1)
            ]
        )
    return list(Requirement.objects.order_by("pk"))


def make_controls(people: People, requirements: list[Requirement], rng: random.Random, n: int = 500) -> list[Control]:
    statuses = [s for s, _ in ImplementationStatus.choices]
    owners_by_pk = {u.pk: u for u in people.owners}
    rows = []
    for i in range(n):
        owner = rng.choices(people.owners, weights=people.owner_weights)[0]
        rows.append(
            Control(
                reference=f"C-{i + 1:03d}",
                name=f"{rng.choice(data.ACTIVITIES)} control {i + 1}",
                description="Generated for the benchmark.",
                owner_id=owner.pk,
                department_id=owners_by_pk[owner.pk].department_id,
                status=rng.choices(statuses, weights=[2, 3, 8, 1])[0],
            )
        )
    Control.objects.bulk_create(rows, batch_size=1000)
    controls = list(Control.objects.order_by("pk"))
    # Mappings: 1–4 requirements each; the first requirements are popular (a long tail), so a few requirements
    # are mapped to dozens of controls, as in a real ISMS (A.5.1, A.8.x…).
    weights = [1 / (k + 3) for k in range(len(requirements))]
    through = Control.requirements.through
    links = set()
    for control in controls:
        for req in rng.choices(requirements, weights=weights, k=rng.randint(1, 4)):
            links.add((control.pk, req.pk))
    through.objects.bulk_create([through(control_id=c, requirement_id=r) for c, r in links], batch_size=BATCH)
    return controls


def busiest_requirement() -> Requirement:
    return Requirement.objects.annotate(n=Count("controls")).order_by("-n", "pk").first()


def attach_schedules(controls: list[Control], rng: random.Random) -> dict[int, int]:
    """Point every schedule at a control (its periodic activity): the first control gets a dozen, a sixth go to
    the controls of the most-mapped requirement (so its coverage has strips on any data set), the rest anywhere."""
    control_type = ContentType.objects.get_for_model(Control)
    schedules = list(Schedule.objects.order_by("pk").values_list("pk", flat=True))
    busy = controls[0]
    mapped = list(busiest_requirement().controls.values_list("pk", flat=True))
    subject = {}
    for i, pk in enumerate(schedules):
        if i % max(12, len(schedules) // 12) == 0:
            subject[pk] = busy.pk
        elif i % 6 == 1:
            subject[pk] = rng.choice(mapped)
        else:
            subject[pk] = rng.choice(controls).pk
    by_control: dict[int, list[int]] = {}
    for pk, c in subject.items():
        by_control.setdefault(c, []).append(pk)
    for c, pks in by_control.items():
        Schedule.objects.filter(pk__in=pks).update(subject_type=control_type, subject_id=c)
    return subject


def make_evidence(
    people: People, controls: list[Control], requirements: list[Requirement], *, n: int, today, rng: random.Random
) -> dict:
    """`n` evidence items over three years: 45% on tasks, 35% on controls, 20% on requirements."""
    three_years_ago = today - relativedelta(years=3)
    span = (today - three_years_ago).days
    occurrences = list(
        Occurrence.objects.filter(due_date__lte=today).values_list("pk", "due_date", "owner_id", "schedule_id")
    )
    control_of = dict(Schedule.objects.values_list("pk", "subject_id"))
    req_weights = [1 / (k + 3) for k in range(len(requirements))]
    ctl_weights = [5.0] + [1.0] * (len(controls) - 1)  # the busy control has more evidence of its own
    submitters = people.owners + people.by_role["compliance"]
    types = Counter()
    rows: list[EvidenceItem] = []
    created = 0
    first = last = None

    def flush():
        nonlocal rows, created
        EvidenceItem.objects.bulk_create(rows, batch_size=BATCH)
        created += len(rows)
        rows = []

    with transaction.atomic():
        for i in range(n):
            r = rng.random()
            occ_id = control_id = requirement_id = None
            if r < 0.45 and occurrences:
                occ_id, effective, owner_id, schedule_id = rng.choice(occurrences)
                control_id = control_of.get(schedule_id)
                by = owner_id
                effective = max(effective, three_years_ago)
            else:
                effective = three_years_ago + datetime.timedelta(days=rng.randint(0, span))
                by = rng.choice(submitters).pk
                if r < 0.80:
                    control_id = rng.choices(controls, weights=ctl_weights)[0].pk
                else:
                    requirement_id = rng.choices(requirements, weights=req_weights)[0].pk
            t = rng.random()
            kind = EvidenceItem.Type.FILE if t < 0.02 else EvidenceItem.Type.LINK if t < 0.6 else EvidenceItem.Type.NOTE
            types[kind] += 1
            submitted = timezone.make_aware(
                datetime.datetime.combine(effective, datetime.time(rng.randint(8, 17), rng.randint(0, 59)))
            )
            item = EvidenceItem(
                type=kind,
                title=f"{rng.choice(data.ACTIVITIES)} evidence {i}",
                source=rng.choice(["web", "web", "web", "api", "task_link"]),
                submitted_by_id=by,
                submitted_at=submitted,
                occurrence_id=occ_id,
                control_id=control_id,
                requirement_id=requirement_id,
                effective_date=effective,
            )
            if kind == EvidenceItem.Type.FILE:
                item.file = f"evidence/{effective:%Y/%m}/dummy{i:06d}"
                item.original_name = f"report-{i}.pdf"
                item.content_type = "application/pdf"
                item.size = rng.randint(20_000, 5_000_000)
                item.sha256 = f"{i:064x}"
            elif kind == EvidenceItem.Type.LINK:
                item.url = f"https://wiki.example.com/isms/evidence/{i}"
            else:
                item.note = "Checked and recorded; nothing out of the ordinary."
            if rng.random() < 0.3:
                item.period_start = effective - datetime.timedelta(days=30)
                item.period_end = effective
            first = effective if first is None or effective < first else first
            last = effective if last is None or effective > last else last
            rows.append(item)
            if len(rows) >= 20_000:
                flush()
        flush()
        # 1% corrected (a second version superseding the first), 0.5% deleted by an administrator.
        admin = people.by_role["admin"][0]
        all_pks = list(EvidenceItem.objects.values_list("pk", flat=True))
        picked = rng.sample(all_pks, len(all_pks) // 100 + len(all_pks) // 200)
        to_correct, to_delete = picked[: len(all_pks) // 100], picked[len(all_pks) // 100 :]
        corrections = []
        for new in EvidenceItem.objects.filter(pk__in=to_correct):
            old_pk = new.pk
            new.pk = None
            new.supersedes_id = old_pk
            new.version = 2
            new.title += " (corrected)"
            new.submitted_at += datetime.timedelta(days=1)
            corrections.append(new)
        EvidenceItem.objects.bulk_create(corrections, batch_size=BATCH)
        EvidenceItem.objects.filter(pk__in=to_delete).update(
            deleted_at=timezone.now(), deleted_by=admin, deletion_reason="Uploaded to the wrong control."
        )
    return {
        "evidence": created + len(corrections),
        "types": dict(types),
        "corrections": len(corrections),
        "deleted": len(to_delete),
        "first": first,
        "last": last,
    }


def build(people: People, *, schedules: int, evidence: int, today, rng: random.Random, catalogue=None) -> World:
    """The calendar (re-pointed at controls) and the evidence; catalogue = (requirements, controls) if made."""
    started = time.perf_counter()
    if catalogue is None:
        requirements = make_catalogue(rng)
        controls = make_controls(people, requirements, rng)
    else:
        requirements, controls = catalogue
    sizes = data.make_calendar(people, schedules=schedules, today=today, rng=rng)
    attach_schedules(controls, rng)
    made = make_evidence(people, controls, requirements, n=evidence, today=today, rng=rng)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return World(
        controls=len(controls),
        requirements=len(requirements),
        frameworks=Framework.objects.count(),
        mappings=Control.requirements.through.objects.count(),
        schedules=sizes.schedules,
        occurrences=sizes.occurrences,
        evidence=made["evidence"],
        evidence_by_type=made["types"],
        corrections=made["corrections"],
        deleted=made["deleted"],
        first=made["first"],
        last=made["last"],
        build_seconds=time.perf_counter() - started,
    )


def wipe() -> None:
    with transaction.atomic():
        EvidenceItem.objects.filter(supersedes__isnull=False).delete()
        EvidenceItem.objects.all().delete()
    data.wipe_calendar()


# --- the pages ----------------------------------------------------------------------------------------------------


@dataclass
class Target:
    """What the pages are measured on: the busiest control and requirement, a department, a user."""

    control: Control
    requirement: Requirement
    department_id: int
    submitter_id: int
    today: datetime.date

    @classmethod
    def pick(cls, controls: list[Control], today) -> "Target":
        requirement = busiest_requirement()
        submitter = (
            EvidenceItem.objects.values("submitted_by").annotate(n=Count("pk")).order_by("-n").first()["submitted_by"]
        )
        return cls(controls[0], requirement, controls[0].department_id, submitter, today)

    def describe(self) -> str:
        return (
            f"busy control {self.control.reference} ({Schedule.objects.filter(subject_id=self.control.pk).count()} "
            f"activities); requirement {self.requirement.identifier} mapped to "
            f"{self.requirement.controls.count()} controls"
        )


def pages_for(t: Target) -> list[tuple[str, str, list, dict]]:
    year_ago = t.today - relativedelta(years=1)
    return [
        ("library, first page", "evidence:index", [], {}),
        ("library, control + kind", "evidence:index", [], {"control": t.control.pk, "type": "link"}),
        (
            "library, requirement + from date",
            "evidence:index",
            [],
            {"requirement": t.requirement.pk, "date_from": year_ago.isoformat()},
        ),
        (
            "library, department + search + source",
            "evidence:index",
            [],
            {"department": t.department_id, "q": "review", "source": "web"},
        ),
        ("library, submitter, page 5", "evidence:index", [], {"submitted_by": t.submitter_id, "page": 5}),
        ("control coverage, busy control", "evidence:control_coverage", [t.control.pk], {}),
        ("requirement coverage, most-mapped requirement", "evidence:requirement_coverage", [t.requirement.pk], {}),
    ]


def _describe(response) -> str:
    html = response.content.decode()
    return f"{html.count('<tr'):,} table rows, {len(html) / 1024:,.0f} KB HTML"


def bench_pages(user, t: Target, runs: int, *, suffix: str = "", memory: bool = True) -> list[Result]:
    client = Client()
    client.force_login(user)
    results = []
    for name, url_name, args, params in pages_for(t):
        url = reverse(url_name, args=args)
        label = f"{name} ({url_name}{'?' + '&'.join(f'{k}={v}' for k, v in params.items()) if params else ''})"

        def get(url=url, params=params):
            response = client.get(url, params)
            if response.status_code != 200:
                raise RuntimeError(f"HTTP {response.status_code}")
            return response

        try:
            result = measure(label + suffix, get, runs=runs, warmup=1, memory=memory, target_ms=PAGE_TARGET_MS)
        except Exception as exc:  # noqa: BLE001 - report and go on
            results.append(skipped(label + suffix, f"failed ({type(exc).__name__}: {exc})"[:300], PAGE_TARGET_MS))
            continue
        result.note = _describe(result.value)
        results.append(result)
    return results


# --- the SoA PDF --------------------------------------------------------------------------------------------------


def bench_soa_pdf(user, runs: int) -> list[Result]:
    from io import BytesIO

    import pypdf

    from controls import selectors, services

    framework = selectors.soa_framework()
    if framework is None:
        return [skipped("SoA PDF", "no SoA framework loaded", PDF_TARGET_MS)]
    approve = measure("SoA approve (soa_approve)", lambda: services.soa_approve(framework=framework, by=user), runs=1)
    version = approve.value
    approve.note = f"version {version.number}, {len(version.entries)} lines"
    client = Client()
    client.force_login(user)
    url = reverse("controls:soa_version_pdf", args=[version.pk])

    def get():
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}")
        return response

    pdf = measure(f"SoA PDF (controls:soa_version_pdf, {framework.code})", get, runs=runs, target_ms=PDF_TARGET_MS)
    body = pdf.value.content if hasattr(pdf.value, "content") else b"".join(pdf.value.streaming_content)
    pages = len(pypdf.PdfReader(BytesIO(body)).pages)
    controls = sum(len(line["controls"]) for line in version.entries)
    pdf.note = f"{pages} pages, {len(body) / 1024:,.0f} KB; {len(version.entries)} lines naming {controls} controls"
    return [approve, pdf]


# --- the 200 MB upload --------------------------------------------------------------------------------------------


def _status(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, value = line.split(":", 1)
            out[key] = int(value.split()[0])  # kB
    return out


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _server_env(database: dict, media: Path, data_dir: Path) -> dict:
    env = dict(os.environ)
    if database["ENGINE"] == "django.db.backends.postgresql":
        auth = database.get("USER") or "postgres"
        if database.get("PASSWORD"):
            auth += f":{database['PASSWORD']}"
        host = f"{database.get('HOST') or '127.0.0.1'}:{database.get('PORT') or 5432}"
        url = f"postgres://{auth}@{host}/{database['NAME']}"
    else:
        url = f"sqlite:///{database['NAME']}"
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": url,
            "MEDIA_ROOT": str(media),
            "ISMS_DATA_DIR": str(data_dir),
            "EVIDENCE_MAX_UPLOAD_MB": "300",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "STATIC_MANIFEST": "false",
        }
    )
    env.pop("DEBUG", None)
    return env


def _upload(port: int, secret: str, control_id: int, size: int, name: str = "scan-results.csv") -> tuple[int, bytes]:
    """POST a generated CSV of `size` bytes as multipart, streamed in 1 MB pieces (never held whole)."""
    boundary = "----isms-bench-boundary-7d9f"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="control"\r\n\r\n{control_id}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nBenchmark 200 MB upload\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    line = b"2026-11-22,host-0001.example.com,443/tcp,TLS 1.2 supported,info,no action\n"
    chunk = line * (2**20 // len(line))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.putrequest("POST", "/api/v1/evidence/")
    conn.putheader("Authorization", f"Bearer {secret}")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(len(head) + size + len(tail)))
    conn.endheaders()
    conn.send(head)
    sent = 0
    while sent < size:
        piece = chunk[: size - sent]
        conn.send(piece)
        sent += len(piece)
    conn.send(tail)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, body


def bench_upload(user, control: Control, database: dict, tmp: Path, size_mb: int = 200) -> list[Result]:
    """Start gunicorn (one sync worker) on the bench database and upload a `size_mb` MB file through the API."""
    from evidence.api.services import token_create

    name = f"{size_mb} MB upload (POST /api/v1/evidence/, gunicorn worker)"
    _, secret = token_create(user=user, by=user, name="benchmark upload", scopes=["evidence:write"])
    media, data_dir = tmp / "upload-media", tmp / "upload-data"
    media.mkdir(exist_ok=True)
    data_dir.mkdir(exist_ok=True)
    port = 18000 + os.getpid() % 1000
    log = open(tmp / "gunicorn.log", "wb")  # noqa: SIM115 - closed in finally
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "isms.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--timeout",
            "600",
        ],
        env=_server_env(database, media, data_dir),
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        deadline = time.time() + 60
        worker = None
        while time.time() < deadline:
            kids = _children(server.pid)
            if kids:
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    c.request("GET", "/healthz")
                    c.getresponse().read()
                    worker = kids[0]
                    break
                except OSError:
                    pass
            time.sleep(0.3)
        if worker is None:
            return [skipped(name, f"gunicorn did not start; see {tmp / 'gunicorn.log'}")]
        # Warm-up: a small upload through the same path, so imports and caches are in place.
        status, body = _upload(port, secret, control.pk, 64 * 1024, "warm-up.csv")
        if status != 201:
            return [skipped(name, f"warm-up upload answered HTTP {status}: {body[:200]!r}")]
        try:  # reset the high-water mark where the kernel lets us (Linux: clear_refs 5)
            Path(f"/proc/{worker}/clear_refs").write_text("5")
            reset = True
        except OSError:
            reset = False
        before = _status(worker)
        samples = []
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                with contextlib.suppress(OSError, KeyError):
                    samples.append(_status(worker)["VmRSS"])
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        start = time.perf_counter()
        status, body = _upload(port, secret, control.pk, size_mb * 2**20)
        elapsed = time.perf_counter() - start
        stop.set()
        sampler.join()
        after = _status(worker)
        if status != 201:
            return [skipped(name, f"HTTP {status}: {body[:300]!r}")]
        baseline = before["VmHWM"] if reset else before["VmRSS"]
        peak = max([after["VmHWM"], *samples])
        increase_mb = (peak - baseline) / 1024
        item = EvidenceItem.objects.order_by("-pk").first()
        result = Result(name, runs_ms=[elapsed * 1000], target_ms=None)
        result.value = {
            "rss_before_mb": before["VmRSS"] / 1024,
            "peak_mb": peak / 1024,
            "increase_mb": increase_mb,
            "met": increase_mb <= UPLOAD_MEMORY_TARGET_MB,
        }
        result.note = (
            f"worker RSS {before['VmRSS'] / 1024:,.0f} MB before, peak {peak / 1024:,.0f} MB "
            f"(VmHWM{' reset before' if reset else ''}; {len(samples)} samples), +{increase_mb:,.1f} MB vs "
            f"target +{UPLOAD_MEMORY_TARGET_MB} MB: {'met' if increase_mb <= UPLOAD_MEMORY_TARGET_MB else 'MISSED'}; "
            f"stored {item.size / 2**20:,.0f} MB, {item.content_type}, "
            f"{size_mb * 2**20 / 2**20 / elapsed:,.0f} MB/s"
        )
        return [result]
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


# --- the run ------------------------------------------------------------------------------------------------------


def run(args, tmp: Path, database: dict, clock: float, today, people: People, rng, postgres, engine_label, db_detail):
    """Small data set (query counts), then the large one: pages, SoA PDF, upload; print and record the results."""
    from . import report, scenarios

    def step(message: str) -> None:
        print(f"[{time.perf_counter() - clock:6.1f} s] {message}", flush=True)

    import logging

    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    started = datetime.datetime.now(datetime.UTC)
    began = time.perf_counter()
    load_at_start = report.load_average()
    page_runs, pdf_runs = (3, 1) if args.quick else (11, 3)
    manager = people.compliance

    requirements = make_catalogue(rng)
    controls = make_controls(people, requirements, rng)
    step(f"Catalogue: {len(requirements)} requirements, {len(controls)} controls")
    small = build(people, schedules=20, evidence=2_000, today=today, rng=rng, catalogue=(requirements, controls))
    target = Target.pick(controls, today)
    step(f"Small data set: {small.describe()}; measuring the pages")
    small_pages = bench_pages(manager, target, page_runs, suffix=" [small data set]", memory=False)
    wipe()

    world = build(
        people,
        schedules=args.evidence_schedules,
        evidence=args.evidence_items,
        today=today,
        rng=rng,
        catalogue=(requirements, controls),
    )
    target = Target.pick(controls, today)
    step(f"Large data set built in {world.build_seconds:.1f} s: {world.describe()}; {target.describe()}")
    results = bench_pages(manager, target, page_runs)
    step("Measuring the SoA PDF")
    results += bench_soa_pdf(manager, pdf_runs)
    step(f"Measuring a {args.upload_mb} MB upload through gunicorn")
    upload = bench_upload(manager, target.control, database, tmp, size_mb=args.upload_mb)
    results += upload
    took = time.perf_counter() - began
    step("Done")

    load_at_end = report.load_average()
    load = "" if load_at_start is None else f"{load_at_start:.1f} at the start, {load_at_end:.1f} at the end"
    box = report.machine(db_detail, load)
    constancy = scenarios.query_constancy(small_pages, results[: len(small_pages)])
    print()
    print(f"Machine: {box.describe()}")
    print(f"Data set: {world.describe()}; {target.describe()}")
    print(f"Small data set: {small.describe()}")
    print()
    print(report.terminal_table(results + small_pages))
    print()
    for line in constancy:
        print(f"Queries, small → large: {line}")
    missed = [f"{r.name} ({r.median_ms:,.0f} ms)" for r in results if r.met is False]
    missed += [f"query count grows: {line}" for line in constancy if "GROWS" in line]
    for r in upload:
        if isinstance(r.value, dict) and not r.value["met"]:
            missed.append(f"{r.name}: memory +{r.value['increase_mb']:,.0f} MB (target +{UPLOAD_MEMORY_TARGET_MB} MB)")
    for m in missed:
        print(f"TARGET MISSED: {m}")

    if not args.no_docs and not args.quick:
        key = f"evidence-{'postgresql' if postgres else 'sqlite'}"
        notes = [
            f"Evidence benchmark (`--only evidence`). Today was {today}; data set built in "
            f"{world.build_seconds:.1f} s (seed {args.seed}). Measured on {target.describe()}.",
            f"Runs: pages {page_runs} after one warm-up request, signed in as a compliance manager; SoA PDF "
            f"{pdf_runs} (GET of the approved version's PDF). Targets: pages < {PAGE_TARGET_MS} ms with a constant "
            f"number of queries; SoA PDF < {PDF_TARGET_MS / 1000:g} s; the upload may raise the web worker's "
            f"memory by at most {UPLOAD_MEMORY_TARGET_MB} MB (gunicorn, 1 sync worker, tests.settings, DEBUG off; "
            "RSS from /proc, high-water mark reset before the upload; the client streams the body in 1 MB pieces).",
        ]
        notes += [f"Target missed: {m}." for m in missed]
        section = report.run_section(
            engine_key=key,
            engine_label=f"Evidence — {engine_label}",
            started=started,
            took_s=took,
            box=box,
            data_set=world.describe(),
            small_data_set=small.describe(),
            results=results + small_pages,
            constancy=constancy,
            notes=notes,
        )
        path = report.update_docs(section, engine_key=key, day=started.date())
        print(f"\nRecorded in {path}")
