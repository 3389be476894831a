from django.urls import path

from . import views

app_name = "evidence"
urlpatterns = [
    path("", views.index, name="index"),
    path("suggest/<str:field>/", views.suggest, name="suggest"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/download/", views.download, name="download"),
    path("<int:pk>/correct/", views.correct, name="correct"),
    path("<int:pk>/delete/", views.delete, name="delete"),
    path("add/<str:target>/<int:pk>/", views.create, name="create"),
    path("coverage/control/<int:pk>/", views.control_coverage, name="control_coverage"),
    path("coverage/requirement/<int:pk>/", views.requirement_coverage, name="requirement_coverage"),
]
