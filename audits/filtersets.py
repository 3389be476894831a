"""The filters of the nonconformity register: search, state, source, severity, department."""

import django_filters
from django.db.models import Q, QuerySet

from isms.accounts.models import Department

from .models import NCState, Nonconformity, Severity, Source


class NCFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="search")
    state = django_filters.ChoiceFilter(choices=NCState.choices, empty_label="Any state")
    source = django_filters.ChoiceFilter(choices=Source.choices, empty_label="Any source")
    severity = django_filters.ChoiceFilter(choices=Severity.choices, empty_label="Any severity")
    department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.all(), empty_label="Any department", label="Department"
    )

    class Meta:
        model = Nonconformity
        fields = ["q", "state", "source", "severity", "department"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(reference__icontains=value) | Q(title__icontains=value) | Q(description__icontains=value)
        )
