"""The compliance team's engagement pages (being written)."""

from django.shortcuts import render
from django.urls import path

from isms.foundation import reach
from isms.foundation.permissions import role_required
from isms.foundation.roles import MANAGERS, Role

from ..models import Engagement


@role_required(MANAGERS | {Role.VIEWER})
def engagement_list(request):
    engagements = reach.visible(request.user, Engagement)
    return render(request, "portal/engagement_list.html", {"engagements": engagements})


urlpatterns = [
    path("engagements/", engagement_list, name="engagements"),
]
