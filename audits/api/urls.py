"""/api/v1/audits/: the audit programme's API (token only)."""

from django.urls import path

from . import views

app_name = "audits_api"
urlpatterns = [
    path("nonconformities/", views.NonconformityListView.as_view(), name="nonconformities"),
    path("nonconformities/<int:pk>/", views.NonconformityDetailView.as_view(), name="nonconformity"),
    path("audits/", views.AuditListView.as_view(), name="audits"),
    path("audits/<int:pk>/", views.AuditDetailView.as_view(), name="audit"),
    path("reviews/", views.ReviewListView.as_view(), name="reviews"),
    path("reviews/<int:pk>/", views.ReviewDetailView.as_view(), name="review"),
]
