"""Evidence requests: the auditor asks, the request becomes a task on the right owner's calendar with reminders,
the owner answers with a file through the emailed task link, the auditor sees the file and accepts it or asks
again; the team reassigns; either side withdraws. Refusals leave nothing written."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evidence.models import EvidenceItem
from evidence.services import occurrence_complete_with_evidence
from isms.foundation import reach
from isms.foundation.roles import Role
from isms.maintenance import links
from isms.maintenance.models import Occurrence, Schedule
from isms.maintenance.notices import plan_reminders
from isms.maintenance.purposes import subject_link
from isms.notices import engine
from portal import evidence_requests as services
from portal.models import AuditorAction, Engagement, EvidenceRequest, RequestRound, RequestState
from portal.scope import AuditorPreview
from tests.factories import UserFactory, make_control, make_requirement

REPORT = b"Access review 2026 Q1: 42 accounts checked, 3 removed.\n"


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    """Reassignment queues an email on commit; never reach for a Celery broker here."""
    queued = []
    monkeypatch.setattr(engine, "_enqueue", queued.extend)
    return queued


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()


@pytest.fixture
def control(clock, owner):
    """The owner's control, mapped to an Annex A requirement: in scope of the engaged auditor's engagement."""
    return make_control(owner, requirements=[make_requirement()])


@pytest.fixture
def engagement(control, engaged_auditor) -> Engagement:
    return Engagement.objects.get(auditors=engaged_auditor)


@pytest.fixture
def req(engagement, engaged_auditor, control) -> EvidenceRequest:
    return services.request_create(
        by=engaged_auditor, engagement=engagement, text="The Q1 access review and its sign-off", control=control
    )


def task_of(rnd: RequestRound) -> Occurrence:
    return Occurrence.objects.get(
        schedule__subject_type=ContentType.objects.get_for_model(RequestRound), schedule__subject_id=rnd.pk
    )


def answer(req: EvidenceRequest, owner, round_number: int = 1) -> Occurrence:
    task = task_of(req.rounds.get(number=round_number))
    occurrence_complete_with_evidence(
        occurrence=task, by=owner, files=[SimpleUploadedFile("review.txt", REPORT, content_type="text/plain")]
    )
    return task


def url(name: str, req: EvidenceRequest) -> str:
    return reverse(f"portal:{name}", kwargs={"engagement": req.engagement_id, "pk": req.pk})


# --- asking -----------------------------------------------------------------------------------------------------


def test_a_request_goes_to_the_controls_owner_as_a_task_with_reminders(clock, req, owner, control):
    assert req.owner == owner and req.number == 1 and req.state == RequestState.OPEN
    assert req.due_on == clock.today + datetime.timedelta(days=10)
    rnd = req.rounds.get()
    task = task_of(rnd)
    assert task.owner == owner and task.due_date == req.due_on and task.state == Occurrence.State.OPEN
    assert task.title == "Evidence for the auditors: The Q1 access review and its sign-off"
    schedule = task.schedule
    assert schedule.purpose == "evidence_request" and schedule.reminder_days == [10, 3, 1]
    assert schedule.evidence_required
    assert "The Q1 access review and its sign-off" in schedule.description
    assert "Control AC-01" in schedule.description
    link = subject_link(schedule)
    assert link.label.startswith("The auditors' evidence request 1")
    assert link.url == reverse("controls:detail", args=[control.pk])
    # The first reminder is due at once (ten days before), so the owner hears of it on the next scan.
    reminders = [n for n in plan_reminders(clock.today) if n.recipient_id == owner.pk]
    assert len(reminders) == 1


def test_the_owner_reads_the_question_on_their_task_page(client, req, owner):
    client.force_login(owner)
    page = client.get(reverse("maintenance:occurrence", args=[task_of(req.rounds.get()).pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "The Q1 access review and its sign-off" in body and "evidence request 1" in body


def test_requests_are_numbered_within_the_engagement(req, engagement, engaged_auditor):
    second = services.request_create(by=engaged_auditor, engagement=engagement, text="The joiners' list")
    assert second.number == 2


def test_a_free_text_request_goes_to_the_compliance_manager_who_opened_the_engagement(
    engagement, engaged_auditor, compliance
):
    created = services.request_create(by=engaged_auditor, engagement=engagement, text="Your ISMS scope statement")
    assert created.owner == compliance and created.control is None
    assert subject_link(task_of(created.rounds.get()).schedule).url is None


def test_the_auditor_asks_through_the_page_and_the_log_says_so(client, clock, engagement, engaged_auditor, control):
    client.force_login(engaged_auditor)
    new = reverse("portal:request_new", kwargs={"engagement": engagement.pk})
    form = client.get(new, {"control": control.pk})
    assert form.status_code == 200 and f'<option value="{control.pk}" selected>' in form.content.decode()
    assert 'name="owner"' not in form.content.decode()  # the auditors do not pick people
    response = client.post(new, {"text": "Firewall rule review", "control": control.pk, "due_on": ""})
    created = EvidenceRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == url("request", created)
    action = AuditorAction.objects.filter(kind=AuditorAction.Kind.REQUEST).get()
    assert action.user == engaged_auditor and action.engagement == engagement
    assert "Asked for evidence: request 1" in action.what and "Firewall rule review" in action.what


# --- the team reassigns ---------------------------------------------------------------------------------------------


def test_the_team_reassigns_and_the_open_task_moves(client, req, compliance, other_owner, owner, no_broker):
    client.force_login(compliance)
    response = client.post(url("request_reassign", req), {"owner": other_owner.pk})
    assert response.status_code == 302
    req.refresh_from_db()
    task = task_of(req.rounds.get())
    assert req.owner == other_owner and task.owner == other_owner
    assert task.schedule.owner == other_owner
    assert Occurrence.objects.filter(owner=owner, state=Occurrence.State.OPEN).count() == 0


def test_reassigning_to_someone_who_cannot_own_work_is_a_form_error(client, req, compliance, owner):
    nobody = UserFactory(username="noemail", email="", role=Role.OWNER)
    client.force_login(compliance)
    response = client.post(url("request_reassign", req), {"owner": nobody.pk})
    assert response.status_code == 400 and "only active staff with an email address" in response.content.decode()
    req.refresh_from_db()
    assert req.owner == owner and task_of(req.rounds.get()).owner == owner
    with pytest.raises(ValidationError) as refused:
        services.request_reassign(by=compliance, request=req, owner=nobody)
    assert "cannot be given work" in " ".join(refused.value.messages)


def test_the_auditor_cannot_reassign(client, req, engaged_auditor):
    client.force_login(engaged_auditor)
    assert client.post(url("request_reassign", req), {"owner": req.owner_id}).status_code == 403
    assert AuditorAction.objects.filter(kind=AuditorAction.Kind.REFUSED).exists()


# --- answering, accepting, asking again ---------------------------------------------------------------------------


def test_the_owner_answers_through_the_emailed_link_and_the_auditor_sees_the_file(client, req, owner, engaged_auditor):
    task = task_of(req.rounds.get())
    address, token = links.task_link_url(task).split("#", 1)
    assert client.post(reverse("maintenance:task_link"), {"token": token}).status_code == 302
    done = client.post(
        reverse("maintenance:task_link_task", args=[task.pk]),
        {"note": "Attached.", "links": "", "files": SimpleUploadedFile("review.txt", REPORT)},
    )
    assert done.status_code == 200
    req.refresh_from_db()
    assert req.state == RequestState.ANSWERED and req.rounds.get().answered_at is not None
    item = EvidenceItem.objects.get(occurrence=task)
    assert item.submitted_by == owner
    # The grant reaches the answering task and its evidence.
    assert reach.visible(engaged_auditor, EvidenceItem).filter(pk=item.pk).exists()
    assert reach.visible(engaged_auditor, Occurrence).filter(pk=task.pk).exists()
    client.logout()
    client.force_login(engaged_auditor)
    page = client.get(url("request", req)).content.decode()
    assert "review.txt" in page and hashlib.sha256(REPORT).hexdigest() in page
    assert "Answered, waiting for the auditor" in page and "Accept" in page and "Ask again" in page


def test_the_answer_is_hidden_from_an_auditor_of_another_engagement(req, owner, engagement, compliance):
    task = answer(req, owner)
    stranger = UserFactory(username="sam", role=Role.AUDITOR, department=None)
    from portal.services import engagement_save

    engagement_save(
        by=compliance,
        title="Another audit",
        certification_body="Other Body",
        audit=None,
        period_start=engagement.period_start,
        period_end=engagement.period_end,
        access_starts_on=engagement.access_starts_on,
        access_ends_on=engagement.access_ends_on,
        areas=[],
        frameworks=engagement.frameworks.all(),
        auditors=[stranger],
    )
    assert not reach.visible(stranger, EvidenceItem).filter(occurrence=task).exists()
    assert not reach.visible(stranger, EvidenceRequest).exists()


def test_the_auditor_accepts_the_answer_and_the_log_says_so(client, req, owner, engaged_auditor):
    answer(req, owner)
    client.force_login(engaged_auditor)
    assert client.post(url("request_accept", req)).status_code == 302
    req.refresh_from_db()
    assert req.state == RequestState.ACCEPTED and req.accepted_by == engaged_auditor
    action = AuditorAction.objects.get(kind=AuditorAction.Kind.ACCEPT)
    assert action.what == "Accepted the answer to request 1" and action.engagement_id == req.engagement_id
    listing = reverse("portal:requests", kwargs={"engagement": req.engagement_id})
    assert "Accepted" in client.get(listing).content.decode()


def test_asking_again_makes_round_two_with_a_new_task(client, clock, req, owner, engaged_auditor):
    first = answer(req, owner)
    client.force_login(engaged_auditor)
    due = clock.today + datetime.timedelta(days=5)
    response = client.post(url("request_ask_again", req), {"text": "The sign-off page is missing", "due_on": due})
    assert response.status_code == 302
    req.refresh_from_db()
    assert req.state == RequestState.OPEN and req.due_on == due and req.rounds.count() == 2
    second = task_of(req.rounds.get(number=2))
    assert second.pk != first.pk and second.owner == owner and second.state == Occurrence.State.OPEN
    assert "The sign-off page is missing" in second.schedule.description
    first.refresh_from_db()
    assert first.state == Occurrence.State.DONE  # the first answer stays
    answer(req, owner, round_number=2)
    req.refresh_from_db()
    assert req.state == RequestState.ANSWERED


def test_withdrawing_takes_the_task_off_the_calendar_with_the_reason(client, req, engaged_auditor):
    client.force_login(engaged_auditor)
    assert client.post(url("request_withdraw", req), {"reason": "Seen on site"}).status_code == 302
    req.refresh_from_db()
    task = task_of(req.rounds.get())
    assert req.state == RequestState.WITHDRAWN and req.withdraw_reason == "Seen on site"
    assert task.state == Occurrence.State.SKIPPED and "Seen on site" in task.skip_reason
    assert "Seen on site" in client.get(url("request", req)).content.decode()


def test_the_team_may_withdraw_too(req, compliance):
    services.request_withdraw(by=compliance, request=req, reason="Duplicate of request 2")
    req.refresh_from_db()
    assert req.state == RequestState.WITHDRAWN


# --- refusals ---------------------------------------------------------------------------------------------------


def test_accepting_before_an_answer_is_refused(client, req, engaged_auditor):
    client.force_login(engaged_auditor)
    response = client.post(url("request_accept", req), follow=True)
    assert "There is no answer to accept yet" in response.content.decode()
    req.refresh_from_db()
    assert req.state == RequestState.OPEN
    with pytest.raises(ValidationError):
        services.request_accept(by=engaged_auditor, request=req)
    with pytest.raises(ValidationError):
        services.request_ask_again(by=engaged_auditor, request=req, text="more", due_on=None)


def test_an_auditor_of_another_engagement_gets_404(client, req, compliance, engagement):
    stranger = UserFactory(username="sam", role=Role.AUDITOR, department=None)
    client.force_login(stranger)
    assert client.get(url("request", req)).status_code == 404
    assert client.get(reverse("portal:requests", kwargs={"engagement": engagement.pk})).status_code == 404
    assert client.post(url("request_accept", req)).status_code == 404


@pytest.mark.parametrize("who", ["viewer", "owner"])
def test_viewer_and_owner_cannot_accept(client, request, req, who):
    answer(req, request.getfixturevalue("owner"))
    client.force_login(request.getfixturevalue(who))
    assert client.post(url("request_accept", req)).status_code == 403
    req.refresh_from_db()
    assert req.state == RequestState.ANSWERED


def test_the_team_cannot_accept_for_the_auditor(client, req, owner, compliance):
    answer(req, owner)
    client.force_login(compliance)
    assert client.post(url("request_accept", req)).status_code == 403
    page = client.get(url("request", req)).content.decode()
    assert "Reassign" in page and "Withdraw" in page and 'action="' + url("request_accept", req) not in page


def test_the_preview_never_writes(req, engagement, compliance, owner):
    preview = AuditorPreview(engagement, by=compliance)
    with pytest.raises(PermissionDenied):
        services.request_create(by=preview, engagement=engagement, text="Anything")
    answer(req, owner)
    with pytest.raises(PermissionDenied):
        services.request_accept(by=preview, request=req)
    assert EvidenceRequest.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"text": "  "}, "text", "Say what evidence you need"),
        ({"text": "Logs", "due_on": "2000-01-01"}, "due_on", "The due date is in the past"),
        ({"text": "Logs", "due_on": "2099-01-01"}, "due_on", "access ends on"),
    ],
)
def test_bad_input_is_a_form_error_and_nothing_is_written(client, engagement, engaged_auditor, data, field, message):
    client.force_login(engaged_auditor)
    response = client.post(reverse("portal:request_new", kwargs={"engagement": engagement.pk}), data)
    assert response.status_code == 200 and message in response.content.decode()
    assert not EvidenceRequest.objects.exists() and not RequestRound.objects.exists()
    assert not Schedule.objects.filter(purpose="evidence_request").exists()


def test_an_owner_who_cannot_own_work_is_a_form_error_for_the_team(client, engagement, compliance):
    nobody = UserFactory(username="noemail", email="", role=Role.OWNER)
    with pytest.raises(ValidationError) as refused:
        services.request_create(by=compliance, engagement=engagement, text="Logs", owner=nobody)
    assert "owner" in refused.value.message_dict
    client.force_login(compliance)
    response = client.post(
        reverse("portal:request_new", kwargs={"engagement": engagement.pk}), {"text": "Logs", "owner": nobody.pk}
    )
    assert response.status_code == 200 and "only active staff with an email address" in response.content.decode()
    assert not EvidenceRequest.objects.exists()


# --- the list -----------------------------------------------------------------------------------------------------


def test_both_sides_see_every_request_and_its_state(client, req, engagement, engaged_auditor, compliance, owner):
    answer(req, owner)
    services.request_create(by=engaged_auditor, engagement=engagement, text="Joiners and leavers")
    listing = reverse("portal:requests", kwargs={"engagement": engagement.pk})
    for person in (engaged_auditor, compliance):
        client.force_login(person)
        body = client.get(listing).content.decode()
        assert "Answered, waiting for the auditor" in body and "Waiting for an answer" in body
        assert "Joiners and leavers" in body and "The Q1 access review" in body
    only_open = client.get(listing, {"state": "open"}).content.decode()
    assert "Joiners and leavers" in only_open and "The Q1 access review" not in only_open


def test_the_list_asks_the_same_queries_for_few_and_many_requests(client, engagement, engaged_auditor, control):
    listing = reverse("portal:requests", kwargs={"engagement": engagement.pk})
    client.force_login(engaged_auditor)

    def queries() -> int:
        client.get(listing)  # warm the session and content types
        with CaptureQueriesContext(connection) as captured:
            assert client.get(listing).status_code == 200
        return len(captured)

    services.request_create(by=engaged_auditor, engagement=engagement, text="One", control=control)
    few = queries()
    for n in range(6):
        services.request_create(by=engaged_auditor, engagement=engagement, text=f"More {n}", control=control)
    assert queries() == few


def test_a_request_on_a_sampled_task_goes_to_its_controls_owner(clock, engagement, engaged_auditor, other_owner):
    from portal.models import Sample, SampleItem
    from tests.factories import make_schedule

    theirs = make_control(other_owner, reference="HR-01", name="Screening", requirements=[make_requirement()])
    task = make_schedule(other_owner, subject=theirs, title="Monthly screening check").occurrences.first()
    sample = Sample.objects.create(
        engagement=engagement,
        population="control_activities",
        control=theirs,
        period_start=engagement.period_start,
        period_end=engagement.period_end,
        seed=1,
        population_size=1,
        sample_size=1,
        size_rule="fewer than 5: all",
        title="Screening checks",
    )
    item = SampleItem.objects.create(sample=sample, item=task, label="Screening check of March", position=1)
    created = services.request_create(by=engaged_auditor, engagement=engagement, text="The checklist", sample_item=item)
    assert created.owner == other_owner and created.control == theirs
    assert "Sampled record: Screening check of March" in task_of(created.rounds.get()).schedule.description


def test_asking_again_without_a_date_gives_ten_days(clock, req, owner, engaged_auditor):
    answer(req, owner)
    rnd = services.request_ask_again(by=engaged_auditor, request=req, text="Signed copy please")
    assert rnd.number == 2 and rnd.due_on == clock.today + datetime.timedelta(days=10)


def test_an_overdue_task_moves_too_and_no_second_task_is_made(clock, req, compliance, other_owner):
    clock.advance(days=12)  # two days past due: still open, overdue
    services.request_reassign(by=compliance, request=req, owner=other_owner)
    tasks = Occurrence.objects.filter(schedule__purpose="evidence_request")
    assert tasks.count() == 1 and tasks.get().owner == other_owner and tasks.get().state == Occurrence.State.OPEN


def test_the_auditors_are_told_once_when_a_request_is_answered(clock, req, owner, engaged_auditor, mailoutbox):
    from isms.notices.engine import deliver
    from isms.notices.models import Notice

    answer(req, owner)
    notice = Notice.objects.get(kind="portal.request_answered")
    assert notice.recipient == engaged_auditor
    deliver(notice.pk, now=clock.now)
    [mail] = mailoutbox
    assert mail.subject.startswith("Evidence request 1 answered: The Q1 access review")
    assert url("request", req) in mail.body and "accept it or ask again" in mail.body
    assert f"was answered by {owner.get_full_name()}" in mail.body
    assert not services.notify_answered(req.rounds.get())  # once per round and auditor


def test_no_email_once_the_request_is_withdrawn(clock, req, owner, engaged_auditor, mailoutbox):
    from isms.notices.engine import deliver
    from isms.notices.models import Notice

    answer(req, owner)
    services.request_withdraw(by=engaged_auditor, request=req, reason="Seen on site")
    deliver(Notice.objects.get(kind="portal.request_answered").pk, now=clock.now)
    assert not mailoutbox
