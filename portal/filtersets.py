"""The filters of the compliance team's engagement list and of an engagement's auditor log."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone

from isms.accounts.models import User
from isms.foundation.forms import DateInput

from .models import AuditorAction, Engagement, EngagementStatus


def status_q(status: str, today) -> Q:
    """The engagements whose status (Engagement.status_on) is `status` on `today`, as a query."""
    running = Q(ended_at__isnull=True)
    return {
        EngagementStatus.UPCOMING: running & Q(access_starts_on__gt=today),
        EngagementStatus.OPEN: running & Q(access_starts_on__lte=today, access_ends_on__gte=today),
        EngagementStatus.EXPIRED: running & Q(access_ends_on__lt=today),
        EngagementStatus.ENDED: Q(ended_at__isnull=False),
    }[status]


class EngagementFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label="Search", method="search")
    status = django_filters.ChoiceFilter(
        choices=EngagementStatus.choices, empty_label="Any status", label="Status", method="by_status"
    )

    class Meta:
        model = Engagement
        fields = ["q", "status"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(certification_body__icontains=value))

    def by_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(status_q(value, timezone.localdate())) if value else queryset


class Where:
    """Which lines of the log: those of this engagement, or its auditors' lines that name no engagement."""

    INSIDE = "inside"
    OUTSIDE = "outside"
    choices = [
        (INSIDE, "In this engagement"),
        (OUTSIDE, "Outside any engagement"),
    ]


class AuditorActionFilterSet(django_filters.FilterSet):
    user = django_filters.ModelChoiceFilter(queryset=User.objects.none(), empty_label="Any auditor", label="Auditor")
    kind = django_filters.ChoiceFilter(choices=AuditorAction.Kind.choices, empty_label="Anything", label="What")
    where = django_filters.ChoiceFilter(choices=Where.choices, empty_label="Both", label="Where", method="by_where")
    after = django_filters.DateFilter(field_name="at", lookup_expr="date__gte", label="From", widget=DateInput())
    before = django_filters.DateFilter(field_name="at", lookup_expr="date__lte", label="Until", widget=DateInput())

    class Meta:
        model = AuditorAction
        fields = ["user", "kind", "where", "after", "before"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The people in this log (the engagement's auditors, past and present), not every account.
        self.filters["user"].queryset = User.objects.filter(pk__in=self.queryset.order_by().values("user")).order_by(
            "first_name", "last_name", "username"
        )

    def by_where(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == Where.INSIDE:
            return queryset.filter(engagement__isnull=False)
        if value == Where.OUTSIDE:
            return queryset.filter(engagement__isnull=True)
        return queryset
