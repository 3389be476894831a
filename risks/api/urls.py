"""/api/v1/risks/: the risk API (token only)."""

from django.urls import path

from . import views

app_name = "risks_api"
urlpatterns = [
    path("", views.RiskListView.as_view(), name="risks"),
    path("queue/", views.QueueView.as_view(), name="queue"),
    path("<int:pk>/", views.RiskDetailView.as_view(), name="risk"),
    path("<int:pk>/assessments/", views.AssessmentsView.as_view(), name="assessments"),
]
