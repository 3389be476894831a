"""A refused action on the task page shows the page again with what was typed and the reason beside the field;
nothing is changed and nothing typed is lost."""

from django.urls import reverse

from tests.factories import make_schedule


def test_marking_done_without_the_evidence_asked_for_keeps_the_note(client_as, owner, clock):
    occ = make_schedule(
        owner=owner, title="Quarterly access review", rrule="", start_date=clock.today, evidence_required=True
    ).occurrences.get()
    response = client_as(owner).post(
        reverse("maintenance:complete", args=[occ.pk]), {"note": "Reviewed all 41 accounts; 2 removed."}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Reviewed all 41 accounts; 2 removed." in body  # the note is still in the form
    assert "without evidence" in body.lower()
    occ.refresh_from_db()
    assert occ.state == "open" and not occ.events.exists()


def test_skipping_without_a_reason_says_so_beside_the_field(client_as, compliance, owner, clock):
    occ = make_schedule(owner=owner, rrule="", start_date=clock.today).occurrences.get()
    response = client_as(compliance).post(reverse("maintenance:skip", args=[occ.pk]), {"reason": ""})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode() or "reason" in response.content.decode().lower()
    occ.refresh_from_db()
    assert occ.state == "open"


def test_a_task_already_done_says_so_in_the_banner(client_as, owner, clock):
    from isms.maintenance.services import occurrence_complete

    occ = make_schedule(owner=owner, rrule="", start_date=clock.today).occurrences.get()
    occurrence_complete(occurrence=occ, by=owner, note="done")
    response = client_as(owner).post(reverse("maintenance:complete", args=[occ.pk]), {"note": "again"})
    assert response.status_code == 400
    assert "This task is already done." in response.content.decode()
    assert occ.events.filter(action="completed").count() == 1


def test_the_history_says_whom_a_task_went_to_and_why_it_was_done_without_evidence(client_as, compliance, owner, clock):
    from evidence.services import occurrence_complete_with_evidence
    from isms.maintenance.services import occurrence_reassign
    from tests.factories import UserFactory

    occ = make_schedule(
        owner=owner, title="Quarterly access review", rrule="", start_date=clock.today, evidence_required=True
    ).occurrences.get()
    hannah = UserFactory(username="hannah", first_name="Hannah", last_name="Hughes")
    occurrence_reassign(occurrence=occ, to=hannah, by=compliance, note="Olivia is on leave")
    occurrence_complete_with_evidence(
        occurrence=occ, by=hannah, note="Done", without_evidence_reason="The export is in the HR system only"
    )
    body = client_as(compliance).get(reverse("maintenance:occurrence", args=[occ.pk])).content.decode()
    assert f"from {owner} to Hannah Hughes" in body
    assert "without evidence: The export is in the HR system only" in body
    assert "(web)" not in body
