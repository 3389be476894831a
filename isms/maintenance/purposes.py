"""What a domain's tasks mean, declared by the domain: the calendar calls these hooks and imports no domain.

A domain app registers, for each (subject model, purpose) it puts on the calendar, how the subject is
labelled and linked on the task page and in emails, and what completing or missing one of its tasks does:

    register(Purpose(model="controls.Control", label=lambda c: f"Control {c.reference}: {c.name}",
                     url=lambda c: reverse("controls:detail", args=[c.pk])))

The task page shows attachments (evidence) through the one `Attachments` hook the evidence app registers:
its service completes a task with evidence by calling the calendar, never the reverse."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class Purpose:
    """The meaning of the tasks a domain puts on the calendar for one kind of subject."""

    model: str  # "app_label.ModelName" of the subject
    purpose: str = ""  # "" for recurring activities (any number per subject); else one schedule per subject
    label: Callable[[object], str] | None = None  # the subject, in words, on the task page and in emails
    url: Callable[[object], str] | None = None  # where the subject's page is
    on_completed: Callable[..., None] | None = None  # (occurrence=, by=) inside the completing transaction
    on_missed: Callable[..., None] | None = None  # (occurrence=) when a task passes its grace period


_PURPOSES: dict[tuple[str, str], Purpose] = {}


def _key(model: str, purpose: str) -> tuple[str, str]:
    return (apps.get_model(model)._meta.label_lower, purpose)


def register(purpose: Purpose) -> Purpose:
    _PURPOSES[_key(purpose.model, purpose.purpose)] = purpose
    return purpose


def purpose_of(schedule) -> Purpose | None:
    """The declared meaning of a schedule's tasks, if its subject's app declared one."""
    if not schedule.subject_type_id:
        return None
    ct = ContentType.objects.get_for_id(schedule.subject_type_id)
    return _PURPOSES.get((f"{ct.app_label}.{ct.model}", schedule.purpose))


@dataclass(frozen=True)
class SubjectLink:
    label: str
    url: str | None


def subject_link(schedule) -> SubjectLink | None:
    """What the task is for, as the task page and emails show it ("Control A.8.8 …" with its link)."""
    declared = purpose_of(schedule)
    if declared is None or declared.label is None:
        return None
    subject = schedule.subject
    if subject is None:
        return None
    return SubjectLink(declared.label(subject), declared.url(subject) if declared.url else None)


def subject_of_model(schedule, model) -> object | None:
    """The schedule's subject if it is an instance of `model` (a domain asking about its own tasks)."""
    if schedule.subject_type_id and schedule.subject_type_id == ContentType.objects.get_for_model(model).pk:
        return model._default_manager.filter(pk=schedule.subject_id).first()
    return None


# --- completing a task with attachments ---------------------------------------------------------------------


@dataclass(frozen=True)
class Attachments:
    """How a task takes attachments: declared once by the evidence app.

    `complete(occurrence=, by=, note=, via=, files=, links=, now=)` stores them and completes the task in one
    transaction; `form` is the task's completion form with the attachment fields; `template` shows a task's
    attachments on its page, with `context(user, occurrence)`."""

    complete: Callable[..., object]
    form: type  # a subclass of maintenance.forms.CompleteForm with the attachment fields
    template: str
    context: Callable[[object, object], dict]
    # (occurrences) -> those done without the attachments their schedule requires (Schedule.evidence_required)
    done_without: Callable[[object], object] | None = None


_attachments: list[Attachments] = []


def register_attachments(hook: Attachments) -> Attachments:
    _attachments[:] = [hook]
    return hook


def attachments() -> Attachments | None:
    return _attachments[0] if _attachments else None


def complete_form():
    """The form a task page uses to mark a task done (with attachment fields when an app declared them)."""
    hook = attachments()
    if hook is not None:
        return hook.form
    from .forms import CompleteForm

    return CompleteForm


def attachments_context(user, occurrence) -> dict:
    """What the task page needs to show the task's attachments: the template and its context."""
    hook = attachments()
    if hook is None:
        return {"attachments_template": None}
    return {"attachments_template": hook.template, **hook.context(user, occurrence)}


def done_without_attachments(occurrences):
    """Of `occurrences`, those done without the attachments (evidence) their schedule requires."""
    hook = attachments()
    if hook is None or hook.done_without is None:
        return occurrences.none()
    return hook.done_without(occurrences)


def complete_task(*, occurrence, by, data: dict, via: str = "web", now: datetime.datetime | None = None):
    """Complete a task from a page's cleaned completion form: with its attachments through the registered
    hook, else on its own. `without_attachments_reason` is why a task that requires them has none."""
    files, links = list(data.get("files") or ()), list(data.get("links") or ())
    note = data.get("note", "")
    hook = attachments()
    if hook is not None:
        return hook.complete(
            occurrence=occurrence,
            by=by,
            note=note,
            via=via,
            files=files,
            links=links,
            now=now,
            without_evidence_reason=data.get("without_attachments_reason", ""),
        )
    if files or links:
        raise ValidationError("Attachments cannot be stored here.")
    from .services import occurrence_complete

    return occurrence_complete(occurrence=occurrence, by=by, note=note, via=via, now=now)
