"""The demo's audit programme: a year of monthly internal audits with their findings (signed off by Hannah from
HR, who never audits her own department), the certification body's stage 2 audit with a finding, six
nonconformities in different states (one raised by a missed control activity and awaiting the compliance team,
one reopened by a failed effectiveness check, one closed, one waiting for its check, one with an overdue action,
one dismissed), the programme's slots for the rest of the cycle, interested parties with feedback, and two
management reviews, the second carrying the first one's open action. Loaded once."""

from __future__ import annotations

import datetime

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from controls.models import Requirement
from isms.accounts.models import Department, User
from isms.maintenance.models import Occurrence
from isms.maintenance.services import occurrence_complete
from isms.organisation.models import Certificate

from . import selectors, services
from .models import Audit, AuditKind, InterestedParty, NCState, Nonconformity, Result, Source

PARTIES = [
    ("Customers", "Their data kept confidential and available; notice of breaches within 24 hours (contract)."),
    ("Information Commissioner's Office", "UK GDPR compliance; breaches reported within 72 hours."),
    ("Staff", "Clear policies, training and a safe way to report incidents."),
    ("Cloud hosting provider", "Shared-responsibility model followed; their security notices acted on."),
]

# Result of checklist rows by position, for some months (the rest are conforming, two left unsampled).
FINDINGS = {
    2: {1: (Result.OBSERVATION, "Risk owners do not all record the date of their review.")},
    4: {3: (Result.MINOR, "Two leavers kept access to the file share for more than a week after leaving.")},
    6: {2: (Result.OFI, "The asset list could be exported from the endpoint tool instead of kept by hand.")},
    8: {0: (Result.MINOR, "The supplier register had no review date for two high-criticality suppliers.")},
    9: {4: (Result.OBSERVATION, "Incident lessons learned are not yet shared with the teams concerned.")},
    10: {1: (Result.OFI, "Phishing simulation results could feed the awareness objective automatically.")},
}


def _at(day: datetime.date, hour: int = 16) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def _complete(subject, purpose: str, by: User, day: datetime.date, note: str = "Done.") -> None:
    from django.contrib.contenttypes.models import ContentType

    occ = Occurrence.objects.filter(
        schedule__subject_type=ContentType.objects.get_for_model(subject),
        schedule__subject_id=subject.pk,
        schedule__purpose=purpose,
        state__in=["open", "missed"],
    ).first()
    if occ is not None:
        occurrence_complete(occurrence=occ, by=by, note=note, now=_at(day, 11))


def load(*, users: dict[str, User], today: datetime.date) -> None:
    if Audit.objects.filter(kind=AuditKind.INTERNAL).exists():
        return
    certificate = Certificate.objects.current()
    if certificate is None:
        return
    people = {u.username: u for u in User.objects.all()}
    compliance, owner, admin, viewer = users["compliance"], users["owner"], users["admin"], users["viewer"]
    lead = people.get("hannah") or viewer
    programme = services.programme_ensure(certificate=certificate)
    cov = selectors.coverage(programme, today)
    areas = [a.requirement for a in cov.rows]
    it = Department.objects.filter(name="IT").first()
    security = Department.objects.filter(name="Security").first()

    # A year of monthly internal audits, each with a slice of the clauses and controls.
    audits = []
    cursor = 0
    for month in range(12, 0, -1):
        day = (today - relativedelta(months=month)).replace(day=3)
        departments = [d for d in ((it,) if month % 2 else (security,)) if d is not None]
        scope: list[Requirement] = []
        while len(scope) < 8 and cursor < len(areas) * 2:
            candidate = areas[cursor % len(areas)]
            cursor += 1
            if candidate not in scope and not services.auditor_conflict(lead, departments, scope + [candidate]):
                scope.append(candidate)
        audit = services.audit_create(
            by=compliance,
            programme=programme,
            kind=AuditKind.INTERNAL,
            title=f"Internal audit {day:%B %Y}",
            planned_on=day,
            lead_auditor=lead,
            departments=departments,
            scope=scope,
            criteria="ISO/IEC 27001:2022 clauses 4–10, the applicable Annex A controls and our ISMS policies.",
            processes="Access management, supplier management" if month % 2 else "Risk management, incident handling",
        )
        findings = FINDINGS.get(12 - month, {})
        for i, row in enumerate(audit.rows.all()):
            if i >= 6:
                break  # the last rows of each audit were not sampled this time
            result, note = findings.get(i, (Result.CONFORMING, ""))
            services.row_record(row=row, by=lead, result=result, notes=note or "Sampled records; as required.")
        services.audit_sign_off(
            audit=audit,
            by=lead,
            summary=f"{len(scope)} areas in scope; {min(6, len(scope))} sampled with their records.",
            conclusion="The ISMS conforms and is effectively implemented"
            + (", with the findings below." if findings else "."),
            now=_at(day + datetime.timedelta(days=4)),
        )
        audits.append(audit)

    # The certification body's stage 2 audit, before the certificate was issued, with a minor finding.
    stage2 = services.audit_create(
        by=compliance,
        kind=AuditKind.STAGE_2,
        title="Certification audit stage 2",
        planned_on=certificate.issue_date - relativedelta(months=1),
        auditor_name=certificate.certification_body,
        criteria=certificate.standard,
    )
    mgmt = Requirement.objects.filter(framework__code=selectors.CLAUSES, identifier="7.5").first()
    services.finding_add(
        audit=stage2,
        by=compliance,
        grade=Result.MINOR,
        requirement=mgmt,
        description="Two policies in use were not the approved versions.",
        close_by=today - datetime.timedelta(days=10),
    )
    _complete(stage2, services.AUDIT, compliance, stage2.planned_on, "Stage 2 held; report received.")

    # The six nonconformities, each in its own state.
    reopened, closed = list(Nonconformity.objects.filter(source=Source.INTERNAL_AUDIT).order_by("number")[:2])
    # Reopened: the first round's action was done, the check found the problem again; a second action is open.
    _round(reopened, owner, compliance, reopened.raised_on, outcome="failed", second=True, today=today)
    # Closed: action done, check passed.
    _round(closed, owner, compliance, closed.raised_on, outcome="passed", today=today)
    # Waiting for its check: self-identified, action done recently.
    waiting = services.nc_raise(
        by=compliance,
        source=Source.SELF,
        title="Backup restore not tested after the storage migration",
        description="The monthly restore test was run against the old storage after the migration.",
        objective_evidence="Restore test records of the last two months name the old storage array.",
        owner=owner,
        requirements=list(Requirement.objects.filter(identifier="8.13", framework__has_soa=True)),
        raised_on=today - datetime.timedelta(days=40),
    )
    _round(waiting, owner, compliance, waiting.raised_on, outcome=None, today=today)
    # External finding: its action is overdue (escalated, and in the compliance team's weekly digest).
    external = Nonconformity.objects.filter(source=Source.EXTERNAL_AUDIT).first()
    services.nc_update(
        nc=external,
        by=compliance,
        correction="Replaced the two documents with the approved versions.",
        root_cause="The intranet page linked to files instead of the document register.",
        cause_category="process",
        elsewhere=True,
        places_checked="All intranet policy links checked: four more fixed.",
    )
    services.action_add(
        nc=external,
        by=compliance,
        title="Link the intranet to the document register only",
        owner=owner,
        due_on=today - datetime.timedelta(days=20),
        today=today - datetime.timedelta(days=50),
    )
    # Raised by a missed control activity, awaiting the compliance team (the calendar raises it by itself).
    missed = Occurrence.objects.filter(state=Occurrence.State.MISSED, schedule__subject_type__model="control").first()
    if missed is not None:
        services.nc_from_missed(occurrence=missed, today=today)
    for extra in Nonconformity.objects.filter(source=Source.MISSED_CONTROL, state=NCState.PROPOSED).order_by("number")[
        1:
    ]:
        services.nc_decide(
            nc=extra, by=compliance, accept=False, reason="Done on paper on time; the record was filed late."
        )
    # Dismissed (when the calendar raised only one): a self-identified report that turned out not to be one.
    if not Nonconformity.objects.filter(state=NCState.DISMISSED).exists():
        dismissed = services.nc_raise(
            by=compliance,
            source=Source.SELF,
            state=NCState.PROPOSED,
            title="Visitor log not signed",
            description="Reported by reception: a visitor did not sign the log.",
            owner=compliance,
            raised_on=today - datetime.timedelta(days=15),
        )
        services.nc_decide(
            nc=dismissed, by=compliance, accept=False, reason="The visitor was escorted and signed the paper log."
        )

    # The rest of the cycle's slots on the calendar, led by Hannah.
    services.programme_plan(
        programme=programme, by=compliance, audits_per_year=11, items_per_audit=8, lead_auditor=lead, today=today
    )

    # Interested parties and their feedback.
    for i, (name, needs) in enumerate(PARTIES):
        services.party_save(by=compliance, name=name, requirements=needs, now=_at(today - relativedelta(months=10 - i)))
    cust = InterestedParty.objects.get(name="Customers")
    services.party_save(
        party=cust,
        by=compliance,
        name=cust.name,
        requirements=cust.requirements + " Annual security questionnaire answered within 30 days.",
        change_note="Two large customers now ask for an annual questionnaire.",
        now=_at(today - relativedelta(months=2)),
    )
    services.feedback_add(
        by=compliance,
        party=cust,
        received_on=today - relativedelta(months=4),
        summary="A customer praised the incident notice after the email outage.",
    )
    services.feedback_add(
        by=compliance,
        party=cust,
        received_on=today - relativedelta(months=1),
        summary="A prospect asked for our SoA and last surveillance report.",
    )

    # Two management reviews: the first approved five months ago with two actions (one still open), the second
    # open now, its pack carrying that action.
    first_day = today - relativedelta(months=5)
    first = services.review_plan(by=compliance, planned_on=first_day, chair=compliance)
    services.review_open(review=first, by=compliance, today=first_day)
    services.review_record(
        review=first,
        by=compliance,
        meeting_on=first_day,
        attendees=[compliance, viewer, admin],
        other_attendees="",
        input_notes={
            "d1": "Leavers' access found in the internal audit; HR and IT to align.",
            "f": "Two risks above the threshold remain.",
        },
        suitability="Suitable: the scope still matches the business.",
        adequacy="Adequate, with more attention to leavers.",
        effectiveness="Effective: objectives mostly on track, nonconformities handled.",
        today=first_day,
    )
    services.decision_add(review=first, by=viewer, text="Fund an identity governance tool next quarter.")
    done = services.review_action_add(
        review=first,
        by=compliance,
        title="Automate leaver account removal",
        owner=owner,
        due_on=first_day + relativedelta(months=2),
        today=first_day,
    )
    services.review_action_add(
        review=first,
        by=compliance,
        title="Review the supplier register's cadence",
        owner=compliance,
        due_on=first_day + relativedelta(months=3),
        today=first_day,
    )
    services.review_approve(review=first, by=compliance, now=_at(first_day, 17))
    _complete(done, services.REVIEW_ACTION, owner, first_day + relativedelta(months=1, days=10))
    second = first.__class__.objects.exclude(pk=first.pk).order_by("planned_on").first()
    if second is not None:
        services.review_open(review=second, by=compliance, today=today)


def _round(nc: Nonconformity, owner: User, checker: User, start: datetime.date, *, outcome, today, second=False):
    """One round of corrective action on a nonconformity (and its check, when `outcome` is given)."""
    services.nc_update(
        nc=nc,
        by=checker,
        correction="Corrected the records found.",
        whys=["The step was missed", "Nobody was reminded", "The procedure named no owner"],
        root_cause="The procedure named no owner for the step.",
        cause_category="process",
        elsewhere=False,
        checker=checker,
        check_after_days=21,
    )
    due = start + datetime.timedelta(days=14)
    action = services.action_add(
        nc=nc, by=checker, title="Name an owner in the procedure", owner=owner, due_on=due, today=start
    )
    _complete(action, services.CORRECTIVE_ACTION, owner, due - datetime.timedelta(days=2), "Procedure updated.")
    nc.refresh_from_db()
    check = nc.checks.filter(round=nc.round).first()
    if outcome is None or check is None:
        return
    services.check_record(
        check=check,
        by=checker,
        outcome=outcome,
        note="Sampled the month's records." + ("" if outcome == "passed" else " The same gap was found again."),
        now=_at(check.due_on),
    )
    if second:
        services.action_add(
            nc=nc, by=checker, title="Add the step to the monthly checklist", owner=owner,
            due_on=today + datetime.timedelta(days=10), today=check.due_on,
        )  # fmt: skip
