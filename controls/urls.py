from django.urls import path

from . import soa_urls, views

app_name = "controls"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.control_create, name="create"),
    path("<int:pk>/", views.control_detail, name="detail"),
    path("<int:pk>/edit/", views.control_edit, name="edit"),
    path("<int:pk>/activities/", views.activity_adopt, name="adopt_activity"),
    path("frameworks/", views.framework_list, name="frameworks"),
    path("frameworks/load/", views.catalogues_load, name="catalogues_load"),
    path("frameworks/<slug:code>/", views.framework_detail, name="framework"),
    path("requirements/<int:pk>/", views.requirement_detail, name="requirement"),
    *soa_urls.urlpatterns,
]
