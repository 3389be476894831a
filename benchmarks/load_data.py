"""The load test's data set, in a PostgreSQL database of its own (`isms_load`), built once and reused.

The data set is the benchmark's (benchmarks/data.py and benchmarks/evidence_bench.py) in one database: about 200
users, 2,000 schedules with ~97,000 occurrences and their notice history, the shipped catalogues plus a generated
framework (300 requirements), 500 controls that the schedules belong to, and 200,000 evidence items. What it was
built with (sizes, seed, builder version) is written as the database's comment once the build is complete; a
later run reuses the database when that matches, and rebuilds it otherwise or with --rebuild."""

import datetime
import json
import os
import random
import time
from dataclasses import dataclass

import environ
import psycopg
from psycopg import sql

LOAD_DB = "isms_load"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/postgres"
#: Bump when the builder changes what it makes, so older data sets are rebuilt.
BUILDER_VERSION = 1


def server_config() -> dict:
    """DATABASE_URL's server (default: local PostgreSQL); refuses anything but PostgreSQL, in plain words."""
    url = os.environ.get("DATABASE_URL", "").strip() or DEFAULT_URL
    config = environ.Env.db_url_config(url)
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise SystemExit(
            "make loadtest needs PostgreSQL (DATABASE_URL=postgres://…; unset, it uses "
            f"{DEFAULT_URL}); {config['ENGINE']} is not supported."
        )
    return config


def _params(config: dict, dbname: str) -> dict:
    params = {
        "dbname": dbname,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
    }
    return {k: v for k, v in params.items() if v is not None}


def maintenance_connection(config: dict) -> psycopg.Connection:
    """An autocommit connection to the server's maintenance database (never to a benchmark's database itself)."""
    name = config.get("NAME") or "postgres"
    if name == LOAD_DB or name.startswith("isms_growth_"):
        name = "postgres"
    try:
        return psycopg.connect(**_params(config, name), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise SystemExit(
            f"make loadtest needs a PostgreSQL server; none answered at {config.get('HOST')}:{config.get('PORT')} "
            f"({str(exc).strip().splitlines()[0]}). Start one, or set DATABASE_URL."
        ) from None


def load_url(config: dict, name: str = LOAD_DB) -> str:
    """A DATABASE_URL for isms_load (or `name`) on the same server, as the web workers and this process read it."""
    auth = config.get("USER") or "postgres"
    if config.get("PASSWORD"):
        auth += f":{config['PASSWORD']}"
    host = f"{config.get('HOST') or '127.0.0.1'}:{config.get('PORT') or 5432}"
    return f"postgres://{auth}@{host}/{name}"


def wanted_spec(args) -> dict:
    return {
        "builder": BUILDER_VERSION,
        "seed": args.seed,
        "users": args.users,
        "schedules": args.schedules,
        "evidence": args.evidence_items,
    }


def recorded(conn: psycopg.Connection, name: str = LOAD_DB) -> dict | None:
    """What the existing isms_load (or `name`) was built with (its comment), or None if there is none or it is
    incomplete."""
    row = conn.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
    ).fetchone()
    if row is None or not row[0]:
        return None
    try:
        return json.loads(row[0])
    except ValueError:
        return None


def recreate(conn: psycopg.Connection, name: str = LOAD_DB) -> None:
    ident = sql.Identifier(name)
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
    conn.execute(sql.SQL("CREATE DATABASE {}").format(ident))


def record(conn: psycopg.Connection, spec: dict, name: str = LOAD_DB) -> None:
    conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), sql.Literal(json.dumps(spec))))


def build(args) -> dict:
    """Build the data set into the (empty, migrated) database Django is configured with; returns what to record."""
    from django.db import connection
    from django.utils import timezone

    from . import data, evidence_bench

    started = time.perf_counter()
    rng = random.Random(args.seed)
    today = timezone.localdate()
    people = data.make_people(rng, users=args.users)
    requirements = evidence_bench.make_catalogue(rng)
    controls = evidence_bench.make_controls(people, requirements, rng)
    sizes = data.make_calendar(people, schedules=args.schedules, today=today, rng=rng)
    sizes.users = sum(len(v) for v in people.by_role.values())
    sizes.departments = len(people.departments)
    evidence_bench.attach_schedules(controls, rng)
    made = evidence_bench.make_evidence(people, controls, requirements, n=args.evidence_items, today=today, rng=rng)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    types = ", ".join(f"{k} {v:,}" for k, v in sorted(made["types"].items()))
    description = (
        f"{sizes.describe()}; {len(requirements):,} requirements, {len(controls):,} controls that the schedules "
        f"belong to; {made['evidence']:,} evidence items ({types}; {made['corrections']:,} corrections, "
        f"{made['deleted']:,} deleted) effective {made['first']} to {made['last']}"
    )
    return {
        **wanted_spec(args),
        "built_on": today.isoformat(),
        "build_seconds": round(time.perf_counter() - started, 1),
        "description": description,
    }


# --- who and what the pages are measured on --------------------------------------------------------------------


@dataclass
class Targets:
    manager: object  # the busiest compliance manager
    owner: object  # the busiest control owner
    control: object  # the control with the most periodic activities
    requirement: object  # the requirement behind the most controls
    task: object  # an open task with evidence, opened through its emailed link
    task_evidence: int
    owner_tasks: int
    control_activities: int
    requirement_controls: int

    def describe(self) -> str:
        return (
            f"compliance manager `{self.manager.username}`; control owner `{self.owner.username}` "
            f"({self.owner_tasks:,} tasks); control {self.control.reference} ({self.control_activities} periodic "
            f"activities); requirement {self.requirement.identifier} (behind {self.requirement_controls} "
            f"controls); task link to task #{self.task.pk} ({self.task_evidence} evidence items)"
        )


def pick_targets() -> Targets:
    """The busiest people and objects of the data set, chosen by query (so any seed or size works)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Count, Q

    from controls.models import Control
    from isms.accounts.models import User
    from isms.foundation.reach import may_own_work
    from isms.foundation.roles import Role
    from isms.maintenance.models import Occurrence, Schedule

    from .evidence_bench import busiest_requirement

    def busiest(role: str):
        return (
            User.objects.filter(role=role, is_active=True).annotate(n=Count("occurrences")).order_by("-n", "pk").first()
        )

    manager = busiest(Role.COMPLIANCE)
    owner = busiest(Role.OWNER)
    owner_tasks = Occurrence.objects.filter(owner=owner).count()
    control_type = ContentType.objects.get_for_model(Control)
    top = (
        Schedule.objects.filter(subject_type=control_type)
        .values("subject_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "subject_id")
        .first()
    )
    control = Control.objects.get(pk=top["subject_id"])
    requirement = busiest_requirement()
    open_states = [Occurrence.State.OPEN, Occurrence.State.MISSED]
    candidates = (
        Occurrence.objects.filter(state__in=open_states)
        .annotate(n=Count("evidence", filter=Q(evidence__deleted_at__isnull=True)))
        .filter(n__gt=0)
        .select_related("owner")
        .order_by("-n", "pk")[:50]
    )
    task = next(o for o in candidates if may_own_work(o.owner))
    return Targets(
        manager=manager,
        owner=owner,
        control=control,
        requirement=requirement,
        task=task,
        task_evidence=task.n,
        owner_tasks=owner_tasks,
        control_activities=top["n"],
        requirement_controls=requirement.controls.count(),
    )


def set_password(users, password: str) -> None:
    """Give the measured people a password (hashed as production hashes it) and clear any lockout."""
    from axes.utils import reset

    for user in users:
        user.set_password(password)
        user.save(update_fields=["password"])
        reset(username=user.username)


def authenticator_for(user):
    """A confirmed authenticator (TOTP device) for `user`: production's settings ask the compliance team for the
    second step, so the measured manager signs in with one."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, name="load test", confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="load test", confirmed=True)


def current_code(device) -> str:
    """What the authenticator app shows now."""
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def second_step_passed(client, device) -> None:
    """Mark a test client's session as having passed the second step with `device` (as the code page does)."""
    from django_otp import DEVICE_ID_SESSION_KEY

    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def built_age_days(spec: dict) -> int | None:
    try:
        return (datetime.date.today() - datetime.date.fromisoformat(spec["built_on"])).days
    except (KeyError, ValueError):
        return None
