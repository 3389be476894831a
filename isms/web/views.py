"""The dashboard, the health check and the error pages."""

import datetime

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.db.models import Q
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from evidence.calendar import done_without_evidence
from isms.foundation import reach
from isms.foundation.pagecache import cached_page
from isms.foundation.permissions import role_required
from isms.foundation.roles import ALL
from isms.maintenance.models import Occurrence
from isms.maintenance.selectors import calendar_queryset, status_counts, with_no_evidence_reasons
from isms.organisation.models import Certificate, Organisation
from isms.organisation.selectors import cycle_timeline

WITHOUT_EVIDENCE_DAYS = 90


@role_required(ALL)
@cached_page
def dashboard(request):
    if not reach.is_staff_member(request.user):  # an auditor's home is their portal
        return redirect("evidence:portal")
    today = timezone.localdate()
    certificate = Certificate.objects.current()
    timeline = cycle_timeline(certificate, today) if certificate else None
    visible = reach.visible(request.user, Occurrence)
    context = {
        "organisation": Organisation.current(),
        "timeline": timeline,
        "today": today,
        "counts": status_counts(visible, today),
        "my_counts": status_counts(Occurrence.objects.filter(owner=request.user), today),
        # Everyone else's late work (one's own is under "Your tasks now").
        "late": reach.visible(request.user, calendar_queryset())
        .overdue(today)
        .exclude(owner=request.user)
        .order_by("due_date")[:8],
        # The signed-in person's own work that is due now or late, soonest first.
        "mine_now": calendar_queryset()
        .filter(owner=request.user)
        .filter(Q(state=Occurrence.State.OPEN, remind_from__lte=today) | Q(state=Occurrence.State.MISSED))
        .order_by("due_date")[:8],
        # Open or missed tasks whose owner can no longer act on them: the compliance team reassigns them.
        "orphaned": reach.visible(request.user, calendar_queryset()).orphaned().order_by("due_date"),
        # Tasks that asked for evidence and were done without it, in the last 90 days, with the reason given.
        "without_evidence": with_no_evidence_reasons(
            done_without_evidence(
                reach.visible(request.user, Occurrence)
                .select_related("owner", "completed_by")
                .filter(completed_on__gte=today - datetime.timedelta(days=WITHOUT_EVIDENCE_DAYS))
            ).order_by("-completed_at")[:8]
        ),
        "without_evidence_days": WITHOUT_EVIDENCE_DAYS,
    }
    return render(request, "web/dashboard.html", context)


@login_not_required
def health(request):
    """For load balancers and compose health checks: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def csrf_failure(request, reason=""):
    return render(request, "403_csrf.html", {"reason": reason}, status=403)


@login_not_required
def robots(request):
    return HttpResponse("User-agent: *\nDisallow: /\n", content_type="text/plain")
