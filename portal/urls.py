"""The portal's addresses: the auditor's pages under /portal/<engagement>/ (the compliance team opens the same
ones as a preview), the team's engagement pages and audit readiness. Each views module declares its own list."""

from django.urls import path

from .views import browse, engagements, evidence_requests, home, packs, readiness, samples

app_name = "portal"

urlpatterns = [
    path("", home.home, name="home"),
    *engagements.urlpatterns,
    *browse.urlpatterns,
    *samples.urlpatterns,
    *evidence_requests.urlpatterns,
    *packs.urlpatterns,
    *readiness.urlpatterns,
]
