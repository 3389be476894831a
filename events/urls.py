from django.urls import path

from . import views

app_name = "events"
urlpatterns = [
    path("", views.home, name="home"),
    path("incidents/", views.incidents, name="incidents"),
    path("incidents/new/", views.incident_create, name="incident_create"),
    path("incidents/severity/", views.severity_scale, name="severity"),
    path("incidents/severity.css", views.severity_css, name="severity_css"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident"),
    path("incidents/<int:pk>/edit/", views.incident_edit, name="incident_edit"),
    path("incidents/<int:pk>/close/", views.incident_close, name="incident_close"),
    path("changes/", views.changes, name="changes"),
    path("changes/new/", views.change_create, name="change_create"),
    path("changes/<int:pk>/", views.change_detail, name="change"),
    path("changes/<int:pk>/edit/", views.change_edit, name="change_edit"),
    path("changes/<int:pk>/approve/", views.change_approve, name="change_approve"),
    path("changes/<int:pk>/close/", views.change_close, name="change_close"),
    path("changes/reviews/<int:pk>/done/", views.change_review_done, name="change_review_done"),
    path("suppliers/", views.suppliers, name="suppliers"),
    path("suppliers/new/", views.supplier_create, name="supplier_create"),
    path("suppliers/<int:pk>/", views.supplier_detail, name="supplier"),
    path("suppliers/<int:pk>/edit/", views.supplier_edit, name="supplier_edit"),
    path("suppliers/<int:pk>/review/", views.supplier_review, name="supplier_review"),
    path("suppliers/<int:pk>/certificates/new/", views.certificate_add, name="certificate_add"),
    path("suppliers/certificates/<int:pk>/", views.certificate_edit, name="certificate_edit"),
    path("objectives/", views.objectives, name="objectives"),
    path("objectives/new/", views.objective_create, name="objective_create"),
    path("objectives/<int:pk>/", views.objective_detail, name="objective"),
    path("objectives/<int:pk>/edit/", views.objective_edit, name="objective_edit"),
    path("objectives/<int:pk>/progress/", views.objective_progress, name="objective_progress"),
    path("import/<slug:register>/", views.import_page, name="import"),
]
