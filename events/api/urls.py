"""/api/v1/events/: the events API (token only)."""

from django.urls import path

from . import views

app_name = "events_api"
urlpatterns = [
    path("incidents/", views.IncidentListView.as_view(), name="incidents"),
    path("incidents/<int:pk>/", views.IncidentDetailView.as_view(), name="incident"),
    path("changes/", views.ChangeListView.as_view(), name="changes"),
    path("changes/<int:pk>/", views.ChangeDetailView.as_view(), name="change"),
    path("suppliers/", views.SupplierListView.as_view(), name="suppliers"),
    path("suppliers/<int:pk>/", views.SupplierDetailView.as_view(), name="supplier"),
    path("objectives/", views.ObjectiveListView.as_view(), name="objectives"),
    path("objectives/<int:pk>/", views.ObjectiveDetailView.as_view(), name="objective"),
]
