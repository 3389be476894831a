"""The columns of the engagement list and of the auditor log, on the page and in their downloads (CSV/Excel)."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils import formats
from django.utils.html import format_html

from .models import AuditorAction, Engagement, EngagementStatus

STATUS_BADGE = {
    EngagementStatus.UPCOMING: "text-bg-info",
    EngagementStatus.OPEN: "text-bg-success",
    EngagementStatus.EXPIRED: "text-bg-secondary",
    EngagementStatus.ENDED: "text-bg-dark",
}


def _day(day) -> str:
    return formats.date_format(day, "j M Y") if day else ""


def span(start, end) -> str:
    """ "1 Mar 2025 – 28 Feb 2026"."""
    return f"{_day(start)} – {_day(end)}"


def people(users) -> str:
    return ", ".join(str(u) for u in users)


class EngagementTable(tables.Table):
    title = tables.Column(verbose_name="Engagement")
    certification_body = tables.Column(verbose_name="Certification body")
    audit = tables.Column(verbose_name="Audit", order_by=("audit__planned_on",), default="—")
    period = tables.Column(verbose_name="Period under audit", accessor="period_start", order_by=("period_start",))
    window = tables.Column(verbose_name="Access", accessor="access_starts_on", order_by=("access_starts_on",))
    status = tables.Column(verbose_name="Status", accessor="pk", orderable=False)
    auditors = tables.Column(verbose_name="Auditors", accessor="pk", orderable=False)

    class Meta:
        model = Engagement
        fields = []
        sequence = ("title", "certification_body", "audit", "period", "window", "status", "auditors")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._url = reverse("portal:engagement_detail", args=[0])[:-2]

    def render_title(self, record, value):
        return format_html('<a href="{}{}/">{}</a>', self._url, record.pk, value)

    def value_title(self, record, value):
        return value

    def render_audit(self, record, value):
        return f"{value.reference} {value.title}"

    def value_audit(self, record, value):
        return f"{value.reference} {value.title}"

    def render_period(self, record):
        return span(record.period_start, record.period_end)

    def value_period(self, record):
        return span(record.period_start, record.period_end)

    def render_window(self, record):
        return span(record.access_starts_on, record.access_ends_on)

    def value_window(self, record):
        return span(record.access_starts_on, record.access_ends_on)

    def render_status(self, record):
        status = record.status
        return format_html('<span class="badge {}">{}</span>', STATUS_BADGE[status], EngagementStatus(status).label)

    def value_status(self, record):
        return EngagementStatus(record.status).label

    def render_auditors(self, record):
        return people(record.auditors.all()) or "None yet"

    def value_auditors(self, record):
        return people(record.auditors.all())


def _refused(record) -> bool:
    return record.kind == AuditorAction.Kind.REFUSED or (record.status_code or 0) >= 400


class AuditorActionTable(tables.Table):
    at = tables.DateTimeColumn(verbose_name="When", format="j M Y H:i:s", attrs={"td": {"class": "text-nowrap"}})
    user = tables.Column(verbose_name="Who", order_by=("user__first_name", "user__last_name", "user__username"))
    kind = tables.Column(verbose_name="Kind")
    what = tables.Column(verbose_name="What")
    where = tables.Column(verbose_name="Engagement", accessor="engagement_id", orderable=False, empty_values=())
    status_code = tables.Column(verbose_name="Answer", default="—")
    ip = tables.Column(verbose_name="From (IP address)", default="unknown")
    user_agent = tables.Column(verbose_name="Browser", default="unknown")
    method = tables.Column(verbose_name="Method", visible=False)
    path = tables.Column(verbose_name="Address", visible=False)

    class Meta:
        model = AuditorAction
        fields = []
        sequence = ("at", "user", "kind", "what", "where", "status_code", "ip", "user_agent", "method", "path")
        row_attrs = {"class": lambda record: "table-danger" if _refused(record) else ""}

    def render_kind(self, record):
        if _refused(record):
            return format_html('<span class="badge text-bg-danger">{}</span>', record.get_kind_display())
        return record.get_kind_display()

    def value_kind(self, record):
        return record.get_kind_display()

    def render_where(self, record):
        return "This engagement" if record.engagement_id else "Outside any engagement"

    def value_where(self, record):
        return "This engagement" if record.engagement_id else "Outside any engagement"

    def render_status_code(self, value):
        return _answer(value)

    def value_status_code(self, value):
        return _answer(value)

    def render_user_agent(self, value):
        # The page shows the start of it; the download carries it whole.
        short = value if len(value) <= 60 else f"{value[:57]}…"
        return format_html('<span class="small" title="{}">{}</span>', value, short)

    def value_user_agent(self, value):
        return value


def _answer(code) -> str:
    if code is None:
        return "—"
    if code < 400:
        return f"Served ({code})"
    if code == 403:
        return "Refused (403)"
    if code == 404:
        return "Not found or out of scope (404)"
    return f"Failed ({code})"
