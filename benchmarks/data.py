"""A large, realistic calendar built fast: bulk_create straight into the models, no services, no signals.

What it builds (for `schedules` = 2,000):

* ~200 users in six departments: administrators, compliance managers, control owners, viewers, auditors;
  ownership is skewed (a few owners hold many schedules), as in a real organisation.
* schedules with weekly, monthly, quarterly and yearly rules (a few rule spellings each), reminder days
  [3, 1] (weekly), [14, 3, 1] (monthly, quarterly) or [30, 14, 3, 1] (yearly), 7 days' grace; most started
  three years ago, a fifth later; 3% are inactive (ended).
* ~100,000 occurrences, exactly the dates `services.schedule_materialise` would make (the same
  `Schedule.due_dates(horizon(today))`, the same remind_from / grace_until), from three years ago to the
  13-month horizon. Settled history is mostly done (on time, some late), some missed, some skipped;
  work inside its grace period is half done late, half still open; future work is open, with a few tasks
  done early; tasks whose grace ended in the last three days are still open (the scan was off over a
  weekend), so the first scan has some to mark missed.
* the Notice history the scan would have written for the settled past (every reminder, overdue notice and
  escalation, all sent), so the notice table has its real size. Recent work has no notices yet: the
  first scan writes every notice that applies today (the catch-up after an import or an outage).

Occurrence events and evidence are not generated: no measured path reads them.
"""

import datetime
import random
from collections import Counter
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from isms.accounts.models import Department, User
from isms.foundation.roles import Role
from isms.maintenance.models import Kind, Occurrence, OccurrenceEvent, Schedule
from isms.maintenance.notices import ESCALATION_CATCH_UP, Slot
from isms.maintenance.services import horizon
from isms.notices.models import Notice

DEPARTMENTS = ["IT", "Information Security", "HR", "Legal", "Facilities", "Finance"]
ROLE_COUNTS = {Role.ADMIN: 2, Role.COMPLIANCE: 6, Role.VIEWER: 10, Role.AUDITOR: 4}  # the rest are owners
GRACE_DAYS = 7

# (label, rule spellings, reminder days, schedules per 2,000)
PATTERNS = [
    ("weekly", ["FREQ=WEEKLY", "FREQ=WEEKLY;BYDAY=MO"], [3, 1], 315),
    ("monthly", ["FREQ=MONTHLY", "FREQ=MONTHLY;BYMONTHDAY=1"], [14, 3, 1], 560),
    ("quarterly", ["FREQ=MONTHLY;INTERVAL=3", "FREQ=MONTHLY;BYMONTH=1,4,7,10;BYDAY=1MO"], [14, 3, 1], 560),
    ("yearly", ["FREQ=YEARLY"], [30, 14, 3, 1], 565),
]
KIND_WEIGHTS = {
    Kind.CONTROL_ACTIVITY: 50,
    Kind.RISK_REVIEW: 10,
    Kind.SUPPLIER_REVIEW: 10,
    Kind.TRAINING: 8,
    Kind.INTERNAL_AUDIT: 6,
    Kind.CORRECTIVE_ACTION: 6,
    Kind.MANAGEMENT_REVIEW: 3,
    Kind.EXTERNAL_AUDIT: 2,
    Kind.OTHER: 5,
}
ACTIVITIES = [
    "Access review",
    "Backup restore test",
    "Vulnerability scan",
    "Firewall rule review",
    "Patch compliance check",
    "Supplier assessment",
    "Log review",
    "Privileged account audit",
    "Antivirus status check",
    "Awareness training",
    "Risk register review",
    "Physical security walk-through",
    "Asset inventory reconciliation",
    "Incident response drill",
    "Policy review",
    "Business continuity test",
]
FIRST_NAMES = ["Alex", "Sam", "Jo", "Priya", "Omar", "Chen", "Maria", "Tom", "Aisha", "Luca", "Nina", "Kofi"]
LAST_NAMES = ["Smith", "Patel", "Jones", "Nguyen", "Garcia", "Okafor", "Müller", "Rossi", "Kowalski", "Brown"]

FLUSH = 20_000  # objects kept in memory before a bulk insert
BATCH = 2_000


@dataclass
class People:
    departments: list[Department]
    by_role: dict[str, list[User]]
    owners: list[User]  # who owns schedules (control owners and compliance managers), in ownership weight order
    owner_weights: list[float]

    @property
    def compliance(self) -> User:
        return self.by_role[Role.COMPLIANCE][0]


@dataclass
class Sizes:
    users: int = 0
    departments: int = 0
    schedules: int = 0
    schedules_by_pattern: dict[str, int] = field(default_factory=dict)
    occurrences: int = 0
    occurrences_by_state: dict[str, int] = field(default_factory=dict)
    notices: int = 0
    first: datetime.date | None = None
    last: datetime.date | None = None
    build_seconds: float = 0.0

    def describe(self) -> str:
        states = ", ".join(f"{k} {v:,}" for k, v in sorted(self.occurrences_by_state.items()))
        patterns = ", ".join(f"{k} {v:,}" for k, v in self.schedules_by_pattern.items())
        return (
            f"{self.users:,} users in {self.departments} departments; {self.schedules:,} schedules ({patterns}); "
            f"{self.occurrences:,} occurrences from {self.first} to {self.last} ({states}); "
            f"{self.notices:,} notices already sent"
        )


def make_people(rng: random.Random, users: int = 200) -> People:
    """Departments and users, bulk-created; every password is the same (fast) hash."""
    Department.objects.bulk_create([Department(name=n) for n in DEPARTMENTS])
    departments = list(Department.objects.order_by("pk"))
    password = make_password("benchmark-password")
    roles = [role for role, n in ROLE_COUNTS.items() for _ in range(n)]
    roles += [Role.OWNER] * (users - len(roles))
    rows = []
    for i, role in enumerate(roles):
        rows.append(
            User(
                username=f"{role}{i:03d}",
                first_name=FIRST_NAMES[i % len(FIRST_NAMES)],
                last_name=LAST_NAMES[(i // len(FIRST_NAMES)) % len(LAST_NAMES)],
                email=f"{role}{i:03d}@bench.example",
                password=password,
                role=role,
                is_staff=role == Role.ADMIN,
                department=None if role == Role.AUDITOR else departments[i % len(departments)],
            )
        )
    User.objects.bulk_create(rows, batch_size=BATCH)
    by_role: dict[str, list[User]] = {}
    for user in User.objects.order_by("pk"):
        by_role.setdefault(user.role, []).append(user)
    owners = by_role[Role.OWNER] + by_role[Role.COMPLIANCE]
    rng.shuffle(owners)
    # Skewed ownership: the k-th owner holds about 1/(k+5) as much as the others — a long tail.
    weights = [1 / (k + 5) for k in range(len(owners))]
    return People(departments, by_role, owners, weights)


def _pattern_counts(schedules: int) -> list[tuple[str, list[str], list[int], int]]:
    total = sum(p[3] for p in PATTERNS)
    counts = [max(1, round(schedules * p[3] / total)) for p in PATTERNS]
    counts[-1] += schedules - sum(counts)
    return [(p[0], p[1], p[2], n) for p, n in zip(PATTERNS, counts, strict=True)]


def _at(day: datetime.date, rng: random.Random) -> datetime.datetime:
    """An aware datetime during office hours on `day`, local time."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(rng.randint(8, 17), rng.randint(0, 59))))


def _outcome(occ: Occurrence, today: datetime.date, lead: int, rng: random.Random) -> None:
    """Give an occurrence a realistic state for where its dates fall relative to today."""
    due = occ.due_date
    done_on = None
    if due >= today:  # ahead: open, a few done early once their reminders started
        if occ.remind_from <= today and rng.random() < 0.15:
            done_on = occ.remind_from + datetime.timedelta(days=rng.randint(0, (today - occ.remind_from).days))
    elif occ.grace_until >= today:  # overdue, within grace: half done late, half still open
        if rng.random() < 0.5:
            done_on = due + datetime.timedelta(days=rng.randint(1, (today - due).days))
    elif occ.grace_until >= today - datetime.timedelta(days=3):  # grace just ended: the scan has not run since
        if rng.random() < 0.5:
            done_on = min(today, due + datetime.timedelta(days=rng.randint(1, GRACE_DAYS)))
    else:  # settled history
        r = rng.random()
        if r < 0.74:
            done_on = due - datetime.timedelta(days=rng.randint(0, min(lead, 10)))
        elif r < 0.87:
            done_on = min(today, due + datetime.timedelta(days=rng.randint(1, 30)))
        elif r < 0.95:
            occ.state = Occurrence.State.MISSED
            occ.link_version = 1
        else:
            occ.state = Occurrence.State.SKIPPED
            occ.skip_reason = "System decommissioned before the due date."
            occ.link_version = 1
    if done_on is not None:
        occ.state = Occurrence.State.DONE
        occ.completed_on = done_on
        occ.completed_at = _at(done_on, rng)
        occ.completed_by_id = occ.owner_id
        occ.completion_note = "Done; evidence attached."
        occ.link_version = 1


@transaction.atomic
def make_calendar(people: People, *, schedules: int, today: datetime.date, rng: random.Random) -> Sizes:
    """Schedules, their occurrences and the notice history, bulk-created."""
    until = horizon(today)
    three_years_ago = today - relativedelta(years=3)
    admin = people.by_role[Role.ADMIN][0]
    managers = people.by_role[Role.COMPLIANCE]
    kinds, kind_weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())

    rows, pattern_of = [], []
    number = 0
    for label, rules, reminder_days, count in _pattern_counts(schedules):
        for _ in range(count):
            number += 1
            owner = rng.choices(people.owners, weights=people.owner_weights)[0]
            if rng.random() < 0.8:
                start = three_years_ago + datetime.timedelta(days=rng.randint(0, 60))
            else:
                start = three_years_ago + datetime.timedelta(days=rng.randint(61, 800))
            active = rng.random() >= 0.03
            end = None if active else min(today, start + datetime.timedelta(days=rng.randint(200, 900)))
            kind = rng.choices(kinds, weights=kind_weights)[0]
            rows.append(
                Schedule(
                    title=f"{rng.choice(ACTIVITIES)} #{number:04d}",
                    description="Follow the runbook; attach the report as evidence.",
                    kind=kind,
                    owner_id=owner.pk,
                    department_id=owner.department_id,
                    rrule=rng.choice(rules),
                    start_date=start,
                    end_date=end,
                    reminder_days=list(reminder_days),
                    grace_days=GRACE_DAYS,
                    escalate_to_id=rng.choice(managers).pk if rng.random() < 0.25 else None,
                    active=active,
                    created_by_id=admin.pk,
                )
            )
            pattern_of.append(label)
    first_new_pk = (Schedule.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    Schedule.objects.bulk_create(rows, batch_size=BATCH)
    created = list(Schedule.objects.filter(pk__gte=first_new_pk).order_by("pk"))
    assert len(created) == len(rows)

    sizes = Sizes(schedules=len(created), schedules_by_pattern=dict(Counter(pattern_of)))
    states: Counter = Counter()
    first = last = None
    pending: list[Occurrence] = []
    # Only what `materialise_all` would keep: an inactive schedule keeps its dates up to its end.
    for schedule in created:
        lead = datetime.timedelta(days=schedule.lead_days)
        grace = datetime.timedelta(days=schedule.grace_days)
        for day in schedule.due_dates(until):
            occ = Occurrence(
                schedule_id=schedule.pk,
                due_date=day,
                title=schedule.title,
                owner_id=schedule.owner_id,
                department_id=schedule.department_id,
                remind_from=day - lead,
                grace_until=day + grace,
            )
            _outcome(occ, today, schedule.lead_days, rng)
            states[occ.state] += 1
            first = day if first is None or day < first else first
            last = day if last is None or day > last else last
            pending.append(occ)
        if len(pending) >= FLUSH:
            Occurrence.objects.bulk_create(pending, batch_size=BATCH)
            pending = []
    Occurrence.objects.bulk_create(pending, batch_size=BATCH)
    sizes.occurrences = sum(states.values())
    sizes.occurrences_by_state = dict(states)
    sizes.first, sizes.last = first, last
    sizes.notices = _notice_history(created, people, today, rng)
    return sizes


def _notice_history(schedules: list[Schedule], people: People, today: datetime.date, rng: random.Random) -> int:
    """Every notice the scan sent for the settled past (grace over more than a week ago), marked sent.

    Run on an empty notice table, right after the occurrences are made."""
    by_pk = {s.pk: s for s in schedules}
    task = ContentType.objects.get_for_model(Occurrence).pk
    team = [u.pk for u in people.by_role[Role.COMPLIANCE]]
    settled = today - ESCALATION_CATCH_UP
    rows: list[Notice] = []
    total = 0

    def sent(day: datetime.date) -> datetime.datetime:
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time(7, rng.randint(0, 59))))

    history = (
        Occurrence.objects.filter(grace_until__lt=settled)
        .values_list("pk", "schedule_id", "owner_id", "due_date", "grace_until", "state", "completed_on")
        .order_by("pk")
    )
    for pk, schedule_id, owner_id, due, grace_until, state, completed_on in history.iterator(chunk_size=5000):
        schedule = by_pk[schedule_id]
        for n in schedule.reminder_days:  # a reminder on each reminder day the task was still open
            day = due - datetime.timedelta(days=n)
            if state == Occurrence.State.DONE and completed_on <= day:
                continue
            if state == Occurrence.State.SKIPPED and rng.random() < 0.5:
                continue
            rows.append(
                Notice(
                    key=f"occ:{pk}:remind:{n}:to:{owner_id}",
                    kind=Slot.REMINDER,
                    subject_type_id=task,
                    subject_id=pk,
                    recipient_id=owner_id,
                    data={"days_before": n},
                    sent_at=sent(day),
                    attempts=1,
                )
            )
        late = state == Occurrence.State.MISSED or (state == Occurrence.State.DONE and completed_on > due)
        if late:
            rows.append(
                Notice(
                    key=f"occ:{pk}:overdue:to:{owner_id}",
                    kind=Slot.OVERDUE,
                    subject_type_id=task,
                    subject_id=pk,
                    recipient_id=owner_id,
                    sent_at=sent(due + datetime.timedelta(days=1)),
                    attempts=1,
                )
            )
        if state == Occurrence.State.MISSED:
            for r in [schedule.escalate_to_id] if schedule.escalate_to_id else team:
                rows.append(
                    Notice(
                        key=f"occ:{pk}:escalated:to:{r}",
                        kind=Slot.ESCALATED,
                        subject_type_id=task,
                        subject_id=pk,
                        recipient_id=r,
                        sent_at=sent(grace_until + datetime.timedelta(days=1)),
                        attempts=1,
                    )
                )
        if len(rows) >= FLUSH:
            Notice.objects.bulk_create(rows, batch_size=BATCH)
            total += len(rows)
            rows = []
    Notice.objects.bulk_create(rows, batch_size=BATCH)
    total += len(rows)
    # created_at is auto_now_add: give the history its real dates.
    Notice.objects.filter(sent_at__isnull=False).update(created_at=F("sent_at"))
    return total


def wipe_calendar() -> None:
    """Remove every schedule, occurrence, event and notice (between the small and the large data set)."""
    with transaction.atomic():
        Notice.objects.all().delete()
        OccurrenceEvent.objects.all().delete()
        Occurrence.objects.all().delete()
        Schedule.objects.all().delete()
