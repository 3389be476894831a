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
from isms.maintenance.selectors import (
    BY_DUE_DATE,
    calendar_queryset,
    rows_of,
    status_counts,
    with_no_evidence_reasons,
)
from isms.organisation.models import Certificate, Organisation
from isms.organisation.selectors import cycle_timeline

WITHOUT_EVIDENCE_DAYS = 90
SHOWN = 8  # rows of each list on the dashboard


@role_required(ALL)
@cached_page
def dashboard(request):
    if not reach.is_staff_member(request.user):  # an auditor's home is their portal
        return redirect("portal:home")
    today = timezone.localdate()
    certificate = Certificate.objects.current()
    timeline = cycle_timeline(certificate, today) if certificate else None
    visible = reach.visible(request.user, Occurrence)
    tasks = reach.visible(request.user, calendar_queryset())
    # Everyone's counts and one's own in one query.
    counts = status_counts(visible, today, mine_of=request.user)
    # Open or missed tasks whose owner can no longer act on them: the compliance team reassigns them. Their rows
    # are read only when there are some.
    orphaned = tasks.orphaned()
    orphaned_total = orphaned.count()
    context = {
        "organisation": Organisation.current(),
        "timeline": timeline,
        "today": today,
        "counts": counts,
        "on_my_list": counts["mine_now"],
        # Everyone else's late work (one's own is under "Your tasks now").
        "late": rows_of(tasks.overdue(today).exclude(owner=request.user).order_by("due_date"), today, SHOWN),
        # The signed-in person's own work that is due now or late, soonest first.
        "mine_now": rows_of(
            tasks.filter(owner=request.user)
            .filter(Q(state=Occurrence.State.OPEN, remind_from__lte=today) | Q(state=Occurrence.State.MISSED))
            .order_by(BY_DUE_DATE, "pk"),
            today,
            SHOWN,
        ),
        "orphaned": rows_of(orphaned.order_by(BY_DUE_DATE, "pk"), today, SHOWN) if orphaned_total else [],
        "orphaned_total": orphaned_total,
        # Tasks that asked for evidence and were done without it, in the last 90 days, with the reason given.
        "without_evidence": with_no_evidence_reasons(
            done_without_evidence(
                visible.select_related("owner", "completed_by").filter(
                    completed_on__gte=today - datetime.timedelta(days=WITHOUT_EVIDENCE_DAYS)
                )
            ).order_by("-completed_at")[:SHOWN]
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
