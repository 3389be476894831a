"""The demo's risk register: 24 risks over the demo departments on the default 5×5 criteria, a year of reviews
(some late, three overdue now, one asked for out of cycle), treatment actions on the calendar (some done with
evidence), two acceptances (one about to expire), one exception to a control, and a treatment plan version
waiting for one owner. The SoA's justifications cite R-03, R-05 and R-07: those are the risks here that link
Annex A 5.15, 8.13 and 8.8. Loaded once: when the register has risks, nothing is added."""

from __future__ import annotations

import datetime

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from controls.models import Control, Requirement
from isms.accounts.models import Department, User
from isms.maintenance import purposes

from . import services
from .models import Assessment, DepartmentManager, Risk

# (title, asset, threat, vulnerability, owner, inherent (L, I), residual (L, I), target (L, I) or None, treatment,
#  how, controls, Annex A ids, review months or None, days since the last review (None: follows its cadence))
RISKS = [
    ("Phishing leads to account takeover", "Staff email (Microsoft 365)", "Credential phishing campaigns",
     "Staff click links; MFA not yet on every account", "owner", (4, 4), (3, 3), (2, 3), "mitigate",
     "Awareness training, phishing-resistant MFA for admins, mail filtering.", ["AW-01", "AC-01"], ["6.3", "5.17"],
     None, None),
    ("Ransomware on file servers", "Shared drives and file servers", "Ransomware delivered by email or RDP",
     "Flat network; some servers unpatched", "owner", (3, 5), (2, 4), (2, 3), "mitigate",
     "Immutable backups, EDR on servers, network segmentation project.", ["BC-01", "VM-01"], ["8.7", "8.13"],
     None, None),
    ("Unauthorised access to customer data", "Customer database (production)", "Misuse of excessive privileges",
     "Access reviews quarterly only; shared admin accounts on legacy tools", "owner", (4, 5), (3, 4), (2, 3),
     "mitigate", "Quarterly access reviews, removal of shared accounts, just-in-time admin access.",
     ["AC-01"], ["5.15", "5.18", "8.2"], None, 120),
    ("Laptop theft exposes data", "Staff laptops", "Theft or loss while travelling",
     "Full-disk encryption not enforced on older models", "fiona", (3, 3), (2, 2), None, "mitigate",
     "Enforce disk encryption by device management; remote wipe.", ["CR-01"], ["8.1", "8.24"], None, None),
    ("Loss of customer data", "Customer database and backups", "Hardware failure, deletion or corruption",
     "Restores were not tested regularly before 2026", "owner", (3, 5), (2, 4), (1, 4), "mitigate",
     "Daily backups, quarterly restore tests, second region copy.", ["BC-01"], ["8.13", "5.30"], None, None),
    ("Supplier breach exposes our data", "Payroll and HR SaaS suppliers", "Compromise at a supplier",
     "No security review before 2025 contracts", "leo", (3, 4), (3, 4), (2, 3), "mitigate",
     "Annual supplier security reviews, DPAs with breach notice clauses.", ["SR-01"], ["5.19", "5.20", "5.22"],
     None, 250),
    ("Exploitation of known vulnerabilities in the SaaS platform", "Customer-facing SaaS platform",
     "Attackers exploiting published vulnerabilities", "Patching backlog on container base images", "owner",
     (4, 4), (2, 4), (2, 3), "mitigate", "Monthly scans, remediation within 30 days, base image rebuilds.",
     ["VM-01"], ["8.8"], None, None),
    ("Personal data breach not reported in time", "Incident handling", "A breach noticed late or mishandled",
     "Out-of-hours on-call not formalised", "compliance", (3, 4), (2, 4), (2, 3), "mitigate",
     "Incident response plan, breach notification runbook, on-call rota.", ["IR-01"], ["5.24", "5.26"], None, None),
    ("Leaver keeps access", "Identity and access management", "Former staff using active accounts",
     "HR leaver notice reaches IT late", "hannah", (3, 4), (2, 3), None, "mitigate",
     "HR-to-IT leaver workflow with same-day revocation.", ["AC-01"], ["5.18", "6.5"], None, None),
    ("Insider copies customer lists", "CRM", "Departing salesperson exporting data",
     "Export rights broad in the CRM", "hannah", (2, 4), (2, 3), None, "accept",
     "Export logging; accepted residual risk within the criteria.", [], ["6.4", "8.12"], None, None),
    ("Server room flood", "London server room", "Water leak from the floor above",
     "No leak detection", "fiona", (2, 4), (2, 3), None, "transfer", "Insurance; most systems already in AWS.",
     ["PS-01"], ["7.5"], None, None),
    ("Tailgating into the office", "London office", "Unauthorised visitors following staff in",
     "Reception unstaffed at lunchtime", "fiona", (3, 2), (2, 2), None, "mitigate",
     "Badge doors; visitor sign-in.", ["PS-01"], ["7.2"], None, None),
    ("Cloud misconfiguration exposes storage", "AWS accounts", "Public buckets or open security groups",
     "No automated configuration checks", "owner", (3, 5), (3, 4), (2, 4), "mitigate",
     "Configuration scanning in CI, guardrails on new accounts.", ["VM-01"], ["8.9", "5.23"], None, 200),
    ("Outage of the main SaaS region", "Customer-facing SaaS platform", "Cloud provider regional outage",
     "Single-region deployment", "owner", (2, 5), (2, 4), (2, 3), "accept",
     "Multi-region is planned for next year; residual risk accepted until then.", ["BC-01"], ["5.30", "8.14"],
     None, None),
    ("Contract breach of data residency terms", "Customer contracts", "Data processed outside agreed regions",
     "Sub-processors not all mapped", "leo", (2, 4), (2, 3), None, "mitigate",
     "Sub-processor register; contract review.", ["SR-01"], ["5.31", "5.34"], None, None),
    ("Regulatory fine for GDPR non-compliance", "Personal data processing", "Regulator investigation",
     "Records of processing out of date", "leo", (2, 5), (2, 3), None, "mitigate",
     "Annual update of records of processing; DPIAs for new processing.", ["IR-01"], ["5.34"], None, None),
    ("Weak passwords on internal tools", "Internal admin tools", "Password guessing", "No SSO on two tools",
     "owner", (3, 3), (2, 3), (1, 3), "mitigate", "Move the two tools behind SSO.", ["AC-01"], ["5.17", "8.5"],
     None, None),
    ("Source code leak", "Git repositories", "Token leaked in a public repository",
     "Secrets scanning not enabled everywhere", "owner", (3, 4), (2, 4), None, "mitigate",
     "Secret scanning on every repository; short-lived tokens.", [], ["8.4", "8.28"], None, None),
    ("Key person dependency in operations", "Operations team", "Only one engineer knows the deployment",
     "Runbooks incomplete", "viewer", (3, 3), (3, 3), (2, 3), "mitigate", "Runbooks; pairing on deployments.",
     [], ["5.37"], None, None),
    ("Fraudulent payment request", "Finance payments", "Business email compromise", "Verbal approvals accepted",
     "viewer", (3, 4), (2, 3), None, "mitigate", "Call-back on new bank details; dual approval.", ["AW-01"],
     ["5.14"], None, None),
    ("Unpatched office printers", "Office printers", "Compromise of network devices",
     "Firmware updated ad hoc", "fiona", (2, 2), (2, 2), None, "accept", "Low risk; printers on a guest VLAN.",
     [], ["8.8"], 12, None),
    ("Shadow IT SaaS sign-ups", "Staff-chosen SaaS tools", "Data stored in unapproved tools",
     "No SaaS discovery", "compliance", (3, 3), (3, 2), None, "mitigate", "SaaS discovery via SSO logs.",
     [], ["5.9", "5.10"], None, None),
    ("Awareness training not completed", "All staff", "Untrained staff making errors",
     "No reminder for new joiners", "hannah", (3, 3), (2, 3), None, "mitigate", "Automatic enrolment at joining.",
     ["AW-01"], ["6.3"], None, None),
    ("Denial of service against the login page", "Customer-facing SaaS platform", "Volumetric DDoS",
     "No WAF rate limiting on login", "owner", (3, 4), (3, 4), (2, 3), "accept",
     "CDN protection in place; WAF rule planned. Residual risk accepted for now.", [], ["8.20"], None, None),
]  # fmt: skip


def _people() -> dict[str, User]:
    return {u.username: u for u in User.objects.all()}


def _past_review(risk: Risk, *, by: User, on: datetime.date, note: str, late_by: int = 0, **changes) -> None:
    """A review of the demo's past year, recorded as it was then (its date and time, not the demo's load)."""
    risk = Risk.objects.select_related("matrix", "owner").get(pk=risk.pk)
    for name, value in changes.items():
        setattr(risk, name, value)
    risk.set_scores()
    risk.last_reviewed_on = on
    risk.save()
    if late_by:
        note = f"{note} (reviewed {late_by} days after it was due)"
    assessment = services._assess(risk, by=by, kind=Assessment.Kind.REVIEW, reason=note, reviewed_on=on)
    Assessment.objects.filter(pk=assessment.pk).update(
        at=timezone.make_aware(datetime.datetime.combine(on, datetime.time(10)))
    )


def load(*, users: dict[str, User], today: datetime.date) -> None:
    if Risk.objects.exists():
        return
    people = _people()
    compliance = users["compliance"]
    services.matrix_ensure(by=compliance)
    it = Department.objects.filter(name="IT").first()
    if it is not None:
        DepartmentManager.objects.get_or_create(department=it, defaults={"manager": users["admin"]})
    controls = {c.reference: c for c in Control.objects.all()}
    requirements = {r.identifier: r for r in Requirement.objects.filter(framework__has_soa=True)}
    year_ago = today - relativedelta(years=1)
    made: list[Risk] = []
    for i, row in enumerate(RISKS):
        (title, asset, threat, vuln, owner, inh, res, target, treatment, how, ctl, annex, months, last_days) = row
        owner_user = people.get(owner) or users["owner"]
        risk = services.risk_create(
            by=compliance,
            reason="Identified in the annual risk assessment.",
            title=title,
            asset=asset,
            threat=threat,
            vulnerability=vuln,
            owner=owner_user,
            inherent_likelihood=inh[0],
            inherent_impact=inh[1],
            # The first assessment: before this year's controls were in place, residual one step higher.
            residual_likelihood=min(res[0] + 1, inh[0]),
            residual_impact=res[1],
            target_likelihood=target[0] if target else None,
            target_impact=target[1] if target else None,
            treatment=treatment,
            treatment_plan=how,
            target_date=today + relativedelta(months=6 + i % 6) if target else None,
            review_months=months,
            controls=[controls[c] for c in ctl if c in controls],
            requirements=[requirements[r] for r in annex if r in requirements],
        )
        created = year_ago + datetime.timedelta(days=i % 20)
        Risk.objects.filter(pk=risk.pk).update(
            created_at=timezone.make_aware(datetime.datetime.combine(created, datetime.time(9)))
        )
        risk.assessments.update(
            reviewed_on=created, at=timezone.make_aware(datetime.datetime.combine(created, datetime.time(9)))
        )
        _history(risk, by=owner_user, created=created, today=today, residual=res, last_days=last_days, index=i)
        made.append(risk)
    _actions(made, people, today)
    _decisions(made, users, people, today)
    by_ref = {r.reference: r for r in Risk.objects.all()}
    services.risk_review_request(
        risk=by_ref["R-13"],
        reason="A storage bucket was found open to the internet during a penetration test: review the scores.",
        source="manual",
        by=compliance,
    )
    version = services.plan_freeze(by=compliance, note="Treatment plan after the annual risk assessment.")
    for signoff in version.signoffs.exclude(owner__username="leo"):
        services.plan_signoff(version=version, by=signoff.owner)


def _history(risk: Risk, *, by: User, created: datetime.date, today: datetime.date, residual, last_days, index: int):
    """A year of reviews at the risk's interval; every fifth risk was reviewed late once; the first review
    brought the residual score down to where it is now."""
    interval = risk.review_interval()
    on = created + relativedelta(months=interval)
    first = True
    cutoff = today - datetime.timedelta(days=last_days) if last_days is not None else today
    count = 0
    while on <= cutoff and count < 14:
        late = 9 + index % 11 if (index % 4 == 0 and count == 0) else 0  # a quarter of the risks: once late
        reviewed = min(on + datetime.timedelta(days=late), today)
        changes = {}
        note = "Scores, treatment and controls checked; no change."
        if first:
            changes = {"residual_likelihood": residual[0], "residual_impact": residual[1]}
            note = "Controls now in place and operating: residual likelihood lowered."
        _past_review(risk, by=by, on=reviewed, note=note, late_by=late, **changes)
        first = False
        count += 1
        risk.refresh_from_db()
        on = reviewed + relativedelta(months=risk.review_interval())
    risk.refresh_from_db()
    services._schedule_review(risk, by=by, after=risk.last_reviewed_on or created)


def _actions(risks: list[Risk], people: dict[str, User], today: datetime.date) -> None:
    """Treatment actions on the calendar; the older ones done with a link to the ticket as evidence."""
    plans = {
        "R-01": [("Roll out phishing-resistant MFA to administrators", -40, True),
                 ("Phishing simulation for all staff", 25, False)],
        "R-02": [("Segment the file server network", 45, False), ("Deploy EDR to all servers", -20, True)],
        "R-03": [("Remove shared admin accounts from legacy tools", -10, False),
                 ("Just-in-time admin access for production", 60, False)],
        "R-05": [("Copy backups to a second region", -60, True)],
        "R-07": [("Rebuild container base images monthly", 15, False)],
        "R-13": [("Configuration scanning in CI", 30, False)],
        "R-17": [("Put the two admin tools behind SSO", -5, True)],
    }  # fmt: skip
    by_ref = {r.reference: r for r in risks}
    for ref, actions in plans.items():
        risk = by_ref.get(ref)
        if risk is None:
            continue
        for title, days, done in actions:
            action = services.action_save(
                risk=risk,
                by=people["compliance"],
                title=title,
                owner=risk.owner,
                due_date=today + datetime.timedelta(days=days),
            )
            if done:
                occ = action_task(action)
                if occ is not None:
                    purposes.complete_task(
                        occurrence=occ,
                        by=risk.owner,
                        data={
                            "note": "Done; see the ticket.",
                            "links": [f"https://tickets.northwind.example/SEC-{100 + action.pk}"],
                        },
                    )


def action_task(action):
    from django.contrib.contenttypes.models import ContentType

    from isms.maintenance.models import Occurrence

    return (
        Occurrence.objects.filter(
            schedule__subject_type=ContentType.objects.get_for_model(action),
            schedule__subject_id=action.pk,
            state__in=[Occurrence.State.OPEN, Occurrence.State.MISSED],
        )
        .order_by("due_date")
        .first()
    )


def _decisions(risks: list[Risk], users: dict[str, User], people: dict[str, User], today: datetime.date) -> None:
    """Two acceptances (one expiring in three weeks) and one exception, each asked by the owner and approved by
    the compliance manager."""
    by_ref = {r.reference: r for r in Risk.objects.select_related("owner")}
    compliance = users["compliance"]
    for ref, days, why in (
        ("R-14", 21, "Multi-region deployment is budgeted for next year; the provider's regional SLA and our "
         "status page cover the gap until then."),
        ("R-24", 200, "CDN protection absorbs the volumetric attacks seen so far; the WAF rule ships next quarter."),
    ):  # fmt: skip
        risk = by_ref.get(ref)
        if risk is None:
            continue
        acceptance = services.acceptance_request(
            risk=risk,
            by=risk.owner,
            approver=compliance,
            justification=why,
            expires_on=today + datetime.timedelta(days=days),
        )
        services.acceptance_decide(
            acceptance=acceptance, by=compliance, approve=True, note="Accepted within budget plans."
        )
    control = Control.objects.filter(reference="AC-01").select_related("owner").first()
    if control is not None:
        exception = services.exception_request(
            control=control,
            by=control.owner,
            title="Legacy payroll server: no single sign-on",
            reason="The payroll vendor's on-premises server cannot use SSO until its replacement in the spring.",
            compensating="Local accounts reviewed monthly; server reachable only from the HR VLAN; logins alerted.",
            owner=control.owner,
            approver=compliance,
            expires_on=today + relativedelta(months=4),
        )
        services.exception_decide(exception=exception, by=compliance, approve=True)
