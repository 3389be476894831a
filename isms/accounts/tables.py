"""The columns of the people and departments lists."""

import django_tables2 as tables
from django.utils.html import format_html

from .models import Department, User


class PersonTable(tables.Table):
    name = tables.Column(
        verbose_name="Name",
        accessor="username",
        order_by=("first_name", "last_name", "username"),
        linkify=("accounts:person", {"pk": tables.A("pk")}),
    )
    username = tables.Column(verbose_name="Username")
    email = tables.Column(verbose_name="Email address")
    role = tables.Column(verbose_name="Role")
    department = tables.Column(verbose_name="Department", order_by=("department__name",), default="")
    state = tables.Column(verbose_name="State", accessor="is_active", empty_values=(), orderable=False)
    two_step = tables.Column(verbose_name="Two-step sign-in", accessor="mfa_on", empty_values=(), orderable=False)

    class Meta:
        model = User
        fields = []
        sequence = ("name", "username", "email", "role", "department", "state", "two_step")

    def render_name(self, record):
        return record.get_full_name() or record.username

    def value_name(self, record):
        return record.get_full_name() or record.username

    def render_role(self, record):
        return record.get_role_display()

    def _state(self, record) -> str:
        if not record.is_active:
            return "Deactivated"
        if not record.has_usable_password() and record.last_login is None:
            return "Invited"
        return "Active"

    def render_state(self, record):
        state = self._state(record)
        css = {"Deactivated": "text-bg-secondary", "Invited": "text-bg-info", "Active": "text-bg-success"}[state]
        return format_html('<span class="badge {}">{}</span>', css, state)

    def value_state(self, record):
        return self._state(record)

    def render_two_step(self, value):
        return "On" if value else "Off"

    def value_two_step(self, value):
        return "On" if value else "Off"


class DepartmentTable(tables.Table):
    name = tables.Column(verbose_name="Department", linkify=("accounts:department", {"pk": tables.A("pk")}))
    people = tables.Column(verbose_name="People", accessor="people", orderable=True)

    class Meta:
        model = Department
        fields = []
        sequence = ("name", "people")
