"""The auditor's landing page: their open engagements (one goes straight to it)."""

from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from isms.foundation.permissions import role_required
from isms.foundation.roles import Role

from ..models import Engagement
from ..scope import open_engagements


@never_cache
@role_required({Role.AUDITOR})
def home(request):
    today = timezone.localdate()
    engagements = list(open_engagements(request.user, today).order_by("access_ends_on"))
    request.auditor_log = "Opened the portal's list of engagements"
    if len(engagements) == 1:
        return redirect("portal:engagement", engagement=engagements[0].pk)
    upcoming = (
        Engagement.objects.filter(auditors=request.user, ended_at__isnull=True, access_starts_on__gt=today)
        .order_by("access_starts_on")
        .only("title", "certification_body", "access_starts_on", "access_ends_on")
    )
    return render(request, "portal/home.html", {"engagements": engagements, "upcoming": upcoming, "today": today})
