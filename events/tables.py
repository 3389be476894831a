"""The columns of the four registers, on the page and in their downloads. The downloads carry every column the
import reads (hidden on the page), in the same words, so a download is the import's template."""

import django_tables2 as tables
from django.utils.html import format_html, format_html_join

from .models import QUESTIONS, Change, Incident, Objective, ObjectiveStatus, Supplier

STATUS_CLASS = {
    ObjectiveStatus.ON_TRACK: "text-bg-success",
    ObjectiveStatus.ACHIEVED: "text-bg-success",
    ObjectiveStatus.AT_RISK: "text-bg-warning",
    ObjectiveStatus.MISSED: "text-bg-danger",
    ObjectiveStatus.NOT_STARTED: "text-bg-secondary",
}


def _names(items, attr: str) -> str:
    return ", ".join(getattr(item, attr) for item in items)


def severity_badge(severity) -> str:
    return format_html('<span class="badge severity-{}">{}</span>', severity.level, severity.label)


def _person(user) -> str:
    return user.email or user.username


class IncidentTable(tables.Table):
    reference = tables.Column(verbose_name="Reference", order_by=("number",), attrs={"td": {"class": "text-nowrap"}})
    title = tables.Column(verbose_name="Title", linkify=("events:incident", {"pk": tables.A("pk")}))
    description = tables.Column(verbose_name="What happened", visible=False)
    occurred_on = tables.DateColumn(verbose_name="Occurred on", format="Y-m-d", attrs={"td": {"class": "text-nowrap"}})
    detected_on = tables.DateColumn(verbose_name="Detected on", format="Y-m-d", attrs={"td": {"class": "text-nowrap"}})
    severity = tables.Column(verbose_name="Severity", order_by=("severity__level",))
    category = tables.Column(verbose_name="Category")
    affected = tables.Column(verbose_name="Affected assets or processes", visible=False, default="")
    owner = tables.Column(verbose_name="Handler", order_by=("owner__first_name", "owner__last_name"))
    reported_by = tables.Column(verbose_name="Reported by", visible=False)
    status = tables.Column(verbose_name="Status")
    controls = tables.Column(verbose_name="Controls", visible=False, empty_values=(), orderable=False)
    risks = tables.Column(verbose_name="Risks", empty_values=(), orderable=False)
    containment = tables.Column(verbose_name="Containment", visible=False, default="")
    resolution = tables.Column(verbose_name="Resolution", visible=False, default="")
    lessons_learned = tables.Column(verbose_name="Lessons learned", visible=False, default="")
    reveals_nonconformity = tables.Column(verbose_name="Reveals a nonconformity", visible=False, empty_values=())

    class Meta:
        model = Incident
        fields = []
        sequence = (
            "reference", "title", "description", "occurred_on", "detected_on", "severity", "category", "affected",
            "owner", "reported_by", "status", "controls", "risks", "containment", "resolution", "lessons_learned",
            "reveals_nonconformity",
        )  # fmt: skip

    def render_severity(self, value):
        return severity_badge(value)

    def value_severity(self, value) -> str:
        return value.label

    def value_owner(self, value) -> str:
        return _person(value)

    def value_reported_by(self, value) -> str:
        return _person(value)

    def render_controls(self, record):
        return _names(record.controls.all(), "reference")

    def render_risks(self, record):
        return _names(record.risks.all(), "reference") or "—"

    def value_risks(self, record) -> str:
        return _names(record.risks.all(), "reference")

    def render_reveals_nonconformity(self, value):
        return "" if value is None else ("Yes" if value else "No")


class YesNoColumn(tables.Column):
    """A questionnaire answer: Yes, No, or empty when not answered."""

    def __init__(self, **kwargs):
        super().__init__(empty_values=(), orderable=False, **kwargs)

    def render(self, value):
        return "" if value is None else ("Yes" if value else "No")

    def value(self, value):
        return self.render(value)


class _ChangeColumns(tables.Table):
    reference = tables.Column(verbose_name="Reference", order_by=("number",), attrs={"td": {"class": "text-nowrap"}})
    title = tables.Column(verbose_name="What changes", linkify=("events:change", {"pk": tables.A("pk")}))
    description = tables.Column(verbose_name="Details", visible=False, default="")
    planned_on = tables.DateColumn(verbose_name="When", format="Y-m-d", attrs={"td": {"class": "text-nowrap"}})
    owner = tables.Column(verbose_name="Owner", order_by=("owner__first_name", "owner__last_name"))
    assets = tables.Column(verbose_name="Assets or systems affected", visible=False, default="")
    supplier = tables.Column(verbose_name="Supplier", visible=False, default="")
    risks = tables.Column(verbose_name="Risks", visible=False, empty_values=(), orderable=False)
    triggered = tables.Column(verbose_name="Reviews it opened", empty_values=(), orderable=False)
    approval = tables.Column(verbose_name="Approval", empty_values=(), orderable=False)
    status = tables.Column(verbose_name="Status")

    def value_owner(self, value) -> str:
        return _person(value)

    def value_supplier(self, value) -> str:
        return value.name if value else ""

    def render_risks(self, record):
        return _names(record.risks.all(), "reference")

    def render_triggered(self, record):
        reviews = list(record.reviews.all())
        if not reviews:
            return "None: every answer is no"
        return format_html_join(
            " ",
            '<span class="badge {}">{}{}</span>',
            (
                ("text-bg-success" if r.is_done else "text-bg-warning", r.get_kind_display(), " ✓" if r.is_done else "")
                for r in reviews
            ),
        )

    def value_triggered(self, record) -> str:
        return "; ".join(f"{r.get_kind_display()}: {'done' if r.is_done else 'open'}" for r in record.reviews.all())

    def render_approval(self, record):
        if not record.needs_approval:
            return "Not needed"
        return f"Approved by {record.approved_by}" if record.approved_at else "Awaiting approval"


class _ChangeMeta:
    model = Change
    fields = []
    sequence = (
        "reference", "title", "description", "planned_on", "owner", *[name for name, _, _ in QUESTIONS],
        "assets", "supplier", "risks", "triggered", "approval", "status",
    )  # fmt: skip


#: The change log: each change, what it triggered and whether each review is done; the questionnaire's answers
#: are columns of the downloads (hidden on the page).
ChangeTable = type(
    "ChangeTable",
    (_ChangeColumns,),
    {
        "__module__": __name__,
        "Meta": _ChangeMeta,
        **{name: YesNoColumn(verbose_name=question, visible=False) for name, question, _ in QUESTIONS},
    },
)


class SupplierTable(tables.Table):
    name = tables.Column(verbose_name="Name", linkify=("events:supplier", {"pk": tables.A("pk")}))
    service = tables.Column(verbose_name="Service provided")
    criticality = tables.Column(verbose_name="Criticality")
    data_handled = tables.Column(verbose_name="Our information it handles", visible=False, default="")
    owner = tables.Column(verbose_name="Owner", order_by=("owner__first_name", "owner__last_name"))
    contact_name = tables.Column(verbose_name="Contact name", visible=False, default="")
    contact_email = tables.Column(verbose_name="Contact email", visible=False, default="")
    contact_phone = tables.Column(verbose_name="Contact phone", visible=False, default="")
    contract_start = tables.DateColumn(verbose_name="Contract start", visible=False, format="Y-m-d", default="")
    contract_end = tables.DateColumn(verbose_name="Contract end", format="Y-m-d", default="—")
    notice_days = tables.Column(verbose_name="Notice period (days)", visible=False)
    rating = tables.Column(verbose_name="Last review", default="Not reviewed yet")
    next_review_on = tables.DateColumn(verbose_name="Next review", format="j M Y", default="—")
    certificates = tables.Column(verbose_name="Certificates", empty_values=(), orderable=False)
    controls = tables.Column(verbose_name="Controls", visible=False, empty_values=(), orderable=False)
    risks = tables.Column(verbose_name="Risks", visible=False, empty_values=(), orderable=False)
    active = tables.BooleanColumn(verbose_name="Active", visible=False, yesno="Yes,No")

    class Meta:
        model = Supplier
        fields = []
        sequence = (
            "name", "service", "criticality", "data_handled", "owner", "contact_name", "contact_email",
            "contact_phone", "contract_start", "contract_end", "notice_days", "rating", "next_review_on",
            "certificates", "controls", "risks", "active",
        )  # fmt: skip

    def value_owner(self, value) -> str:
        return _person(value)

    def value_contract_end(self, value):
        return value.isoformat() if value else ""

    def value_rating(self, record) -> str:
        return record.get_rating_display()

    def value_next_review_on(self, value):
        return value.isoformat() if value else ""

    def render_certificates(self, record):
        certs = list(record.certificates.all())
        return "; ".join(f"{c.name} (expires {c.expires_on:%d %b %Y})" for c in certs) or "—"

    def value_certificates(self, record) -> str:
        return "; ".join(f"{c.name} until {c.expires_on:%Y-%m-%d}" for c in record.certificates.all())

    def render_controls(self, record):
        return _names(record.controls.all(), "reference")

    def render_risks(self, record):
        return _names(record.risks.all(), "reference")


class ObjectiveTable(tables.Table):
    title = tables.Column(verbose_name="Objective", linkify=("events:objective", {"pk": tables.A("pk")}))
    description = tables.Column(verbose_name="Description", visible=False, default="")
    measure = tables.Column(verbose_name="How it is measured")
    unit = tables.Column(verbose_name="Unit", visible=False, default="")
    baseline = tables.Column(verbose_name="Baseline", visible=False)
    target = tables.Column(verbose_name="Target", attrs={"td": {"class": "text-end"}})
    latest = tables.Column(verbose_name="Latest", empty_values=(), orderable=False, attrs={"td": {"class": "text-end"}})
    owner = tables.Column(verbose_name="Owner", order_by=("owner__first_name", "owner__last_name"))
    start_on = tables.DateColumn(verbose_name="From", visible=False, format="Y-m-d")
    due_on = tables.DateColumn(verbose_name="To be met by", format="Y-m-d", attrs={"td": {"class": "text-nowrap"}})
    progress_every_months = tables.Column(verbose_name="Progress update every (months)", visible=False, default="")
    progress = tables.Column(verbose_name="Progress", empty_values=(), orderable=False)

    class Meta:
        model = Objective
        fields = []
        sequence = (
            "title", "description", "measure", "unit", "baseline", "target", "latest", "owner", "start_on",
            "due_on", "progress_every_months", "progress",
        )  # fmt: skip

    def value_owner(self, value) -> str:
        return _person(value)

    def render_target(self, record):
        return f"{record.target.normalize():f}{' ' + record.unit if record.unit else ''}"

    def value_target(self, record):
        return f"{record.target.normalize():f}"

    def value_baseline(self, record):
        return f"{record.baseline.normalize():f}"

    def render_latest(self, record):
        entries = list(record.entries.all())
        return f"{entries[-1].value.normalize():f}" if entries else "—"

    def render_progress(self, record):
        status = ObjectiveStatus(record.status(list(record.entries.all())))
        return format_html('<span class="badge {}">{}</span>', STATUS_CLASS[status], status.label)

    def value_progress(self, record) -> str:
        return ObjectiveStatus(record.status(list(record.entries.all()))).label
