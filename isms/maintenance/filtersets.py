"""The filters of the calendar's lists: the schedules list."""

import django_filters
from django.db.models import QuerySet

from isms.accounts.models import Department

from .forms import staff_users
from .models import Kind, Schedule


class ScheduleFilterSet(django_filters.FilterSet):
    """Search the title; narrow to a kind of work, an owner, a department, or active or retired schedules."""

    q = django_filters.CharFilter(label="Search", method="search")
    kind = django_filters.ChoiceFilter(label="Kind", choices=Kind.choices, empty_label="Any kind")
    owner = django_filters.ModelChoiceFilter(
        label="Owner", queryset=lambda request: staff_users(), empty_label="Any owner"
    )
    department = django_filters.ModelChoiceFilter(
        label="Department", queryset=Department.objects.all(), empty_label="Any department"
    )
    active = django_filters.ChoiceFilter(
        label="State",
        choices=[("yes", "Active"), ("no", "No longer active")],
        empty_label="Active or not",
        method="by_state",
    )

    class Meta:
        model = Schedule
        fields = ["q", "kind", "owner", "department", "active"]

    def by_state(self, queryset: QuerySet[Schedule], name: str, value: str) -> QuerySet[Schedule]:
        return queryset.filter(active=value == "yes") if value else queryset

    def search(self, queryset: QuerySet[Schedule], name: str, value: str) -> QuerySet[Schedule]:
        value = value.strip()
        return queryset.filter(title__icontains=value) if value else queryset
