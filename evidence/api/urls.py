"""/api/: the versioned endpoints (token only), the schema and its docs (public), and the token pages."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import token_views, views

app_name = "api"
urlpatterns = [
    path("v1/evidence/", views.EvidenceCreateView.as_view(), name="evidence_create"),
    path("v1/evidence/<int:pk>/", views.EvidenceDetailView.as_view(), name="evidence_detail"),
    path("v1/tasks/", views.TaskListView.as_view(), name="tasks"),
    path("v1/tasks/<int:pk>/complete/", views.TaskCompleteView.as_view(), name="task_complete"),
    # The schema and its docs describe the API and hold no data: public, so scripts and tools can fetch them.
    path("schema/", login_not_required(SpectacularAPIView.as_view()), name="schema"),
    # The split view serves its setup script as a file (?script): the Content-Security-Policy refuses inline ones.
    path(
        "docs/",
        login_not_required(
            SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="evidence/api_docs.html")
        ),
        name="docs",
    ),
    # Token pages (browser, signed in).
    path("tokens/", token_views.token_list, name="tokens"),
    path("tokens/new/", token_views.token_create, name="token_create"),
    path("tokens/<int:pk>/revoke/", token_views.token_revoke, name="token_revoke"),
]
