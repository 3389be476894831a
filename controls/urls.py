from django.urls import path

from . import views

app_name = "controls"
urlpatterns = [
    path("", views.index, name="index"),
]
