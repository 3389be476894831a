"""The demo's controls: mapped to Annex A and GDPR, owning the demo calendar's recurring activities."""

import datetime

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

from isms.accounts.models import User
from isms.maintenance.models import Schedule

from .catalogue import load_catalogue, shipped_catalogues
from .models import Control, ImplementationStatus, Requirement

# reference, name, owner username, status, [(framework code, requirement id)], schedule title it runs
DEMO_CONTROLS = [
    (
        "AC-01",
        "User access management and periodic access reviews",
        "owner",
        "implemented",
        [
            ("iso27001-2022-annex-a", "5.15"),
            ("iso27001-2022-annex-a", "5.18"),
            ("iso27001-2022-annex-a", "8.2"),
            ("gdpr", "Art. 32"),
        ],
        "Quarterly access review",
    ),
    (
        "VM-01",
        "Vulnerability scanning and remediation",
        "owner",
        "implemented",
        [("iso27001-2022-annex-a", "8.8"), ("gdpr", "Art. 32")],
        "Monthly vulnerability scan and remediation",
    ),
    (
        "BC-01",
        "Backups and restore testing",
        "owner",
        "implemented",
        [("iso27001-2022-annex-a", "8.13"), ("iso27001-2022-annex-a", "5.30")],
        "Quarterly backup restore test",
    ),
    (
        "SR-01",
        "Supplier security assessment",
        "leo",
        "partial",
        [
            ("iso27001-2022-annex-a", "5.19"),
            ("iso27001-2022-annex-a", "5.20"),
            ("iso27001-2022-annex-a", "5.22"),
            ("gdpr", "Art. 28"),
        ],
        "Annual supplier security review",
    ),
    (
        "AW-01",
        "Security awareness and training",
        "hannah",
        "implemented",
        [("iso27001-2022-annex-a", "6.3")],
        "Security awareness refresher",
    ),
    (
        "PS-01",
        "Physical access control for the server room",
        "fiona",
        "implemented",
        [("iso27001-2022-annex-a", "7.2"), ("iso27001-2022-annex-a", "7.4")],
        "Physical access log review",
    ),
    (
        "IR-01",
        "Incident response and breach notification",
        "compliance",
        "partial",
        [
            ("iso27001-2022-annex-a", "5.24"),
            ("iso27001-2022-annex-a", "5.26"),
            ("gdpr", "Art. 33"),
            ("gdpr", "Art. 34"),
        ],
        None,
    ),
    (
        "CR-01",
        "Encryption of data at rest and in transit",
        "owner",
        "planned",
        [("iso27001-2022-annex-a", "8.24")],
        None,
    ),
]


def load(*, users: dict[str, User], today: datetime.date) -> None:
    for path in shipped_catalogues():
        load_catalogue(path)
    people = {u.username: u for u in User.objects.all()}
    control_type = ContentType.objects.get_for_model(Control)
    for reference, name, owner, status, mapped, schedule_title in DEMO_CONTROLS:
        owner_user = people[owner]
        control, _ = Control.objects.update_or_create(
            reference=reference,
            defaults={
                "name": name,
                "owner": owner_user,
                "department": owner_user.department,
                "status": ImplementationStatus(status),
            },
        )
        query = Q()
        for code, ident in mapped:
            query |= Q(framework__code=code, identifier=ident)
        control.requirements.set(Requirement.objects.filter(query))
        if schedule_title:
            # The demo calendar's activity becomes this control's activity (its evidence then counts for it).
            Schedule.objects.filter(title=schedule_title).update(subject_type=control_type, subject_id=control.pk)
    _demo_soa(users)


# Annex A controls the demo organisation excludes, with the reason an auditor expects to read.
EXCLUSIONS = {
    "7.12": "No cabling of our own: the London office is a serviced office and production runs in AWS.",
    "8.30": "No development is outsourced; all code is written by employees (see HR contracts).",
}
JUSTIFICATIONS = {
    "5.15": "Risk R-03 (unauthorised access to customer data); contractual requirement in customer DPAs.",
    "8.8": "Risk R-07 (exploitation of known vulnerabilities in the SaaS platform).",
    "8.13": "Risk R-05 (loss of customer data); contractual RPO of 24 hours.",
}


def _demo_soa(users: dict[str, User]) -> None:
    """A working SoA with justifications and two exclusions, approved once by the compliance manager."""
    from . import selectors, services
    from .models import SoAEntry

    framework = selectors.soa_framework()
    if framework is None:
        return
    services.soa_entries_ensure(framework)
    for ident, reason in {**JUSTIFICATIONS, **EXCLUSIONS}.items():
        excluded = ident in EXCLUSIONS
        SoAEntry.objects.filter(requirement__framework=framework, requirement__identifier=ident).update(
            applicable=not excluded,
            justification=reason,
            **({"status": ImplementationStatus.NOT_APPLICABLE} if excluded else {}),
        )
    if not framework.soa_versions.exists():
        services.soa_approve(
            framework=framework, by=users["compliance"], note="First SoA after the certification audit."
        )
