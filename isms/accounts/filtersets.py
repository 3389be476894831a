"""The filters of the people and departments lists."""

import django_filters
from django.db.models import Q, QuerySet

from isms.foundation.roles import Role

from .models import Department, User

STATES = (("active", "Active"), ("invited", "Invited"), ("deactivated", "Deactivated"))


class PersonFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="search")
    role = django_filters.ChoiceFilter(choices=Role.choices, empty_label="Any role")
    department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.order_by("name"), empty_label="Any department", label="Department"
    )
    state = django_filters.ChoiceFilter(choices=STATES, empty_label="Any state", label="State", method="in_state")

    class Meta:
        model = User
        fields = []

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(username__icontains=value)
            | Q(first_name__icontains=value)
            | Q(last_name__icontains=value)
            | Q(email__icontains=value)
        )

    def in_state(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # Django marks an unusable password (not chosen yet) with a leading "!".
        unusable = Q(password__startswith="!")  # noqa: S106
        if value == "deactivated":
            return queryset.filter(is_active=False)
        if value == "invited":
            return queryset.filter(unusable, is_active=True, last_login__isnull=True)
        if value == "active":
            return queryset.filter(is_active=True).exclude(unusable & Q(last_login__isnull=True))
        return queryset


class DepartmentFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", field_name="name", lookup_expr="icontains")

    class Meta:
        model = Department
        fields = []
