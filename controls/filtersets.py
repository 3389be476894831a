"""The filters of the controls list: search, implementation status, and "mine only"."""

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from .models import Control, ImplementationStatus


class ControlFilterSet(django_filters.FilterSet):
    """Search over reference and name, one implementation status, or only the controls the user owns."""

    q = django_filters.CharFilter(label="Search", method="search")
    status = django_filters.ChoiceFilter(label="Status", choices=ImplementationStatus.choices, empty_label="Any status")
    mine = django_filters.BooleanFilter(label="Mine only", method="owned_by_me", widget=forms.CheckboxInput)

    class Meta:
        model = Control
        fields = ["q", "status", "mine"]

    def search(self, queryset: QuerySet[Control], name: str, value: str) -> QuerySet[Control]:
        value = value.strip()
        return queryset.filter(Q(reference__icontains=value) | Q(name__icontains=value)) if value else queryset

    def owned_by_me(self, queryset: QuerySet[Control], name: str, value: bool) -> QuerySet[Control]:
        return queryset.filter(owner=self.request.user) if value else queryset
