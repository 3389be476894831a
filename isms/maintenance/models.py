"""The maintenance calendar.

A Schedule says what recurs, for what, who owns it and how often; it produces dated Occurrences a rolling
horizon ahead. An occurrence's resolution (open, done, skipped, missed) is stored; whether an open one is
upcoming, due or overdue follows from its dates and today, so it never goes stale. Every change to an
occurrence is an OccurrenceEvent; every email about it is a Notice of the notice engine (isms.notices).
The calendar knows no domain: what a schedule belongs to is its `subject` and `purpose`, and what its tasks
mean (label, link, what completing or missing one does) is declared by the subject's app (purposes.py).
"""

import datetime

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from isms.foundation.roles import STAFF

from . import recurrence


class Kind(models.TextChoices):
    CONTROL_ACTIVITY = "control_activity", "Control activity"
    RISK_REVIEW = "risk_review", "Risk review"
    INTERNAL_AUDIT = "internal_audit", "Internal audit"
    MANAGEMENT_REVIEW = "management_review", "Management review"
    EXTERNAL_AUDIT = "external_audit", "External audit"
    SUPPLIER_REVIEW = "supplier_review", "Supplier review"
    TRAINING = "training", "Training and awareness"
    CORRECTIVE_ACTION = "corrective_action", "Corrective action"
    OTHER = "other", "Other"


# Bounds of a schedule's numbers and dates (Schedule.clean): beyond them a date cannot be worked out.
MAX_GRACE_DAYS = 365
FIRST_YEAR, LAST_YEAR = 2000, 2100


def default_reminder_days() -> list[int]:
    return [14, 3, 1]


class Schedule(models.Model):
    """A recurring (or one-off) obligation: what, for what, who, how often, and how to remind."""

    title = models.CharField(max_length=200)
    description = models.TextField("What to do", blank=True, help_text="Instructions the owner sees on the task.")
    kind = models.CharField(max_length=30, choices=Kind.choices, default=Kind.CONTROL_ACTIVITY)
    # What the schedule belongs to (a control, a risk, a certification audit…), when there is one.
    subject_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL)
    subject_id = models.PositiveBigIntegerField(null=True, blank=True)
    subject = GenericForeignKey("subject_type", "subject_id")
    # Tells apart several schedules of one subject (a nonconformity's corrective action and its effectiveness
    # check); empty for recurring activities, of which a subject may have any number.
    purpose = models.CharField(max_length=40, blank=True)

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="schedules")
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="schedules"
    )
    rrule = models.CharField(
        "recurrence rule", max_length=500, blank=True, help_text="iCalendar RRULE; empty for a single date."
    )
    start_date = models.DateField(help_text="The first due date (for a single date, the due date).")
    end_date = models.DateField(null=True, blank=True, help_text="No occurrences after this date.")
    reminder_days = models.JSONField(
        default=default_reminder_days, help_text="Days before the due date on which to remind the owner."
    )
    grace_days = models.PositiveIntegerField(
        default=7, help_text="Days after the due date before the task counts as missed and is escalated."
    )
    escalate_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="escalated_schedules",
        help_text="Who hears when a task is missed; the compliance managers when empty.",
    )
    evidence_required = models.BooleanField(
        "evidence required",
        default=False,
        help_text="The owner is asked for a file or a link when marking a task done; a task done without one "
        "needs a reason and shows as done without evidence.",
    )
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        indexes = [models.Index(fields=["subject_type", "subject_id", "purpose"])]
        constraints = [
            models.UniqueConstraint(
                fields=["subject_type", "subject_id", "purpose"],
                condition=~Q(purpose=""),
                name="one_schedule_per_subject_and_purpose",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="schedule_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def lead_days(self) -> int:
        """How long before the due date the first reminder goes out (the task becomes 'due')."""
        return max(self.reminder_days, default=0)

    @property
    def is_one_off(self) -> bool:
        return not self.rrule

    def recurrence_label(self) -> str:
        return recurrence.describe(self.rrule)

    def due_dates(self, until: datetime.date) -> list[datetime.date]:
        return recurrence.occurrence_dates(self.rrule, self.start_date, self.end_date, until)

    def clean(self) -> None:
        """The rules every schedule keeps, whoever saves it (a page, the API, the admin, an import, a domain):
        the owner and escalation contact can be reminded, the rule makes dates (within five years of the start,
        read strictly: recurrence.validate), reminders are between 0 and 365 days before, the grace period
        between 0 and 365 days after, the dates between 2000 and 2100, and the first reminder comes after the
        previous occurrence is due."""
        errors: dict[str, str] = {}
        if self.owner_id and not self.owner.email:
            errors["owner"] = f"{self.owner} has no email address, so could not be reminded. Add one first."
        if self.escalate_to_id and not self.escalate_to.email:
            errors["escalate_to"] = f"{self.escalate_to} has no email address, so could not be told of missed tasks."
        days = self.reminder_days if isinstance(self.reminder_days, list) else None
        if days is None or any(not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 365 for d in days):
            errors["reminder_days"] = "Each reminder must be a whole number of days between 0 and 365 before."
        if self.grace_days is not None and not 0 <= self.grace_days <= MAX_GRACE_DAYS:
            errors["grace_days"] = f"The grace period must be between 0 and {MAX_GRACE_DAYS} days after the due date."
        for name in ("start_date", "end_date"):
            day = getattr(self, name)
            if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
                errors[name] = f"Give a date between {FIRST_YEAR} and {LAST_YEAR}."
        in_range = "start_date" not in errors and "end_date" not in errors  # else no date is worked out
        if in_range and self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = "The end date is before the start date."
        elif in_range and self.start_date:
            try:
                first = recurrence.validate(self.rrule, self.start_date, self.end_date)
            except recurrence.RecurrenceError as exc:
                errors["rrule"] = str(exc)
            else:
                gap = recurrence.shortest_gap_days(first)
                if gap is not None and "reminder_days" not in errors and self.lead_days >= gap:
                    errors["reminder_days"] = (
                        f"The first reminder ({self.lead_days} days before) would come before the previous "
                        f"task is due (they are {gap} days apart). Use a shorter lead time."
                    )
        if errors:
            raise ValidationError(errors)


# isms.foundation.reach.may_own_work, as a query on an occurrence's owner (tests keep the two in step).
_OWNER_CAN_ACT = Q(owner__is_active=True, owner__role__in=STAFF) & ~Q(owner__email="")


class OccurrenceQuerySet(models.QuerySet):
    """Time-based states are computed against `today` so they are never stale."""

    def open(self):
        return self.filter(state__in=[Occurrence.State.OPEN])

    def upcoming(self, today: datetime.date):
        return self.open().filter(remind_from__gt=today)

    def due(self, today: datetime.date):
        return self.open().filter(remind_from__lte=today, due_date__gte=today)

    def overdue(self, today: datetime.date):
        """Past the due date with nothing done, missed ones included."""
        return self.filter(Q(state=Occurrence.State.OPEN, due_date__lt=today) | Q(state=Occurrence.State.MISSED))

    def done(self):
        return self.filter(state=Occurrence.State.DONE)

    def owner_can_act(self):
        """Tasks whose owner can act on them: the reach rule's `may_own_work` (an active staff member with an
        email address) asked in SQL, so reminders, lists and digests agree with the link and the API."""
        return self.filter(_OWNER_CAN_ACT)

    def orphaned(self):
        """Open or missed tasks whose owner can no longer act on them (deactivated, now an auditor, or without
        an email address): they need a new owner, and nobody is reminded of them until they have one."""
        return self.filter(state__in=[Occurrence.State.OPEN, Occurrence.State.MISSED]).exclude(_OWNER_CAN_ACT)

    def with_status(self, status: str, today: datetime.date):
        """Filter by the status a person sees (Occurrence.Status)."""
        S = Occurrence.Status
        match status:
            case S.UPCOMING:
                return self.upcoming(today)
            case S.DUE:
                return self.due(today)
            case S.OVERDUE:
                return self.open().filter(due_date__lt=today)
            case S.MISSED:
                return self.filter(state=Occurrence.State.MISSED)
            case S.DONE_ON_TIME:
                return self.done().filter(completed_on__lte=models.F("due_date"))
            case S.DONE_LATE:
                return self.done().filter(completed_on__gt=models.F("due_date"))
            case S.SKIPPED:
                return self.filter(state=Occurrence.State.SKIPPED)
        return self


def status_of(
    state: str, due_date: datetime.date, remind_from: datetime.date, completed_on, today: datetime.date
) -> str:
    """Occurrence.status from the stored values alone, for lists that read rows as values rather than objects."""
    if state == Occurrence.State.DONE:
        return Occurrence.Status.DONE_ON_TIME if completed_on <= due_date else Occurrence.Status.DONE_LATE
    if state == Occurrence.State.SKIPPED:
        return Occurrence.Status.SKIPPED
    if state == Occurrence.State.MISSED:
        return Occurrence.Status.MISSED
    if today > due_date:
        return Occurrence.Status.OVERDUE
    if today >= remind_from:
        return Occurrence.Status.DUE
    return Occurrence.Status.UPCOMING


class Occurrence(models.Model):
    """One dated task produced by a schedule. Done, skipped and missed ones are history: never rewritten."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        SKIPPED = "skipped", "Skipped"
        MISSED = "missed", "Missed"

    class Status(models.TextChoices):
        UPCOMING = "upcoming", "Upcoming"
        DUE = "due", "Due"
        OVERDUE = "overdue", "Overdue"
        DONE_ON_TIME = "done_on_time", "Done on time"
        DONE_LATE = "done_late", "Done late"
        MISSED = "missed", "Missed"
        SKIPPED = "skipped", "Skipped"

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="occurrences")
    due_date = models.DateField()
    # Copied from the schedule when made, so editing the schedule never rewrites history.
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="occurrences")
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="occurrences"
    )
    remind_from = models.DateField(help_text="The first reminder's date: from here on the task is due.")
    grace_until = models.DateField(help_text="After this date an open task is missed and escalated.")

    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_on = models.DateField(null=True, blank=True, help_text="completed_at's date in the local time zone.")
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    completion_note = models.TextField(blank=True)
    skip_reason = models.TextField(blank=True)
    # Bumped by every change of state or owner, so a task link issued before the change stops working.
    link_version = models.PositiveIntegerField(default=0)
    notices = GenericRelation(
        "notices.Notice",
        content_type_field="subject_type",
        object_id_field="subject_id",
        related_query_name="occurrence",
    )

    objects = OccurrenceQuerySet.as_manager()

    class Meta:
        ordering = ["due_date", "pk"]
        constraints = [models.UniqueConstraint(fields=["schedule", "due_date"], name="one_occurrence_per_date")]
        indexes = [
            models.Index(fields=["state", "due_date"]),
            models.Index(fields=["owner", "state", "due_date"]),
            models.Index(fields=["due_date"]),
            # The scan's windows (docs/benchmarks.md, Growth): open tasks by due date with the first reminder's
            # date beside it, so that the tasks whose reminders have not begun are passed over in the index; and
            # last week's missed tasks for escalations, not every missed task in history.
            models.Index(fields=["due_date", "remind_from"], condition=Q(state="open"), name="occurrence_open_due"),
            models.Index(fields=["grace_until"], condition=Q(state="missed"), name="occurrence_missed_grace"),
        ]

    def __str__(self) -> str:
        return f"{self.title} (due {self.due_date:%d %b %Y})"

    def status(self, today: datetime.date | None = None) -> str:
        """What a person sees: upcoming → due → overdue → done on time / late, missed or skipped."""
        return status_of(self.state, self.due_date, self.remind_from, self.completed_on, today or timezone.localdate())

    def status_label(self, today: datetime.date | None = None) -> str:
        return self.Status(self.status(today)).label

    @property
    def is_actionable(self) -> bool:
        """Open or missed: the owner can still do it (late)."""
        return self.state in (self.State.OPEN, self.State.MISSED)


class OccurrenceEvent(models.Model):
    """The history of an occurrence: who did what, when, and why."""

    class Action(models.TextChoices):
        COMPLETED = "completed", "Completed"
        REASSIGNED = "reassigned", "Reassigned"
        SKIPPED = "skipped", "Skipped"
        REOPENED = "reopened", "Reopened"
        MISSED = "missed", "Marked missed"
        RESCHEDULED = "rescheduled", "Rescheduled"

    occurrence = models.ForeignKey(Occurrence, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20, choices=Action.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    via = models.CharField(max_length=20, blank=True, help_text="web, task link, api or system")
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} at {self.at:%Y-%m-%d %H:%M}"


class TaskLinkUse(models.Model):
    """Every use of an emailed task link, accepted or refused. The token itself is never stored."""

    class Outcome(models.TextChoices):
        OPENED = "opened", "Opened"
        COMPLETED = "completed", "Completed"
        FORGED = "forged", "Refused: forged or altered"
        EXPIRED = "expired", "Refused: expired"
        STALE = "stale", "Refused: task changed since the link was sent"

    occurrence = models.ForeignKey(
        Occurrence, null=True, blank=True, on_delete=models.CASCADE, related_name="link_uses"
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    at = models.DateTimeField(auto_now_add=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} at {self.at:%Y-%m-%d %H:%M}"


class CalendarFeed(models.Model):
    """A secret ICS feed URL: a user's own work, or (user empty) the whole organisation's."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    is_organisation = models.BooleanField(default=False)
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_organisation"], condition=Q(is_organisation=True), name="one_organisation_feed"
            ),
            models.CheckConstraint(
                condition=Q(is_organisation=True, user__isnull=True) | Q(is_organisation=False, user__isnull=False),
                name="feed_is_a_user_or_the_organisation",
            ),
        ]

    def __str__(self) -> str:
        return f"Feed for {self.user or 'the organisation'}"
