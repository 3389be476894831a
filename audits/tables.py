"""The columns of the nonconformity log, on the page and in its downloads (CSV/Excel)."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from .models import Nonconformity


class NCTable(tables.Table):
    reference = tables.Column(verbose_name="Reference", order_by=("number",), attrs={"td": {"class": "text-nowrap"}})
    title = tables.Column(verbose_name="Nonconformity")
    source = tables.Column(verbose_name="Source")
    severity = tables.Column(verbose_name="Severity")
    state = tables.Column(verbose_name="State")
    owner = tables.Column(verbose_name="Owner", order_by=("owner__first_name", "owner__last_name"))
    department = tables.Column(verbose_name="Department", default="", visible=False)
    raised_on = tables.DateColumn(verbose_name="Raised", format="j M Y", attrs={"td": {"class": "text-nowrap"}})
    description = tables.Column(verbose_name="Description", visible=False)
    root_cause = tables.Column(verbose_name="Root cause", visible=False, default="")
    cause_category = tables.Column(verbose_name="Cause category", visible=False, default="")
    open_actions = tables.Column(verbose_name="Open actions", orderable=False)
    closed_on = tables.DateColumn(verbose_name="Closed", format="j M Y", default="—")

    class Meta:
        model = Nonconformity
        fields = []
        sequence = (
            "reference", "title", "source", "severity", "state", "owner", "department", "raised_on",
            "description", "root_cause", "cause_category", "open_actions", "closed_on",
        )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._url = reverse("audits:nc", args=[0])[:-2]

    def render_reference(self, record, value):
        return format_html('<a href="{}{}/">{}</a>', self._url, record.pk, value)

    def value_reference(self, record, value):
        return value

    def render_source(self, record, value):
        return record.get_source_display()

    def value_source(self, record, value):
        return record.get_source_display()

    def render_state(self, record, value):
        return record.get_state_display()

    def value_state(self, record, value):
        return record.get_state_display()

    def render_severity(self, record, value):
        return record.get_severity_display()

    def value_severity(self, record, value):
        return record.get_severity_display()

    def render_cause_category(self, record, value):
        return record.get_cause_category_display()

    def value_cause_category(self, record, value):
        return record.get_cause_category_display()
