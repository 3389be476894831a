"""The columns of the calendar's lists, on the page and in their downloads."""

import django_tables2 as tables

from .models import Schedule


class ScheduleTable(tables.Table):
    """Title (a link to the schedule), kind, recurrence in words, owner, open and late task counts."""

    title = tables.Column(verbose_name="Schedule", linkify=("maintenance:schedule", {"pk": tables.A("pk")}))
    kind = tables.Column(verbose_name="Kind")
    recurrence = tables.Column(verbose_name="Recurrence", accessor="recurrence_label", orderable=False)
    owner = tables.Column(verbose_name="Owner", order_by=("owner__first_name", "owner__last_name", "owner__username"))
    department = tables.Column(verbose_name="Department", visible=False, default="")
    open_count = tables.Column(verbose_name="Open", attrs={"th": {"class": "text-end"}, "td": {"class": "text-end"}})
    late_count = tables.Column(verbose_name="Late", attrs={"th": {"class": "text-end"}, "td": {"class": "text-end"}})
    active = tables.BooleanColumn(verbose_name="Active", visible=False)

    class Meta:
        model = Schedule
        fields = ["title", "kind", "recurrence", "owner", "department", "open_count", "late_count", "active"]
        row_attrs = {"class": lambda record: "" if record.active else "text-body-secondary"}

    def render_title(self, record: Schedule, value) -> str:
        return value if record.active else f"{value} (no longer active)"

    def render_owner(self, record: Schedule, value) -> str:
        return f"{value} · {record.department}" if record.department_id else str(value)

    def value_owner(self, value) -> str:
        return str(value)

    def value_active(self, value: bool) -> str:
        return "Yes" if value else "No"
