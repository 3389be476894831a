"""Templates for the usual periodic controls: adopting one is a click plus an owner and a frequency."""

from dataclasses import dataclass, field

from isms.maintenance.models import Kind


@dataclass(frozen=True)
class ActivityTemplate:
    title: str
    rrule: str
    description: str
    kind: str = Kind.CONTROL_ACTIVITY
    reminder_days: list[int] = field(default_factory=lambda: [14, 3, 1])
    grace_days: int = 7
    evidence_required: bool = True  # a control activity proves itself with a record


TEMPLATES: dict[str, ActivityTemplate] = {
    "access_review": ActivityTemplate(
        "Access review",
        "FREQ=MONTHLY;INTERVAL=3",
        "Export the accounts and their rights from each in-scope system, have the system owner confirm each one, "
        "remove what is no longer needed and attach the signed-off list.",
    ),
    "vulnerability_scan": ActivityTemplate(
        "Vulnerability scan and remediation",
        "FREQ=MONTHLY",
        "Run the vulnerability scan of the in-scope estate, raise a ticket for each high or critical finding, "
        "and attach the report and the list of tickets with their due dates.",
        reminder_days=[7, 1],
    ),
    "backup_restore_test": ActivityTemplate(
        "Backup restore test",
        "FREQ=MONTHLY;INTERVAL=3",
        "Restore a recent backup to a separate environment, check it is complete and usable, record how long it "
        "took against the recovery time objective, and attach the record.",
    ),
    "supplier_review": ActivityTemplate(
        "Supplier security review",
        "FREQ=YEARLY",
        "Review each critical supplier's certificates, audit reports and agreement; record findings and actions.",
        kind=Kind.SUPPLIER_REVIEW,
        reminder_days=[30, 7],
        grace_days=14,
    ),
    "awareness_refresher": ActivityTemplate(
        "Security awareness refresher",
        "FREQ=YEARLY",
        "Assign the awareness module to all staff, chase those who have not finished, attach the completion report.",
        kind=Kind.TRAINING,
        reminder_days=[30, 7],
        grace_days=14,
    ),
    "log_review": ActivityTemplate(
        "Log review",
        "FREQ=MONTHLY",
        "Review the security logs and alerts of the period for anomalies; record what was looked at and found.",
        reminder_days=[3, 1],
    ),
    "policy_review": ActivityTemplate(
        "Policy review",
        "FREQ=YEARLY",
        "Review the policy for changes in the business, risks, law and lessons learned; record the review and "
        "submit any new version for approval.",
        reminder_days=[30, 7],
        grace_days=14,
    ),
}
