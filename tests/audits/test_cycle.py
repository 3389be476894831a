"""The whole loop with time travel: monthly internal audits, a missed control activity raising a nonconformity,
its corrective action, an effectiveness check that fails and reopens it, a second round that passes and closes
it, and a management review whose pack shows exactly those events and carries its open actions into the next."""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from pypdf import PdfReader

from audits import selectors, services
from audits.models import AuditKind, NCState, Nonconformity, Result, Source
from isms.maintenance.models import Schedule
from isms.maintenance.services import mark_missed, occurrence_complete
from tests.audits.conftest import task_of

pytestmark = pytest.mark.django_db


def figures(pack: dict, key: str) -> dict:
    heading = next(h for h in pack["headings"] if h["key"] == key)
    return {f["label"]: f for f in heading["figures"]}


def test_full_cycle(clock, client_as, compliance, owner, other_owner, admin_user, certificate, backup_control):
    # The programme: one slot a month, led by the HR owner (who does not audit IT's controls).
    programme = services.programme_ensure(certificate=certificate)
    slots = services.programme_plan(
        programme=programme, by=compliance, audits_per_year=11, items_per_audit=10, lead_auditor=other_owner
    )
    first_year = [a for a in slots if a.planned_on < datetime.date(2027, 3, 1)]
    # Eleven a certificate year: February 2027 (the first surveillance audit) is left free and March 2026 is past.
    assert [a.planned_on.month for a in first_year] == [4, 5, 6, 7, 8, 9, 10, 11, 12, 1]
    assert len([a for a in slots if datetime.date(2027, 3, 1) <= a.planned_on < datetime.date(2028, 3, 1)]) == 11
    # Each slot is a task on its lead's calendar (made as the calendar's horizon reaches it).
    assert {s.owner for s in Schedule.objects.filter(purpose=services.AUDIT)} == {other_owner}
    assert Schedule.objects.filter(purpose=services.AUDIT).count() == len(slots)
    assert task_of(slots[0], services.AUDIT).due_date == datetime.date(2026, 4, 1)
    external = programme.audits.exclude(kind=AuditKind.INTERNAL)
    assert sorted(external.values_list("kind", flat=True)) == ["recertification", "surveillance_1", "surveillance_2"]

    added, _ = services.programme_fill(programme=programme, by=compliance)
    assert added > 0
    april = slots[0]
    april.refresh_from_db()
    assert april.rows.count() == 10  # the checklist follows the scope, one row a requirement

    # The restore test of 20 March is missed past its 7-day grace: a nonconformity raises itself, once.
    clock.move_to(datetime.date(2026, 3, 28))
    mark_missed(clock.today)
    nc = Nonconformity.objects.get()
    assert nc.source == Source.MISSED_CONTROL and nc.state == NCState.PROPOSED
    assert nc.owner == backup_control.owner and nc.control == backup_control
    assert list(nc.requirements.values_list("identifier", flat=True)) == ["8.13"]
    assert "20 Mar 2026" in nc.description and nc.raised_on == datetime.date(2026, 3, 28)
    mark_missed(clock.today)
    services.nc_from_missed(occurrence=nc.occurrence)
    assert Nonconformity.objects.count() == 1

    services.nc_decide(nc=nc, by=compliance, accept=True)
    services.nc_update(
        nc=nc,
        by=owner,
        correction="Ran the restore test late.",
        whys=["Nobody ran it", "The owner was on leave", "No deputy was named"],
        root_cause="No deputy for the backup owner.",
        cause_category="people",
        elsewhere=True,
        places_checked="Checked the other IT activities: two without deputies.",
        checker=compliance,
    )
    # Closing before the effectiveness check is refused, saying why.
    with pytest.raises(ValidationError, match="can close only when its effectiveness check passes"):
        services.nc_close(nc=nc, by=compliance)

    action = services.action_add(nc=nc, by=owner, title="Name a deputy", owner=owner, due_on=datetime.date(2026, 4, 10))
    clock.move_to(datetime.date(2026, 4, 8))
    occurrence_complete(occurrence=task_of(action, services.CORRECTIVE_ACTION), by=owner, note="Deputy named")
    nc.refresh_from_db()
    check = nc.checks.get()
    assert nc.state == NCState.CHECKING and check.due_on == datetime.date(2026, 5, 8) and check.checker == compliance
    # The implementer may not check their own action.
    with pytest.raises(ValidationError, match="You implemented a corrective action"):
        services.check_record(check=check, by=owner, outcome="passed", note="Looks fine")

    clock.move_to(datetime.date(2026, 5, 8))
    services.check_record(check=check, by=compliance, outcome="failed", note="April's test was late again.")
    nc.refresh_from_db()
    assert nc.state == NCState.OPEN and nc.round == 2
    with pytest.raises(ValidationError):
        services.nc_close(nc=nc, by=compliance)
    second = services.action_add(
        nc=nc, by=compliance, title="Automate the restore test reminder", owner=owner, due_on=datetime.date(2026, 5, 20)
    )
    clock.move_to(datetime.date(2026, 5, 18))
    occurrence_complete(occurrence=task_of(second, services.CORRECTIVE_ACTION), by=owner)
    nc.refresh_from_db()
    check2 = nc.checks.get(round=2)
    clock.move_to(check2.due_on)
    services.check_record(check=check2, by=admin_user, outcome="passed", note="Two tests on time since.")
    nc.refresh_from_db()
    assert nc.state == NCState.CLOSED and nc.closed_on == datetime.date(2026, 6, 17)

    # April's audit: results recorded, report signed off by its lead, frozen, its minor NC in the register.
    clock.move_to(datetime.date(2026, 4, 20))
    rows = list(april.rows.select_related("requirement"))
    services.row_record(row=rows[0], by=other_owner, result=Result.CONFORMING)
    services.row_record(row=rows[1], by=other_owner, result=Result.MINOR, notes="Scope document not reviewed.")
    services.row_record(row=rows[2], by=other_owner, result=Result.OFI, notes="Automate the asset list.")
    with pytest.raises(ValidationError, match="Only the audit lead"):
        services.audit_sign_off(audit=april, by=compliance, summary="x", conclusion="y")
    services.audit_sign_off(audit=april, by=other_owner, summary="Clauses checked.", conclusion="One minor.")
    with pytest.raises(ValidationError, match="frozen"):
        services.row_record(row=rows[3], by=other_owner, result=Result.CONFORMING)
    audit_nc = Nonconformity.objects.get(row=rows[1])
    assert audit_nc.source == Source.INTERNAL_AUDIT and audit_nc.severity == "minor"
    cov = selectors.coverage(programme, clock.today)
    covered = {a.requirement.pk for a in cov.rows if a.covered}
    assert {rows[0].requirement_id, rows[1].requirement_id, rows[2].requirement_id} <= covered

    # The management review at the end of June: its pack reflects exactly those events.
    clock.move_to(datetime.date(2026, 6, 30))
    review = services.review_plan(by=compliance, planned_on=clock.today, chair=compliance)
    services.review_open(review=review, by=compliance)
    pack = selectors.review_pack(review)
    d1 = figures(pack, "d1")
    assert d1["Nonconformities raised"]["now"] == 2  # the missed control and April's minor
    assert d1["Closed"]["now"] == 1
    assert d1["Reopened by a failed effectiveness check"]["now"] == 1
    assert d1["Corrective actions done"]["now"] == 2
    assert figures(pack, "d2")["Missed"]["now"] == 1
    d3 = figures(pack, "d3")
    assert d3["Internal audits reported"]["now"] == 1 and d3["Minor nonconformities"]["now"] == 1
    assert any("Automate the asset list" in i for i in next(h for h in pack["headings"] if h["key"] == "g")["items"])

    # A meeting date in the future is refused; nothing saved.
    with pytest.raises(ValidationError, match="in the future"):
        services.review_record(
            review=review, by=compliance, meeting_on=datetime.date(2026, 7, 2), other_attendees="CEO"
        )
    review.refresh_from_db()
    assert review.meeting_on is None and review.other_attendees == ""
    services.review_record(
        review=review,
        by=compliance,
        meeting_on=clock.today,
        attendees=[compliance],
        other_attendees="CEO",
        input_notes={"d1": "Deputies are now named."},
        suitability="Suitable.",
        adequacy="Adequate.",
        effectiveness="Effective, with one reopened nonconformity.",
    )
    services.decision_add(review=review, by=compliance, text="Budget for backup automation approved.")
    services.review_action_add(
        review=review, by=compliance, title="Buy backup software", owner=owner, due_on=datetime.date(2026, 9, 30)
    )
    clock.advance(hours=3)
    services.review_approve(review=review, by=compliance)
    review.refresh_from_db()
    assert review.approved_at.date() == datetime.date(2026, 6, 30) and review.meeting_on == datetime.date(2026, 6, 30)
    with pytest.raises(ValidationError, match="frozen"):
        services.decision_add(review=review, by=compliance, text="Late addition")

    # The next review was put on the calendar six months on; its pack carries the open action forward.
    nxt = review.__class__.objects.exclude(pk=review.pk).get()
    assert nxt.planned_on == datetime.date(2026, 12, 30)
    assert task_of(nxt, services.REVIEW).owner == compliance
    clock.move_to(datetime.date(2026, 12, 30))
    nxt = services.review_open(review=nxt, by=compliance)
    a = figures(selectors.review_pack(nxt), "a")
    assert a["Actions from earlier reviews"]["now"] == 1 and a["Still open"]["now"] == 1 and a["Overdue"]["now"] == 1
    assert nxt.period_start == datetime.date(2026, 7, 1)

    # The PDFs read back.
    client = client_as(compliance)
    pdf = client.get(reverse("audits:audit_pdf", args=[april.pk]))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert april.reference in text and "Scope document not reviewed." in text and "Signed off by" in text
    pdf = client.get(reverse("audits:review_minutes_pdf", args=[review.pk]))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Budget for backup automation approved." in text and "Buy backup software" in text
    assert "Effective, with" in text
    pdf = client.get(reverse("audits:review_pack_pdf", args=[review.pk]))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Nonconformities and corrective actions" in text and "Reopened by a failed effectiveness check" in text
