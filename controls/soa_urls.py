"""Statement of Applicability URLs, spliced into controls/urls.py (namespace "controls")."""

from django.urls import path

from . import soa_views

urlpatterns = [
    path("soa/", soa_views.soa_page, name="soa"),
    path("soa/approve/", soa_views.soa_approve, name="soa_approve"),
    path("soa/entries/<int:pk>/", soa_views.soa_entry, name="soa_entry"),
    path("soa/entries/<int:pk>/edit/", soa_views.soa_entry_edit, name="soa_entry_edit"),
    path("soa/versions/", soa_views.soa_versions, name="soa_versions"),
    path("soa/versions/<int:pk>/", soa_views.soa_version, name="soa_version"),
    path("soa/versions/<int:pk>/changes/", soa_views.soa_diff, name="soa_diff"),
    path("soa/versions/<int:pk>/pdf/", soa_views.soa_version_pdf, name="soa_version_pdf"),
    path("soa/versions/<int:pk>/csv/", soa_views.soa_version_csv, name="soa_version_csv"),
    path("soa/versions/<int:pk>/xlsx/", soa_views.soa_version_xlsx, name="soa_version_xlsx"),
]
