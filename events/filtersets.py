"""The filters of the four registers."""

import datetime

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import (
    ChangeStatus,
    Criticality,
    IncidentCategory,
    IncidentStatus,
    ObjectiveStatus,
    Rating,
    Severity,
)


def _mine():
    return django_filters.BooleanFilter(label="Mine only", method="owned_by_me", widget=forms.CheckboxInput)


class _Mine(django_filters.FilterSet):
    """ "Mine only": what the signed-in person owns (each list declares the box last, after its other filters)."""

    def owned_by_me(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(owner=self.request.user) if value else queryset


def _search(queryset: QuerySet, value: str, *fields: str) -> QuerySet:
    value = value.strip()
    if not value:
        return queryset
    query = Q()
    for field in fields:
        query |= Q(**{f"{field}__icontains": value})
    return queryset.filter(query)


class IncidentFilterSet(_Mine):
    """Search over reference, title and what happened; one severity, category or status; open ones only."""

    q = django_filters.CharFilter(label="Search", method="search")
    severity = django_filters.ModelChoiceFilter(
        queryset=Severity.objects.order_by("level"), empty_label="Any severity", label="Severity"
    )
    category = django_filters.ChoiceFilter(choices=IncidentCategory.choices, empty_label="Any category")
    status = django_filters.ChoiceFilter(choices=IncidentStatus.choices, empty_label="Any status")
    open = django_filters.BooleanFilter(label="Open only", method="still_open", widget=forms.CheckboxInput)
    mine = _mine()

    def search(self, queryset, name, value):
        return _search(queryset, value, "reference", "title", "description", "affected")

    def still_open(self, queryset, name, value):
        return queryset.exclude(status=IncidentStatus.CLOSED) if value else queryset


class ChangeFilterSet(_Mine):
    """Search; open or closed; awaiting approval; with reviews still open."""

    q = django_filters.CharFilter(label="Search", method="search")
    status = django_filters.ChoiceFilter(choices=ChangeStatus.choices, empty_label="Open or closed")
    waiting = django_filters.ChoiceFilter(
        label="Waiting for",
        method="waiting_for",
        empty_label="Anything",
        choices=[("approval", "Approval"), ("reviews", "Reviews still open")],
    )
    mine = _mine()

    def search(self, queryset, name, value):
        return _search(queryset, value, "reference", "title", "description", "assets")

    def waiting_for(self, queryset, name, value):
        if value == "reviews":
            return queryset.filter(reviews__done_at__isnull=True).distinct()
        if value == "approval":
            return queryset.filter(approved_at__isnull=True, reviews__isnull=False, status=ChangeStatus.OPEN).distinct()
        return queryset


class SupplierFilterSet(_Mine):
    """Search; criticality; last review's outcome; review due within 30 days; active or not."""

    q = django_filters.CharFilter(label="Search", method="search")
    criticality = django_filters.ChoiceFilter(choices=Criticality.choices, empty_label="Any criticality")
    rating = django_filters.ChoiceFilter(label="Last review", choices=Rating.choices, empty_label="Any outcome")
    due = django_filters.BooleanFilter(label="Review due in 30 days", method="review_due", widget=forms.CheckboxInput)
    inactive = django_filters.BooleanFilter(label="Former suppliers too", method="with_inactive",
                                            widget=forms.CheckboxInput)  # fmt: skip
    mine = _mine()

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data if self.form.is_valid() else {}
        return queryset if data.get("inactive") else queryset.filter(active=True)

    def search(self, queryset, name, value):
        return _search(queryset, value, "name", "service", "data_handled")

    def review_due(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(next_review_on__lte=timezone.localdate() + datetime.timedelta(days=30))

    def with_inactive(self, queryset, name, value):
        return queryset


class ObjectiveFilterSet(_Mine):
    """Search; how it is going (worked out from the progress entries)."""

    q = django_filters.CharFilter(label="Search", method="search")
    progress = django_filters.ChoiceFilter(
        label="Progress", choices=ObjectiveStatus.choices, empty_label="Any", method="by_progress"
    )
    mine = _mine()

    def search(self, queryset, name, value):
        return _search(queryset, value, "title", "measure", "description")

    def by_progress(self, queryset, name, value):
        if not value:
            return queryset
        keep = [o.pk for o in queryset.prefetch_related("entries") if o.status(list(o.entries.all())) == value]
        return queryset.filter(pk__in=keep)
