from django.urls import path

from . import views

app_name = "evidence"
urlpatterns = [
    path("", views.index, name="index"),
    path("portal/", views.portal, name="portal"),
    path("<int:pk>/download/", views.download, name="download"),
]
