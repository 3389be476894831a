"""The filters of the risk register: search, owner, department, band, treatment, status, a heatmap cell."""

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from isms.accounts.models import Department

from .models import Risk, Status, Treatment


class RiskFilterSet(django_filters.FilterSet):
    """Search over reference, title, asset and threat; one owner's, one department's; a treatment or status;
    "mine only"; and the cell of a heatmap (`il`/`ii` inherent, `rl`/`ri` residual likelihood and impact)."""

    q = django_filters.CharFilter(label="Search", method="search")
    department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.all(), empty_label="Any department", label="Department"
    )
    treatment = django_filters.ChoiceFilter(choices=Treatment.choices, empty_label="Any treatment")
    status = django_filters.ChoiceFilter(choices=Status.choices, empty_label="Any status")
    level = django_filters.ChoiceFilter(
        label="Residual level",
        method="in_band",
        empty_label="Any level",
        choices=[("low", "Low"), ("medium", "Medium"), ("high", "High"), ("critical", "Critical")],
    )
    mine = django_filters.BooleanFilter(label="Mine only", method="owned_by_me", widget=forms.CheckboxInput)
    il = django_filters.NumberFilter(field_name="inherent_likelihood", widget=forms.HiddenInput)
    ii = django_filters.NumberFilter(field_name="inherent_impact", widget=forms.HiddenInput)
    rl = django_filters.NumberFilter(field_name="residual_likelihood", widget=forms.HiddenInput)
    ri = django_filters.NumberFilter(field_name="residual_impact", widget=forms.HiddenInput)

    class Meta:
        model = Risk
        fields = ["q", "department", "treatment", "status", "level", "mine", "il", "ii", "rl", "ri"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from .models import Matrix

        current = Matrix.current()
        if current is not None:  # the levels of the criteria in force, by the names they were given
            self.filters["level"].extra["choices"] = [(b["key"], b["label"]) for b in current.bands]

    def search(self, queryset: QuerySet[Risk], name: str, value: str) -> QuerySet[Risk]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(reference__icontains=value)
            | Q(title__icontains=value)
            | Q(asset__icontains=value)
            | Q(threat__icontains=value)
        )

    def in_band(self, queryset: QuerySet[Risk], name: str, value: str) -> QuerySet[Risk]:
        """Risks whose residual score falls in the band of that name on the criteria they were assessed under."""
        from .models import Matrix

        query = Q(pk__in=[])
        for matrix in Matrix.objects.all():
            low = 1
            for band in matrix.bands:
                if band["key"] == value:
                    query |= Q(matrix=matrix, residual_score__gte=low, residual_score__lte=band["upto"])
                low = band["upto"] + 1
        return queryset.filter(query)

    def owned_by_me(self, queryset: QuerySet[Risk], name: str, value: bool) -> QuerySet[Risk]:
        return queryset.filter(owner=self.request.user) if value else queryset
