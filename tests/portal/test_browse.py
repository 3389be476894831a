"""The auditor's read-only pages: what an engaged auditor sees of the period and the scope, what the compliance
team's preview shows (the same), and what is logged."""

import datetime

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from controls.services import soa_approve, soa_entries_ensure
from evidence import coverage
from evidence.services import evidence_add_file, evidence_add_link, evidence_add_note
from evidence.services import occurrence_complete_with_evidence as occurrence_complete
from isms.foundation.roles import Role
from isms.maintenance.services import occurrence_skip, schedule_materialise
from portal.models import AuditorAction, Engagement
from portal.services import engagement_save
from tests.conftest import FROZEN_TODAY
from tests.factories import UserFactory, make_control, make_requirement, make_schedule

D = datetime.date
TODAY = FROZEN_TODAY  # 10 March 2026
PERIOD = (D(2025, 3, 1), D(2026, 2, 28))


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()


def at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(10, 30)))


FIRST_DUE = D(2024, 9, 10)


def monthly(owner, control, start=FIRST_DUE):
    schedule = make_schedule(owner=owner, title="Monthly access review", start_date=start, subject=control, today=start)
    schedule_materialise(schedule=schedule, today=TODAY, since=start)
    return schedule


@pytest.fixture
def audit(clock, owner, compliance):
    """AC-01 (mapped to Annex A 5.15, in an approved SoA) with a monthly review since September 2024; an
    engagement over March 2025 – February 2026 for Erin, including the risk register only; HR-01 maps to a
    requirement left out of scope."""
    requirement = make_requirement()
    other = make_requirement(identifier="6.3", title="Awareness")
    control = make_control(owner, reference="AC-01", name="Access reviews", requirements=[requirement])
    outside = make_control(owner, reference="HR-01", name="Awareness training", requirements=[other])
    schedule = monthly(owner, control)
    occs = {o.due_date: o for o in schedule.occurrences.all()}
    in_period = occs[D(2025, 4, 10)]
    occurrence_complete(occurrence=in_period, by=owner, now=at(D(2025, 4, 10)))
    item = evidence_add_file(
        upload=SimpleUploadedFile("april-review.csv", b"user,access\nana,revoked\n"),
        by=owner,
        source="web",
        occurrence=in_period,
        title="April access review",
        effective_date=D(2025, 4, 10),
    )
    late_item = evidence_add_file(
        upload=SimpleUploadedFile("re-export.csv", b"again\n"),
        by=owner,
        source="web",
        occurrence=in_period,
        title="Re-exported list",
        effective_date=D(2026, 3, 5),  # after the period: shown, marked
    )
    occurrence_skip(occurrence=occs[D(2025, 6, 10)], by=compliance, reason="System migration froze all accounts")
    evidence_add_file(
        upload=SimpleUploadedFile("old.csv", b"old\n"),
        by=owner,
        source="web",
        occurrence=occs[D(2024, 10, 10)],
        title="October 2024 review",
        effective_date=D(2024, 10, 10),
    )
    evidence_add_link(
        url="https://wiki.example.com/access", by=owner, source="web", control=control, effective_date=D(2025, 5, 1)
    )
    evidence_add_note(
        note="Policy v1 approved", by=compliance, source="web", control=control, effective_date=D(2024, 1, 5)
    )
    soa_entries_ensure(requirement.framework)
    soa_approve(framework=requirement.framework, by=compliance, note="First version")
    erin = UserFactory(username="erin", first_name="Erin", last_name="Examiner", role=Role.AUDITOR, department=None)
    engagement = engagement_save(
        by=compliance,
        title="Surveillance audit 2026",
        certification_body="Example Certification Ltd",
        audit=None,
        period_start=PERIOD[0],
        period_end=PERIOD[1],
        access_starts_on=TODAY - datetime.timedelta(days=1),
        access_ends_on=TODAY + datetime.timedelta(days=14),
        areas=["risks"],
        frameworks=[requirement.framework],
        requirements=[requirement],
        auditors=[erin],
    )
    return {
        "engagement": engagement,
        "erin": erin,
        "control": control,
        "outside": outside,
        "requirement": requirement,
        "other": other,
        "item": item,
        "late_item": late_item,
        "occs": occs,
    }


def url(name, audit, **kwargs):
    return reverse(f"portal:{name}", kwargs={"engagement": audit["engagement"].pk, **kwargs})


def test_the_control_page_shows_the_tasks_of_the_period_with_their_evidence(client, audit, compliance):
    client.force_login(audit["erin"])
    response = client.get(url("control", audit, pk=audit["control"].pk))
    assert response.status_code == 200
    body = response.content.decode()
    assert "due 10 Apr 2025" in body and "due 10 Feb 2026" in body
    assert "due 10 Oct 2024" not in body and "October 2024 review" not in body  # before the period: not shown
    assert "due 10 Mar 2026" not in body  # after it
    assert body.count('data-testid="task"') == 12
    assert "System migration froze all accounts" in body  # skipped, with its reason
    assert "April access review" in body and audit["item"].sha256 in body
    assert url("evidence_download", audit, pk=audit["item"].pk) in body
    # Evidence dated outside the period is shown and marked, never hidden.
    assert "Re-exported list" in body and "Policy v1 approved" in body
    assert body.count('data-testid="outside-period"') == 2
    assert 'href="https://wiki.example.com/access"' in body
    # The summary is the control's own coverage for the period, as the compliance team's coverage page counts it:
    # the link filed on the control in the period counts, the note filed before it does not.
    own = coverage.control_coverage(
        control=audit["control"], period=coverage.Period(*PERIOD), user=compliance, today=TODAY
    )
    assert own.direct_total == 1
    assert f"In the period under audit: {own.summary}" in " ".join(body.split())
    entry = AuditorAction.objects.get(path=url("control", audit, pk=audit["control"].pk))
    assert entry.what == "Control AC-01 Access reviews" and entry.user == audit["erin"]


def test_the_overview_shows_the_soa_in_force_and_the_requirements_in_scope(client, audit):
    client.force_login(audit["erin"])
    response = client.get(url("engagement", audit))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Statement of Applicability version 1" in body
    assert url("requirement", audit, pk=audit["requirement"].pk) in body
    assert url("control", audit, pk=audit["control"].pk) in body
    assert "Awareness" not in body  # its requirement is out of scope
    assert url("risks", audit) in body and url("nonconformities", audit) not in body  # only the areas included
    assert 'class="cov-svg"' in body


def test_the_requirement_page(client, audit):
    client.force_login(audit["erin"])
    response = client.get(url("requirement", audit, pk=audit["requirement"].pk))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="soa-line"' in body and url("control", audit, pk=audit["control"].pk) in body


def test_out_of_scope_and_areas_not_included_are_404(client, audit):
    client.force_login(audit["erin"])
    assert client.get(url("control", audit, pk=audit["outside"].pk)).status_code == 404
    assert client.get(url("requirement", audit, pk=audit["other"].pk)).status_code == 404
    assert client.get(url("nonconformities", audit)).status_code == 404
    assert client.get(url("registers", audit)).status_code == 404
    assert client.get(url("risks", audit)).status_code == 200


def test_the_download_is_an_attachment_with_the_bytes_and_is_logged(client, audit):
    client.force_login(audit["erin"])
    item = audit["item"]
    response = client.get(url("evidence_download", audit, pk=item.pk))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == b"user,access\nana,revoked\n"
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    entry = AuditorAction.objects.get(kind=AuditorAction.Kind.DOWNLOAD)
    assert entry.what == f"Downloaded April access review ({item.sha256[:12]})"
    assert entry.engagement == audit["engagement"]


def test_evidence_of_a_control_out_of_scope_cannot_be_downloaded(client, audit, owner):
    hidden = evidence_add_file(
        upload=SimpleUploadedFile("hr.csv", b"hr\n"), by=owner, source="web", control=audit["outside"]
    )
    client.force_login(audit["erin"])
    assert client.get(url("evidence_download", audit, pk=hidden.pk)).status_code == 404
    assert client.get(url("evidence_download", audit, pk=audit["item"].pk)).status_code == 200


def test_the_preview_shows_the_same_with_a_banner_and_logs_nothing(client, audit, compliance):
    pages = [("engagement", {}), ("control", {"pk": audit["control"].pk}), ("risks", {})]
    client.force_login(audit["erin"])
    seen = {name: client.get(url(name, audit, **kw)).content.decode() for name, kw in pages}
    logged = AuditorAction.objects.count()
    client.force_login(compliance)
    for name, kw in pages:
        response = client.get(url(name, audit, **kw))
        body = response.content.decode()
        assert response.status_code == 200
        assert 'data-testid="preview-banner"' in body
        main = body.split('data-testid="preview-banner"')[1].split("</div>", 1)[1]
        assert main.split("<main")[0] in seen[name]  # the page below the banner is the auditor's
    assert AuditorAction.objects.count() == logged
    assert client.get(url("nonconformities", audit)).status_code == 404  # the preview obeys the scope too


def test_an_auditor_without_an_engagement_gets_404_everywhere(client, audit, auditor):
    client.force_login(auditor)
    for name, kw in [
        ("engagement", {}),
        ("control", {"pk": audit["control"].pk}),
        ("requirement", {"pk": audit["requirement"].pk}),
        ("evidence_download", {"pk": audit["item"].pk}),
        ("risks", {}),
    ]:
        assert client.get(url(name, audit, **kw)).status_code == 404


def test_an_engagement_whose_access_ended_is_404(client, audit, clock):
    Engagement.objects.filter(pk=audit["engagement"].pk).update(access_ends_on=TODAY - datetime.timedelta(days=1))
    client.force_login(audit["erin"])
    assert client.get(url("engagement", audit)).status_code in (302, 404)


def _more_rows(audit, owner, compliance, n):
    """n more controls mapped to the requirement in scope, each with a monthly activity and evidence."""
    for i in range(n):
        control = make_control(
            owner, reference=f"AC-{10 + i}", name=f"Control {i}", requirements=[audit["requirement"]]
        )
        schedule = monthly(owner, control)
        for occ in schedule.occurrences.filter(due_date__range=PERIOD)[:3]:
            occurrence_complete(
                occurrence=occ,
                by=owner,
                files=[SimpleUploadedFile("r.txt", b"r")],
                now=at(occ.due_date),
            )
        evidence_add_note(note=f"Note {i}", by=compliance, source="web", control=audit["control"])


def test_the_control_page_and_overview_take_constant_queries(client, audit, owner, compliance):
    client.force_login(audit["erin"])

    def count(name, **kw):
        cache.clear()  # no activity's coverage kept (evidence/coverage.py): every one summarised, the most queries
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url(name, audit, **kw)).status_code == 200
        return len(ctx)

    for name, kw in (("engagement", {}), ("control", {"pk": audit["control"].pk})):
        count(name, **kw)  # warm what a first request fills for the process (content types)
    few = {"engagement": count("engagement"), "control": count("control", pk=audit["control"].pk)}
    few["requirement"] = count("requirement", pk=audit["requirement"].pk)
    _more_rows(audit, owner, compliance, 4)
    occs = audit["control"].schedules.get().occurrences.filter(due_date__range=PERIOD, state="open")
    for occ in occs[:5]:
        occurrence_complete(occurrence=occ, by=owner, files=[SimpleUploadedFile("x.txt", b"x")], now=at(occ.due_date))
    many = {"engagement": count("engagement"), "control": count("control", pk=audit["control"].pk)}
    many["requirement"] = count("requirement", pk=audit["requirement"].pk)
    assert many == few


@pytest.fixture
def areas(audit, owner, compliance):
    """The engagement includes every area; a risk with a treatment action, a nonconformity raised in the period
    with a corrective action, an internal audit and an incident in the period, and a nonconformity closed before
    the period began."""
    from audits.models import Nonconformity
    from audits.services import action_add, audit_create, nc_raise
    from events.services import incident_create, severity_scale_ensure
    from portal.models import Area
    from risks.services import action_save, risk_create

    Engagement.objects.filter(pk=audit["engagement"].pk).update(areas=list(Area.values))
    risk = risk_create(
        by=compliance,
        title="Laptop theft",
        asset="Laptops",
        threat="Theft",
        vulnerability="No disk encryption",
        owner=owner,
        inherent_likelihood=3,
        inherent_impact=4,
        residual_likelihood=2,
        residual_impact=4,
        treatment="mitigate",
    )
    action_save(risk=risk, by=compliance, title="Encrypt every disk", owner=owner, due_date=TODAY)
    nc = nc_raise(by=compliance, source="self", title="Reviews missed", description="Two missed.", owner=owner)
    Nonconformity.objects.filter(pk=nc.pk).update(state="open", raised_on=D(2025, 8, 1))
    action_add(nc=nc, by=compliance, title="Remind the owners", owner=owner, due_on=TODAY)
    old = nc_raise(by=compliance, source="self", title="Old finding", description="Long ago.", owner=owner)
    Nonconformity.objects.filter(pk=old.pk).update(raised_on=D(2024, 5, 1), closed_on=D(2024, 6, 1), state="closed")
    internal = audit_create(
        by=compliance,
        kind="internal",
        title="Internal audit of access control",
        planned_on=D(2025, 9, 1),
        lead_auditor=compliance,
        scope=[audit["requirement"]],
    )
    incident_create(
        by=owner,
        owner=owner,
        title="Lost laptop",
        description="Left on a train",
        occurred_on=D(2025, 5, 2),
        detected_on=D(2025, 5, 2),
        severity=severity_scale_ensure()[0],
    )
    return {"risk": risk, "nc": nc, "old": old, "audit": internal}


def test_the_areas_show_their_records_of_the_period(client, audit, areas):
    client.force_login(audit["erin"])
    body = client.get(url("risks", audit)).content.decode()
    assert "Laptop theft" in body and "Encrypt every disk" in body
    body = client.get(url("nonconformities", audit)).content.decode()
    assert "Reviews missed" in body and "Old finding" not in body  # closed before the period
    body = client.get(url("nonconformity", audit, pk=areas["nc"].pk)).content.decode()
    assert "Remind the owners" in body
    assert client.get(url("nonconformity", audit, pk=areas["old"].pk)).status_code == 404
    body = client.get(url("internal_audit", audit, pk=areas["audit"].pk)).content.decode()
    assert "Internal audit of access control" in body
    body = client.get(url("registers", audit)).content.decode()
    assert "Lost laptop" in body
    assert client.get(url("management_reviews", audit)).status_code == 200
    nav = client.get(url("engagement", audit)).content.decode()
    for name in ("risks", "internal_audits", "nonconformities", "management_reviews", "registers"):
        assert url(name, audit) in nav


@pytest.mark.django_db(transaction=True)
def test_a_kept_page_is_still_logged_and_follows_new_evidence_and_the_end_of_the_engagement(
    client, audit, owner, compliance
):
    """The portal's pages are kept until the data changes (isms/foundation/pagecache.py), as the staff pages are:
    a kept page is still a line in the auditors' log, new evidence shows at once, and an ended engagement
    signs its auditor out whatever is kept."""
    from portal.services import engagement_end

    client.force_login(audit["erin"])
    client.get(url("engagement", audit))  # the first page sets the browser's CSRF cookie, as signing in does
    page = url("control", audit, pk=audit["control"].pk)
    assert client.get(page)["X-Page-Cache"] == "miss"
    assert client.get(page)["X-Page-Cache"] == "hit"
    lines = list(AuditorAction.objects.filter(user=audit["erin"], path=page).order_by("pk"))
    assert len(lines) == 2 and all(line.engagement == audit["engagement"] for line in lines)
    assert all("AC-01" in line.what for line in lines), [line.what for line in lines]
    evidence_add_note(
        note="Reviewed again after the finding",
        by=owner,
        source="web",
        control=audit["control"],
        effective_date=D(2025, 5, 2),
    )
    fresh = client.get(page)
    assert fresh["X-Page-Cache"] == "miss" and "Reviewed again after the finding" in fresh.content.decode()
    engagement_end(engagement=audit["engagement"], by=compliance, reason="Audit finished")
    ended = client.get(page)
    assert ended.status_code == 302 and ended.url.startswith(reverse("login"))


def test_the_days_coverage_is_prepared_before_the_auditors_look(client, audit, owner):
    """Beat's prepare-audit-coverage job summarises each open engagement's coverage for the day: the first view of
    the overview and of a requirement then reads no task (each activity's summary is kept for the day)."""
    from isms.beat import BEAT_SCHEDULE
    from portal import tasks
    from portal.scope import scope_of

    entry = BEAT_SCHEDULE["prepare-audit-coverage"]
    assert entry["task"] == tasks.prepare_coverage.name
    cache.clear()
    pages = 1 + len(scope_of(audit["engagement"]).requirement_ids)  # the overview and each requirement's page
    assert tasks.prepare_coverage() == pages
    assert tasks.prepare_coverage() == pages  # again: nothing changes, nothing fails
    client.force_login(audit["erin"])
    for name, kw in (("engagement", {}), ("requirement", {"pk": audit["requirement"].pk})):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url(name, audit, **kw)).status_code == 200
        read_tasks = [
            q["sql"] for q in ctx.captured_queries if '"evidence_tally"' in q["sql"] or "taskevidencecount" in q["sql"]
        ]
        assert read_tasks == [], name
