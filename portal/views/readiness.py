"""Audit readiness: how ready the organisation, or one department, is for the next external audit of the
certification cycle, each weak point with a link to the page that fixes it (only where the reader may act).
The compliance team and leadership (viewer, read-only) open it; the figures are in portal/readiness.py."""

from __future__ import annotations

from django.shortcuts import render
from django.urls import path

from isms.accounts.models import Department
from isms.foundation import reach
from isms.foundation.permissions import role_required
from isms.foundation.roles import MANAGERS, Role

from ..readiness import AGE_BUCKETS, readiness

READERS = MANAGERS | {Role.VIEWER}


def _page(request, department: Department | None):
    r = readiness(request.user, department=department)
    departments = list(Department.objects.order_by("name")) if department is None else []
    late_of = {row.pk: row for row in r.by_department}
    context = {
        "r": r,
        "buckets": [label for label, _, _ in AGE_BUCKETS],
        "departments": [(d, late_of.get(d.pk)) for d in departments],
        "can_plan_audits": reach.may(request.user, "plan", "audits.Programme"),
        "can_plan_review": reach.may(request.user, "create", "audits.ManagementReview"),
        "can_record_certificate": reach.may(request.user, "change", "organisation.Certificate"),
        "can_edit_review": r.review is not None and reach.may(request.user, "edit", r.review),
    }
    return render(request, "portal/readiness.html", context)


@role_required(READERS)
def readiness_page(request):
    """The organisation's readiness for the next external audit."""
    return _page(request, None)


@role_required(READERS)
def readiness_department(request, pk: int):
    """The same figures for one department's tasks, controls, nonconformities and risks."""
    return _page(request, reach.get_or_404(request, Department, pk=pk))


urlpatterns = [
    path("readiness/", readiness_page, name="readiness"),
    path("readiness/departments/<int:pk>/", readiness_department, name="readiness_department"),
]
