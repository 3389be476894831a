"""The columns of the controls list, on the page and in its downloads."""

import django_tables2 as tables

from .models import Control


class ControlTable(tables.Table):
    """Reference, name (a link to the control), owner and department, status, mapped requirements."""

    reference = tables.Column(verbose_name="Ref.", attrs={"td": {"class": "text-nowrap"}})
    name = tables.Column(verbose_name="Control", linkify=("controls:detail", {"pk": tables.A("pk")}))
    owner = tables.Column(verbose_name="Owner", order_by=("owner__first_name", "owner__last_name", "owner__username"))
    # Shown beside the owner on the page; a column of its own in downloads.
    department = tables.Column(verbose_name="Department", visible=False, default="")
    status = tables.Column(verbose_name="Status")
    requirement_count = tables.Column(
        verbose_name="Requirements", attrs={"th": {"class": "text-end"}, "td": {"class": "text-end"}}
    )

    class Meta:
        model = Control
        fields = ["reference", "name", "owner", "department", "status", "requirement_count"]

    def render_owner(self, record: Control, value) -> str:
        return f"{value} · {record.department}" if record.department_id else str(value)

    def value_owner(self, value) -> str:
        return str(value)
