"""The demo calendar: the recurring activities from the source articles, with a year of history.

Past occurrences get a realistic record — mostly done on time, some late, one overdue, one missed — so
every view has something to show, and the notices of the last two weeks are planned day by day, so the mail
outbox shows every kind (reminder, overdue, escalation, assignment, both digests). Idempotent: a second run
finds the schedules, history and notices in place."""

import datetime
import hashlib

from dateutil.relativedelta import relativedelta
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from isms.accounts.models import Department, User
from isms.foundation.roles import Role

from . import notices, purposes, services
from .models import Kind, Occurrence, OccurrenceEvent, Schedule

EXTRA_OWNERS = [
    ("hannah", "Hannah", "Hughes", "HR"),
    ("leo", "Leo", "Lawson", "Legal"),
    ("fiona", "Fiona", "Fletcher", "Facilities"),
]


def _extra_owners() -> dict[str, User]:
    people = {}
    for username, first, last, dept in EXTRA_OWNERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@northwind.example",
                "role": Role.OWNER,
                "department": Department.objects.get_or_create(name=dept)[0],
            },
        )
        if created:
            user.set_unusable_password()  # reached through task links only
            user.save(update_fields=["password"])
        people[username] = user
    return people


def _roll(schedule: Schedule, day: datetime.date) -> int:
    """A stable pseudo-random number 0–99 per occurrence, so the demo history is the same every time."""
    return int(hashlib.sha256(f"{schedule.title}{day}".encode()).hexdigest()[:4], 16) % 100


def load(*, users: dict[str, User], today: datetime.date) -> None:
    """The demo calendar (called by the demo loader with every app's demo, in layer order)."""
    people = {**users, **_extra_owners()}
    it = people["owner"]
    year_ago = today - relativedelta(months=11)
    quarter_start = datetime.date(year_ago.year, ((year_ago.month - 1) // 3) * 3 + 1, 1)
    specs = [
        dict(
            title="Quarterly access review",
            kind=Kind.CONTROL_ACTIVITY,
            owner=it,
            rrule="FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15",
            start_date=quarter_start + datetime.timedelta(days=14),
            description="Export the user lists of the production AWS account, GitHub and Google Workspace; "
            "ask each team lead to confirm who still needs access; remove leavers; attach the signed-off export.",
        ),
        dict(
            title="Monthly vulnerability scan and remediation",
            kind=Kind.CONTROL_ACTIVITY,
            owner=it,
            rrule="FREQ=MONTHLY;BYMONTHDAY=5",
            start_date=year_ago.replace(day=5),
            reminder_days=[7, 1],
            description="Run the authenticated scan of the production estate, raise tickets for every high or "
            "critical finding and attach the scan report and the ticket list.",
        ),
        dict(
            title="Quarterly backup restore test",
            kind=Kind.CONTROL_ACTIVITY,
            owner=it,
            rrule="FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=20",
            start_date=quarter_start + datetime.timedelta(days=19),
            description="Restore last night's database backup into the staging account, check row counts against "
            "production and record the time the restore took.",
        ),
        dict(
            title="Annual supplier security review",
            kind=Kind.SUPPLIER_REVIEW,
            owner=people["leo"],
            rrule="FREQ=YEARLY",
            start_date=today + datetime.timedelta(days=40),
            reminder_days=[30, 7],
            grace_days=14,
            description="Review the SOC 2 / ISO certificates and DPAs of the critical suppliers list.",
        ),
        dict(
            title="Security awareness refresher",
            kind=Kind.TRAINING,
            owner=people["hannah"],
            rrule="FREQ=YEARLY",
            start_date=today - relativedelta(months=9),
            reminder_days=[30, 7, 1],
            grace_days=14,
            description="Assign the annual awareness module to all staff and attach the completion report.",
        ),
        dict(
            title="Internal audit slot",
            kind=Kind.INTERNAL_AUDIT,
            owner=users["compliance"],
            rrule="FREQ=MONTHLY;COUNT=11;BYMONTHDAY=25",
            start_date=(today - relativedelta(months=4)).replace(day=25),
            reminder_days=[14, 3],
            description="Audit the clause or Annex A theme planned for this month in the audit programme.",
        ),
        dict(
            title="Management review",
            kind=Kind.MANAGEMENT_REVIEW,
            owner=users["compliance"],
            rrule="FREQ=MONTHLY;INTERVAL=6",
            start_date=(today - relativedelta(months=5)).replace(day=10),
            reminder_days=[21, 7],
            escalate_to=users["viewer"],
            description="Compile the clause 9.3 inputs, hold the review with leadership and record decisions.",
        ),
        dict(
            title="Physical access log review",
            kind=Kind.CONTROL_ACTIVITY,
            owner=people["fiona"],
            rrule="FREQ=MONTHLY;BYDAY=1MO",
            start_date=today - relativedelta(months=6),
            reminder_days=[3],
            description="Check the badge system's access log for the server room against the authorised list.",
        ),
        # One-off items that make sure the demo shows an overdue, a missed and a due-soon task.
        dict(
            title="Firewall rule review after network change",
            kind=Kind.CORRECTIVE_ACTION,
            owner=it,
            rrule="",
            start_date=today - datetime.timedelta(days=3),
            description="Review the firewall rules changed in CHG-311.",
        ),
        dict(
            title="Purge expired customer exports",
            kind=Kind.OTHER,
            owner=people["leo"],
            rrule="",
            start_date=today - datetime.timedelta(days=20),
            description="Delete customer exports older than the retention period.",
        ),
        dict(
            title="Renew the penetration test contract",
            kind=Kind.SUPPLIER_REVIEW,
            owner=it,
            rrule="",
            start_date=today + datetime.timedelta(days=2),
            reminder_days=[14, 3, 1],
            description="Agree scope and dates for next year's external penetration test.",
        ),
    ]
    for spec in specs:
        spec = {"reminder_days": [14, 3, 1], "grace_days": 7, "department": spec["owner"].department, **spec}
        spec.setdefault("evidence_required", spec["kind"] == Kind.CONTROL_ACTIVITY)  # as the schedule form does
        schedule = Schedule.objects.filter(title=spec["title"]).first()
        # Entered on its start date, as the team did a year ago (not late today: that would extend its grace).
        entered = min(today, spec["start_date"])
        schedule = services.schedule_save(schedule=schedule, by=users["compliance"], today=entered, **spec)
        services.schedule_materialise(schedule=schedule, today=today, since=schedule.start_date)
        _history(schedule, today)
    _leaver(users["compliance"], today)
    # The calendar's own days first: the apps loaded after it find its missed tasks as beat would have left them
    # (the audit programme's demo works with the nonconformities they raised).
    _notices(people, users["compliance"], today)


def finish(*, users: dict[str, User], today: datetime.date) -> None:
    """Once every app's demo has put its tasks on the calendar, the same days again for the tasks the later apps
    added (what is already written is skipped): otherwise a second load would still find their notices to write."""
    _notices({**users, **_extra_owners()}, users["compliance"], today)


LEAVER_TASK = "Decommission the legacy VPN concentrator"


def _leaver(by: User, today: datetime.date) -> None:
    """A contractor who left last week still owns a task: it shows as needing a new owner, nobody is reminded, and
    the compliance team is told once."""
    sam, _ = User.objects.get_or_create(
        username="sam",
        defaults={
            "first_name": "Sam",
            "last_name": "Shah",
            "email": "sam@northwind.example",
            "role": Role.OWNER,
            "department": Department.objects.get_or_create(name="IT")[0],
        },
    )
    if sam.has_usable_password():
        sam.set_unusable_password()  # never signed in: reached by task links while at Northwind
        sam.save(update_fields=["password"])
    if not Schedule.objects.filter(title=LEAVER_TASK).exists():
        User.objects.filter(pk=sam.pk).update(is_active=True)  # the task was given to Sam while at Northwind
        sam.refresh_from_db()
        services.schedule_save(
            by=by,
            today=today,
            title=LEAVER_TASK,
            kind=Kind.OTHER,
            owner=sam,
            department=sam.department,
            rrule="",
            start_date=today + datetime.timedelta(days=5),
            reminder_days=[14, 3, 1],
            grace_days=7,
            description="Export the final configuration, revoke its certificates and remove it from the network.",
        )
    User.objects.filter(pk=sam.pk).update(is_active=False)


# The demo's notices are planned as beat would have planned them over these last days, so that every kind shows.
NOTICE_DAYS = 14


def _notices(people: dict[str, User], by: User, today: datetime.date) -> None:
    """Every kind of notice the calendar sends, written by the real planning functions on the days they would
    have been due: beat's scan for each of the last NOTICE_DAYS days (reminders, overdue notices, the tasks
    missed on that day and their escalation, which a single scan today would leave out as too old to catch up
    on), one reassignment (the new owner is told) and this week's digests. Notices already written are not
    written again, so loading twice sends nothing twice; the worker sends them once the demo is loaded."""
    for offset in range(NOTICE_DAYS, -1, -1):
        day = today - datetime.timedelta(days=offset)
        notices.scan(today=day, now=timezone.make_aware(datetime.datetime.combine(day, datetime.time(7))))
    handover = Occurrence.objects.filter(
        schedule__title="Renew the penetration test contract", state=Occurrence.State.OPEN
    ).first()
    if handover is not None and not handover.events.filter(action=OccurrenceEvent.Action.REASSIGNED).exists():
        services.occurrence_reassign(
            occurrence=handover, to=people["leo"], by=by, note="Legal negotiates the contract this year."
        )
    notices.plan_digests(today)


def _history(schedule: Schedule, today: datetime.date) -> None:
    past = schedule.occurrences.filter(state=Occurrence.State.OPEN, due_date__lt=today, events__isnull=True)
    for occ in past.select_related("owner"):
        roll = _roll(schedule, occ.due_date)
        if schedule.is_one_off:
            continue  # the one-offs stay overdue / become missed
        if roll < 72:
            done_on = occ.due_date - datetime.timedelta(days=roll % 4)
        elif roll < 88:
            done_on = occ.due_date + datetime.timedelta(days=2 + roll % 8)
        else:
            continue  # nothing done: overdue within the grace period, missed after it
        if done_on >= today:
            continue
        at = timezone.make_aware(datetime.datetime.combine(done_on, datetime.time(10, 30)))
        links = [f"https://tickets.northwind.example/ISMS-{occ.pk}"] if roll % 3 == 0 else []
        # Most tasks leave a record behind; a few were closed without one, which coverage shows as a gap.
        files = [] if roll % 11 == 5 else [_record_file(schedule, occ, done_on)]
        # Through the task page's completion, so the evidence app records the files and links.
        purposes.complete_task(
            occurrence=occ,
            by=occ.owner,
            data={
                "note": "Done as planned; see the attached record.",
                "links": links,
                "files": files,
                # A task that asks for evidence and got none says why (it shows as done without evidence).
                "without_attachments_reason": "" if files or links else "The record is on paper in the server room.",
            },
            now=at,
        )


def _record_file(schedule: Schedule, occ: Occurrence, done_on: datetime.date) -> SimpleUploadedFile:
    slug = "-".join(schedule.title.lower().split()[:3])
    body = (
        f"{schedule.title}\nDue: {occ.due_date:%Y-%m-%d}\nDone: {done_on:%Y-%m-%d} by {occ.owner}\n"
        "Result: completed as described in the procedure; no exceptions found.\n"
    )
    return SimpleUploadedFile(f"{slug}-{occ.due_date:%Y-%m}.txt", body.encode(), content_type="text/plain")
