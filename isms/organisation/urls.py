from django.urls import path

from . import views

app_name = "organisation"
urlpatterns = [
    path("", views.organisation_detail, name="detail"),
    path("edit/", views.organisation_edit, name="edit"),
    path("certificate/", views.certificate_edit, name="certificate"),
    path("cycle/", views.cycle, name="cycle"),
    path("cycle/<int:pk>/adjust/", views.cycle_audit_edit, name="cycle_audit_edit"),
    path("cycle/<int:pk>/reset/", views.cycle_audit_reset, name="cycle_audit_reset"),
]
