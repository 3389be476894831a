"""A schedule's rules hold whoever saves it: the service refuses what the form refuses, with the same words."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from isms.maintenance.models import Schedule
from isms.maintenance.services import schedule_for, schedule_save
from tests.factories import UserFactory

START = datetime.date(2026, 3, 2)


def save(owner, **fields):
    values = {
        "title": "Weekly log review",
        "kind": "control_activity",
        "owner": owner,
        "rrule": "FREQ=WEEKLY",
        "start_date": START,
        "reminder_days": [3, 1],
        "grace_days": 7,
        **fields,
    }
    return schedule_save(today=START, **values)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"reminder_days": [14, 3]}, "reminder_days", "would come before the previous task is due"),
        ({"reminder_days": [400]}, "reminder_days", "between 0 and 365"),
        ({"reminder_days": [-1]}, "reminder_days", "between 0 and 365"),
        ({"rrule": "FREQ=FORTNIGHTLY"}, "rrule", ""),
        ({"end_date": START - datetime.timedelta(days=1)}, "end_date", "before the start date"),
    ],
)
def test_the_service_refuses_what_the_form_refuses(owner, fields, field, words):
    with pytest.raises(ValidationError) as refused:
        save(owner, **fields)
    assert field in refused.value.message_dict
    assert words in " ".join(refused.value.message_dict[field])
    assert not Schedule.objects.exists()


@pytest.mark.django_db
def test_an_owner_who_cannot_be_reminded_is_refused_by_the_service(owner):
    silent = UserFactory(username="no-mail", email="")
    with pytest.raises(ValidationError) as refused:
        save(silent)
    assert "has no email address" in refused.value.message_dict["owner"][0]
    with pytest.raises(ValidationError) as refused:
        save(owner, escalate_to=silent)
    assert "has no email address" in refused.value.message_dict["escalate_to"][0]


@pytest.mark.django_db
def test_the_form_shows_the_services_words_on_its_own_fields(client_as, compliance, owner):
    from django.urls import reverse

    response = client_as(compliance).post(
        reverse("maintenance:schedule_create"),
        {
            "title": "Weekly log review",
            "kind": "control_activity",
            "owner": owner.pk,
            "recurrence": "weekly",
            "start_date": "2026-03-02",
            "reminder_days_text": "14, 1",
            "grace_days": 7,
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "would come before the previous task is due" in errors["reminder_days_text"][0]
    assert not Schedule.objects.exists()


@pytest.mark.django_db
def test_two_purposes_of_one_subject_are_two_schedules(owner, compliance):
    """A nonconformity will have a corrective action and an effectiveness check on the same object."""
    subject = UserFactory(username="any-subject")  # any model instance can be a subject
    action = schedule_for(
        subject=subject,
        purpose="action",
        title="Fix it",
        owner=owner,
        start_date=START,
        kind="corrective_action",
        today=START,
    )
    check = schedule_for(
        subject=subject,
        purpose="check",
        title="Check it",
        owner=compliance,
        start_date=START,
        kind="other",
        today=START,
    )
    assert action.pk != check.pk
    moved = schedule_for(
        subject=subject,
        purpose="action",
        title="Fix it",
        owner=owner,
        start_date=START + datetime.timedelta(days=7),
        kind="corrective_action",
        today=START,
    )
    assert moved.pk == action.pk
    assert list(moved.occurrences.values_list("due_date", flat=True)) == [START + datetime.timedelta(days=7)]
    assert list(check.occurrences.values_list("due_date", flat=True)) == [START]


@pytest.mark.django_db
def test_the_schedules_list_filters_by_state_in_words(client_as, compliance, owner):
    from django.urls import reverse

    save(owner, title="Weekly log review")
    retired = save(owner, title="Old firewall review")
    retired.active = False
    retired.save(update_fields=["active"])
    client = client_as(compliance)
    page = client.get(reverse("maintenance:schedules"))
    assert page.status_code == 200 and "No longer active" in page.content.decode()
    active_only = client.get(reverse("maintenance:schedules"), {"active": "yes"}).content.decode()
    assert "Weekly log review" in active_only and "Old firewall review" not in active_only
    csv = client.get(reverse("maintenance:schedules"), {"active": "no", "export": "csv"}).content.decode()
    assert "Old firewall review" in csv and "Weekly log review" not in csv and ",No" in csv


@pytest.mark.django_db
def test_only_someone_who_may_complete_a_task_completes_it_whoever_calls_the_service(owner, other_owner, viewer):
    """The service asks the reach rule too: a script, the demo or a future page cannot complete in the wrong name."""
    from django.core.exceptions import PermissionDenied

    from isms.maintenance.services import occurrence_complete

    occ = save(owner).occurrences.first()
    for wrong in (other_owner, viewer):
        with pytest.raises(PermissionDenied):
            occurrence_complete(occurrence=occ, by=wrong, note="not mine")
    occ.refresh_from_db()
    assert occ.state == "open" and not occ.events.exists()
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    with pytest.raises(PermissionDenied):
        occurrence_complete(occurrence=occ, by=owner, note="left the company")


@pytest.mark.django_db
def test_a_schedule_entered_after_its_date_is_overdue_not_missed_at_once(owner):
    """Started a month ago: its latest past task is overdue with its whole grace period from today, so the owner is
    reminded before it counts as missed and is escalated."""
    from isms.maintenance.services import mark_missed

    today = START + datetime.timedelta(days=40)
    schedule = schedule_save(
        today=today,
        title="Monthly log review",
        kind="control_activity",
        owner=owner,
        rrule="FREQ=MONTHLY",
        start_date=START,
        reminder_days=[3, 1],
        grace_days=7,
    )
    first = schedule.occurrences.order_by("due_date").first()
    assert first.due_date < today - datetime.timedelta(days=7)  # past its grace period when it was entered
    assert mark_missed(today) == []
    first.refresh_from_db()
    assert first.status(today) == "overdue" and first.grace_until == today + datetime.timedelta(days=7)
