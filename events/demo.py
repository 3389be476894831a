"""The demo's incidents, changes, suppliers and objectives: eight suppliers (one certificate expiring soon), four
objectives with a year of progress, three changes (one with "yes" answers and its reviews, one still open) and
two incidents (one that asked for a risk review). Loaded once: an organisation that has suppliers keeps them."""

import datetime
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from controls.models import Control
from isms.accounts.models import User

from . import services
from .models import Incident, IncidentCategory, IncidentStatus, ProgressEntry, Supplier, SupplierReview

# name, service, criticality, data, owner, contract (start months ago, end months ahead, notice days),
# certificate (name, expires in days) or None, reviews [(months ago, outcome)], risk titles, control refs
SUPPLIERS = [
    ("Amazon Web Services", "Hosting of the customer-facing SaaS platform", "critical",
     "All customer data, production databases and backups", "owner", (30, 18, 90),
     ("ISO/IEC 27001:2022", 240), [(11, "approved")],
     ["Outage of the main SaaS region", "Cloud misconfiguration exposes storage"], ["BC-01"]),
    ("Microsoft 365", "Email, documents and identity", "critical", "Staff email, documents, user accounts", "owner",
     (40, 8, 60), ("ISO/IEC 27001:2022", 310), [(10, "approved")], ["Phishing leads to account takeover"], ["AC-01"]),
    ("PayFlow Payroll", "Payroll processing", "high", "Employee names, bank details, salaries", "hannah",
     (20, 4, 90), ("ISO/IEC 27001:2013", 19), [(13, "approved"), (1, "conditions")],
     ["Supplier breach exposes our data"], ["SR-01"]),
    ("PeopleHR Cloud", "HR records and leave", "high", "Employee records, sickness absence", "hannah",
     (18, 30, 60), ("SOC 2 Type II", 150), [(9, "approved")], ["Supplier breach exposes our data"], []),
    ("SecureShred Ltd", "Confidential paper shredding", "medium", "Paper records awaiting destruction", "fiona",
     (24, 12, 30), None, [(20, "conditions")], [], []),
    ("Northwind Legal LLP", "External legal counsel", "medium", "Contracts, disputes", "leo",
     (36, 0, 0), ("Cyber Essentials Plus", 95), [], [], []),
    ("CleanCo Facilities", "Office cleaning", "low", "None (access to the office out of hours)", "fiona",
     (12, 12, 30), None, [(8, "approved")], ["Tailgating into the office"], []),
    ("Zendesk", "Customer support tickets", "high", "Customer names, emails, support conversations", "owner",
     (14, 10, 60), ("ISO/IEC 27001:2022", 400), [(6, "watch")], ["Shadow IT SaaS sign-ups"], []),
]  # fmt: skip

# title, measure, unit, baseline, target, owner, months ago it started, months to go, monthly values (oldest first)
OBJECTIVES = [
    ("Staff complete security awareness training", "Share of staff who completed this year's training", "%",
     "62", "95", "owner", 11, 1, ["62", "66", "70", "71", "75", "79", "80", "84", "86", "89", "91", "93"]),
    ("Critical vulnerabilities fixed within 14 days", "Share of critical findings closed within 14 days", "%",
     "55", "90", "owner", 11, 1, ["55", "58", "57", "61", "60", "63", "62", "64", "66", "65", "67", "68"]),
    ("Fewer phishing clicks", "Click rate in the monthly phishing simulation", "%", "14", "4", "compliance",
     11, 7, ["14", "13", "12", "12", "10", "9", "9", "8", "7", "7", "6", "6"]),
    ("Every critical supplier reviewed on time", "Critical and high suppliers reviewed within their cadence",
     "%", "40", "100", "compliance", 11, 1, ["40", "45", "50", "50", "60", "60", "70", "75", "80", "80", "85", "88"]),
]  # fmt: skip


def _people() -> dict[str, User]:
    return {u.username: u for u in User.objects.all()}


def _risks() -> dict:
    from risks.models import Risk

    return {r.title: r for r in Risk.objects.all()}


def load(*, users: dict[str, User], today: datetime.date) -> None:
    if Supplier.objects.exists():
        return
    people = _people()
    compliance = users["compliance"]
    risks = _risks()
    controls = {c.reference: c for c in Control.objects.all()}
    services.severity_scale_ensure()
    suppliers = _suppliers(people, compliance, risks, controls, today)
    _objectives(people, compliance, today)
    _changes(users, people, compliance, risks, suppliers, today)
    _incidents(users, people, compliance, risks, controls, today)


def _suppliers(people, compliance, risks, controls, today) -> dict[str, Supplier]:
    made = {}
    for name, service, crit, data, owner, contract, cert, reviews, risk_titles, control_refs in SUPPLIERS:
        start_ago, end_ahead, notice = contract
        supplier = services.supplier_save(
            by=compliance,
            name=name,
            service=service,
            criticality=crit,
            data_handled=data,
            owner=people.get(owner) or compliance,
            contact_name=f"Account manager, {name}",
            contact_email=f"security@{name.split()[0].lower()}.example",
            contract_start=today - relativedelta(months=start_ago),
            contract_end=today + relativedelta(months=end_ahead) if end_ahead else None,
            notice_days=notice,
            risks=[risks[t] for t in risk_titles if t in risks],
            controls=[controls[c] for c in control_refs if c in controls],
        )
        if cert:
            services.certificate_save(
                by=compliance,
                supplier=supplier,
                name=cert[0],
                issuer="An accredited certification body",
                number=f"CERT-{supplier.pk:04d}",
                expires_on=today + datetime.timedelta(days=cert[1]),
            )
        previous = ""
        for i, (months_ago, outcome) in enumerate(reviews):
            day = today - relativedelta(months=months_ago)
            assessment = (
                "Security questionnaire returned and checked; certificate and last audit report seen."
                if outcome == "approved"
                else "Questionnaire returned late; two findings from their last audit still open. Follow up in "
                "three months."
            )
            if i == len(reviews) - 1 and previous and outcome != previous:
                # The latest review lowered the rating: recorded as a person would, so it asks for its risks'
                # reviews.
                services.supplier_review_record(
                    supplier=supplier, by=compliance, outcome=outcome, assessment=assessment, reviewed_on=day
                )
                break
            SupplierReview.objects.create(
                supplier=supplier,
                reviewed_on=day,
                outcome=outcome,
                previous=previous,
                criticality=crit,
                assessment=assessment,
                by=compliance,
                at=timezone.make_aware(datetime.datetime.combine(day, datetime.time(11))),
            )
            previous = outcome
            last = day
            Supplier.objects.filter(pk=supplier.pk).update(
                rating=previous,
                last_reviewed_on=last,
                next_review_on=last + relativedelta(months=supplier.review_months()),
            )
            supplier.refresh_from_db()
            services.supplier_save(by=compliance, supplier=supplier)
        made[name] = supplier
    return made


def _objectives(people, compliance, today) -> None:
    for title, measure, unit, baseline, target, owner, ago, ahead, values in OBJECTIVES:
        start = today - relativedelta(months=ago)
        objective = services.objective_save(
            by=compliance,
            title=title,
            measure=measure,
            unit=unit,
            baseline=Decimal(baseline),
            target=Decimal(target),
            owner=people.get(owner) or compliance,
            start_on=start,
            due_on=today + relativedelta(months=ahead),
            progress_every_months=1,
        )
        ProgressEntry.objects.bulk_create(
            [
                ProgressEntry(
                    objective=objective,
                    recorded_on=min(start + relativedelta(months=i), today),
                    value=Decimal(value),
                    by=objective.owner,
                    note="Monthly figure from the report." if i % 3 == 0 else "",
                )
                for i, value in enumerate(values)
            ]
        )


def _changes(users, people, compliance, risks, suppliers, today) -> None:
    no = dict.fromkeys(
        ["changes_scope", "changes_assets", "changes_supplier", "changes_locations", "changes_obligations",
         "changes_people", "changes_controls"],
        False,
    )  # fmt: skip
    # One with "yes" answers, approved, its reviews partly done.
    crm = services.change_create(
        by=users["owner"],
        title="Move customer support to Zendesk",
        description="Replace the shared support mailbox with Zendesk; support history migrated.",
        planned_on=today + datetime.timedelta(days=21),
        owner=users["owner"],
        assets="Support mailbox, CRM, customer contact data",
        supplier=suppliers.get("Zendesk"),
        risks=[risks[t] for t in ("Shadow IT SaaS sign-ups",) if t in risks],
        **{**no, "changes_assets": True, "changes_supplier": True, "changes_controls": True},
    )
    services.change_approve(change=crm, by=compliance, note="Go ahead once the supplier review is done.")
    soa = crm.reviews.filter(kind="soa").first()
    if soa is not None:
        services.change_review_complete(
            review=soa, by=soa.owner, note="A.5.19–5.22 and A.8.16 lines updated; no exclusion changes."
        )
    # One still open: recorded this week, awaiting approval.
    services.change_create(
        by=people.get("hannah") or users["owner"],
        title="Second office in Manchester",
        description="Eight staff from April; shared building with reception.",
        planned_on=today + relativedelta(months=3),
        owner=people.get("fiona") or users["owner"],
        assets="Manchester office, office network, door access",
        **{**no, "changes_scope": True, "changes_locations": True, "changes_people": True},
    )
    # One with every answer no, closed.
    laptops = services.change_create(
        by=users["owner"],
        title="Laptop refresh for the sales team",
        description="Same model and build as the rest of the company.",
        planned_on=today - datetime.timedelta(days=20),
        owner=users["owner"],
        **no,
    )
    services.change_close(change=laptops, by=compliance)


def _incidents(users, people, compliance, risks, controls, today) -> None:
    phishing = risks.get("Phishing leads to account takeover")
    first = services.incident_create(
        by=users["owner"],
        title="Finance mailbox accessed after phishing",
        description="A finance assistant entered her password on a fake Microsoft sign-in page. The account sent 40 "
        "phishing emails to customers before it was locked.",
        occurred_on=today - datetime.timedelta(days=9),
        detected_on=today - datetime.timedelta(days=8),
        owner=users["owner"],
        severity=services.severity_scale_ensure()[2],
        category=IncidentCategory.PHISHING,
        affected="Microsoft 365 account, finance mailbox, customers emailed",
        controls=[controls[c] for c in ("AC-01", "AW-01") if c in controls],
        risks=[phishing] if phishing else [],
    )
    services.incident_update(
        incident=first,
        by=users["owner"],
        status=IncidentStatus.CONTAINED,
        containment="Password reset, sessions revoked, MFA enforced on the account; customers warned.",
    )
    second = services.incident_create(
        by=people.get("fiona") or users["owner"],
        title="Visitor left unescorted in the office",
        description="A courier was let in by a member of staff and found on the second floor.",
        occurred_on=today - relativedelta(months=2),
        detected_on=today - relativedelta(months=2),
        owner=people.get("fiona") or users["owner"],
        severity=services.severity_scale_ensure()[0],
        category=IncidentCategory.PHYSICAL,
        affected="London office",
    )
    services.incident_update(
        incident=second,
        by=compliance,
        status=IncidentStatus.RESOLVED,
        containment="Courier escorted out; nothing taken.",
        resolution="Reception reminded of the visitor procedure; sign at the door.",
    )
    services.incident_close(
        incident=second,
        by=compliance,
        reveals_nonconformity=False,
        lessons_learned="The visitor procedure was sound; it was not followed. Covered in the next awareness session.",
    )
    Incident.objects.filter(pk=second.pk).update(closed_at=timezone.now() - relativedelta(months=1, days=20))
