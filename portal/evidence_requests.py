"""Evidence requests: what an auditor asks for (on a sample item, a control, or in free text) and how it is
answered. Each ask is a round; each round is one task on the answering person's calendar (purpose
"evidence_request", registered in portal/calendar.py). The owner answers by completing the task with evidence, on
the task page or through the emailed task link; the calendar then calls `round_answered` and the auditor accepts
the answer or asks again. Every service validates before it writes and runs in one transaction."""

from __future__ import annotations

import datetime

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from controls.models import Control
from isms.accounts.models import User
from isms.foundation import reach
from isms.foundation.roles import Role
from isms.maintenance.models import Kind, Occurrence
from isms.maintenance.services import occurrence_reassign, schedule_for, schedule_retire

from .models import Engagement, EngagementStatus, EvidenceRequest, RequestRound, RequestState, SampleItem
from .notices import notify_answered
from .scope import scope_of

PURPOSE = "evidence_request"
DEFAULT_DAYS = 10  # a request is due ten days after it is asked unless the auditor says otherwise
REMINDER_DAYS = [10, 3, 1]  # the first reminder goes out at once for a request due within ten days
GRACE_DAYS = 14
TITLE_PREFIX = "Evidence for the auditors: "
OWNER_UNFIT = (
    "{who} cannot be given work: choose an active member of staff with an email address (they are reminded of it)."
)


def short(text: str, limit: int) -> str:
    """The first line of `text`, cut at a word within `limit` characters."""
    line = " ".join((text or "").split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1].rsplit(" ", 1)[0] or line[: limit - 1]
    return cut + "…"


def task_title(text: str) -> str:
    return TITLE_PREFIX + short(text, 200 - len(TITLE_PREFIX))


def _control_of_record(record) -> Control | None:
    """The control a sampled record belongs to: the control itself, a control activity's control, or an
    evidence item's control (directly, by its task, or by the task's control)."""
    from evidence.models import EvidenceItem
    from evidence.services import control_of

    if isinstance(record, Control):
        return record
    if isinstance(record, Occurrence):
        return control_of(record)
    if isinstance(record, EvidenceItem):
        if record.control_id:
            return record.control
        if record.task_control_id:
            return record.task_control
        if record.occurrence_id:
            return control_of(record.occurrence)
    return None


def item_control(item: SampleItem | None) -> Control | None:
    """The control behind a sample item, when it has one."""
    if item is None:
        return None
    return _control_of_record(item.item)


def _fallback_owners(engagement: Engagement, by) -> list:
    """Who answers when nobody else fits: the person who opened the engagement, the compliance manager asking,
    then any compliance manager (administrators last)."""
    people = [engagement.created_by, by if reach.is_manager(by) else None]
    people.append(
        User.objects.filter(role__in=[Role.COMPLIANCE, Role.ADMIN], is_active=True)
        .exclude(email="")
        .order_by("-role", "pk")  # "compliance" sorts after "admin": compliance managers first
        .first()
    )
    return people


def default_owner(*, engagement: Engagement, by, control: Control | None, sample_item: SampleItem | None):
    """The person a request goes to by default: the control's owner (the control given, else the sample item's
    control), else the owner of the sampled record, else the compliance team (see `_fallback_owners`). Only
    someone who may own work; None if nobody can."""
    control = control or item_control(sample_item)
    candidates = [control.owner if control else None]
    record = sample_item.item if sample_item is not None else None
    candidates.append(getattr(record, "owner", None) if record is not None else None)
    candidates.extend(_fallback_owners(engagement, by))
    return next((p for p in candidates if p is not None and reach.may_own_work(p)), None)


def default_due(engagement: Engagement, today: datetime.date) -> datetime.date:
    """Ten days from today, or the last day of the auditors' access if that comes first."""
    return min(today + datetime.timedelta(days=DEFAULT_DAYS), max(engagement.access_ends_on, today))


def _check_due(due_on: datetime.date | None, engagement: Engagement, today: datetime.date, errors: dict) -> None:
    if due_on is None:
        errors["due_on"] = "Give the date the answer is due."
    elif due_on < today:
        errors["due_on"] = "The due date is in the past: give today or a later date."
    elif due_on > engagement.access_ends_on:
        errors["due_on"] = (
            f"The auditors' access ends on {engagement.access_ends_on:%d %b %Y}: give a due date by then so they "
            "can read the answer."
        )


def _check_open(engagement: Engagement, today: datetime.date) -> None:
    status = engagement.status_on(today)
    if status in (EngagementStatus.ENDED, EngagementStatus.EXPIRED):
        raise ValidationError("The auditors' access to this engagement has ended: no more evidence can be asked for.")


def _description(req: EvidenceRequest, rnd: RequestRound) -> str:
    """What the owner reads on the task page and in the email: the auditor's question, word for word."""
    engagement = req.engagement
    parts = [
        f"The auditors of “{engagement.title}” ({engagement.certification_body}) ask for evidence"
        + (f" (request {req.number}, asked again)" if rnd.number > 1 else f" (request {req.number})")
        + ":",
        rnd.text,
    ]
    if rnd.number > 1:
        parts += ["What they first asked:", req.text]
    about = []
    if req.control_id:
        about.append(f"Control {req.control.reference}: {req.control.name}")
    if req.sample_item_id:
        about.append(f"Sampled record: {req.sample_item.label}")
    if about:
        parts.append("About: " + "; ".join(about) + ".")
    parts.append(
        f"Attach the files or links that answer it by {rnd.due_on:%d %b %Y} and mark this task done: the auditors "
        "see what you attach, and accept it or ask again."
    )
    return "\n\n".join(parts)


def _schedule_round(req: EvidenceRequest, rnd: RequestRound, *, by, owner) -> None:
    schedule_for(
        subject=rnd,
        purpose=PURPOSE,
        title=task_title(rnd.text),
        owner=owner,
        department=owner.department,
        start_date=rnd.due_on,
        kind=Kind.OTHER,
        reminder_days=REMINDER_DAYS,
        grace_days=GRACE_DAYS,
        evidence_required=True,
        description=_description(req, rnd),
        by=by if reach.is_staff_member(by) else None,
    )


def current_round(req: EvidenceRequest) -> RequestRound | None:
    return req.rounds.order_by("-number").first()


@transaction.atomic
def request_create(
    *,
    by,
    engagement: Engagement,
    text: str,
    sample_item: SampleItem | None = None,
    control: Control | None = None,
    owner=None,
    due_on: datetime.date | None = None,
    today: datetime.date | None = None,
) -> EvidenceRequest:
    """An auditor (or the compliance team) asks for evidence. It goes to `owner`, by default the control's owner
    (see `default_owner`), due in ten days unless said otherwise (or by the end of the auditors' access), numbered
    within the engagement, and becomes a task on the owner's calendar with reminders."""
    today = today or timezone.localdate()
    reach.check(by, "request", engagement)
    engagement = Engagement.objects.select_for_update().get(pk=engagement.pk)  # the request number counter
    _check_open(engagement, today)
    due_on = due_on or default_due(engagement, today)
    text = (text or "").strip()
    errors: dict = {}
    if not text:
        errors["text"] = "Say what evidence you need: the person answering reads exactly this."
    if sample_item is not None and sample_item.sample.engagement_id != engagement.pk:
        errors["sample_item"] = "That sampled record is not in this engagement's samples: choose one of its own."
    scope = scope_of(engagement)
    if control is not None and control.pk not in scope.control_ids:
        errors["control"] = "That control is not in the engagement's scope: choose one of the controls in scope."
    if control is None and sample_item is not None:
        found = item_control(sample_item)
        control = found if found is not None and found.pk in scope.control_ids else None
    _check_due(due_on, engagement, today, errors)
    if owner is not None and not reach.may_own_work(owner):
        errors["owner"] = OWNER_UNFIT.format(who=owner)
    if errors:
        raise ValidationError(errors)
    owner = owner or default_owner(engagement=engagement, by=by, control=control, sample_item=sample_item)
    if owner is None:
        raise ValidationError(
            "Nobody can be given this request: the compliance team needs an active manager with an email address."
        )
    number = (engagement.requests.aggregate(n=Max("number"))["n"] or 0) + 1
    req = EvidenceRequest.objects.create(
        engagement=engagement,
        number=number,
        sample_item=sample_item,
        control=control,
        text=text,
        owner=owner,
        due_on=due_on,
        requested_by=by,
    )
    rnd = RequestRound.objects.create(request=req, number=1, text=text, asked_by=by, due_on=due_on)
    _schedule_round(req, rnd, by=by, owner=owner)
    return req


def _lock(req: EvidenceRequest) -> EvidenceRequest:
    return EvidenceRequest.objects.select_for_update().select_related("engagement").get(pk=req.pk)


def round_tasks(rnd: RequestRound):
    """The calendar tasks of one round (one, unless the calendar kept history of a moved date)."""
    return Occurrence.objects.filter(
        schedule__subject_type=ContentType.objects.get_for_model(RequestRound),
        schedule__subject_id=rnd.pk,
        schedule__purpose=PURPOSE,
    )


@transaction.atomic
def request_reassign(*, by, request: EvidenceRequest, owner) -> EvidenceRequest:
    """The compliance team gives a request to someone else: its open task moves to them (their old owner's
    emailed link stops working and the new owner is told)."""
    reach.check(by, "reassign", request)
    req = _lock(request)
    if req.state not in (RequestState.OPEN, RequestState.ANSWERED):
        raise ValidationError(
            f"This request is {req.get_state_display().lower()}: it can no longer be given to anyone."
        )
    if owner is None or not reach.may_own_work(owner):
        raise ValidationError({"owner": OWNER_UNFIT.format(who=owner or "Nobody")})
    if owner.pk == req.owner_id:
        raise ValidationError({"owner": f"The request is already {owner}'s: choose someone else."})
    rnd = current_round(req)
    if rnd is not None and rnd.answered_at is None:
        for occ in round_tasks(rnd).filter(state__in=[Occurrence.State.OPEN, Occurrence.State.MISSED]):
            if occ.owner_id != owner.pk:
                occurrence_reassign(occurrence=occ, to=owner, by=by, note=f"Evidence request {req.number} reassigned.")
        _schedule_round(req, rnd, by=by, owner=owner)
    req.owner = owner
    req.save(update_fields=["owner"])
    return req


@transaction.atomic
def request_accept(*, by, request: EvidenceRequest, now: datetime.datetime | None = None) -> EvidenceRequest:
    """The auditor accepts the answer: the request is done."""
    reach.check(by, "accept", request)
    req = _lock(request)
    if req.state != RequestState.ANSWERED:
        raise ValidationError(
            {
                RequestState.OPEN: "There is no answer to accept yet: the request is still waiting for one.",
                RequestState.ACCEPTED: "This answer was already accepted.",
                RequestState.WITHDRAWN: "This request was withdrawn: there is nothing to accept.",
            }[req.state]
        )
    req.state = RequestState.ACCEPTED
    req.accepted_by = by
    req.accepted_at = now or timezone.now()
    req.save(update_fields=["state", "accepted_by", "accepted_at"])
    return req


@transaction.atomic
def request_ask_again(
    *,
    by,
    request: EvidenceRequest,
    text: str,
    due_on: datetime.date | None = None,
    today: datetime.date | None = None,
) -> RequestRound:
    """The auditor is not satisfied with the answer and asks again (saying what is missing): a new round, a new
    task for the request's owner (or, if they can no longer be given work, the default owner)."""
    today = today or timezone.localdate()
    reach.check(by, "ask_again", request)
    req = _lock(request)
    if req.state != RequestState.ANSWERED:
        raise ValidationError(
            "You can ask again once the request is answered: "
            + {
                RequestState.OPEN: "it is still waiting for an answer.",
                RequestState.ACCEPTED: "its answer was already accepted.",
                RequestState.WITHDRAWN: "it was withdrawn.",
            }[req.state]
        )
    _check_open(req.engagement, today)
    due_on = due_on or default_due(req.engagement, today)
    text = (text or "").strip()
    errors: dict = {}
    if not text:
        errors["text"] = "Say what is missing from the answer: the person answering reads exactly this."
    _check_due(due_on, req.engagement, today, errors)
    if errors:
        raise ValidationError(errors)
    owner = req.owner if reach.may_own_work(req.owner) else None
    owner = owner or default_owner(engagement=req.engagement, by=by, control=req.control, sample_item=req.sample_item)
    if owner is None:
        raise ValidationError(
            "Nobody can be given this request: the compliance team needs an active manager with an email address."
        )
    number = (req.rounds.aggregate(n=Max("number"))["n"] or 0) + 1
    rnd = RequestRound.objects.create(request=req, number=number, text=text, asked_by=by, due_on=due_on)
    req.state = RequestState.OPEN
    req.owner = owner
    req.due_on = due_on
    req.save(update_fields=["state", "owner", "due_on"])
    _schedule_round(req, rnd, by=by, owner=owner)
    return rnd


@transaction.atomic
def request_withdraw(
    *, by, request: EvidenceRequest, reason: str, now: datetime.datetime | None = None
) -> EvidenceRequest:
    """The auditor (or the compliance team) no longer needs it: the open task comes off the owner's calendar with
    the reason, which the request keeps."""
    reach.check(by, "withdraw", request)
    req = _lock(request)
    if req.state not in (RequestState.OPEN, RequestState.ANSWERED):
        raise ValidationError(f"This request is {req.get_state_display().lower()}: it cannot be withdrawn.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the request is withdrawn: the person asked reads the reason."})
    rnd = current_round(req)
    if rnd is not None:
        schedule_retire(subject=rnd, purpose=PURPOSE, reason=f"The auditors withdrew the request: {reason}", by=by)
    req.state = RequestState.WITHDRAWN
    req.withdrawn_by = by
    req.withdrawn_at = now or timezone.now()
    req.withdraw_reason = reason
    req.save(update_fields=["state", "withdrawn_by", "withdrawn_at", "withdraw_reason"])
    return req


def round_answered(*, occurrence, by) -> None:
    """The calendar's hook: the owner completed a round's task (with its evidence, in the same transaction). The
        round is answered, and the request waits for the auditor if this was its current round (the auditors are
    told by email)."""
    from isms.maintenance.purposes import subject_of_model

    rnd = subject_of_model(occurrence.schedule, RequestRound)
    if rnd is None or rnd.answered_at:
        return
    rnd.answered_at = occurrence.completed_at or timezone.now()
    rnd.save(update_fields=["answered_at"])
    req = _lock(rnd.request)
    if req.state == RequestState.OPEN and rnd.number == current_round(req).number:
        req.state = RequestState.ANSWERED
        req.save(update_fields=["state"])
        notify_answered(rnd)
