from django.urls import path

from . import views

app_name = "risks"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.create, name="create"),
    path("import/", views.import_page, name="import"),
    path("heatmap/", views.heatmap, name="heatmap"),
    path("queue/", views.queue, name="queue"),
    path("criteria/", views.criteria, name="criteria"),
    path("criteria/change/", views.criteria_edit, name="criteria_edit"),
    path("criteria/colours.css", views.criteria_css, name="criteria_css"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/review/", views.review, name="review"),
    path("<int:pk>/reassess/", views.reassess, name="reassess"),
    path("<int:pk>/request-review/", views.request_review, name="request_review"),
    path("<int:pk>/history/", views.history, name="history"),
    path("<int:pk>/compare/", views.compare, name="compare"),
    path("<int:pk>/accept/", views.accept_request, name="accept_request"),
    path("<int:pk>/actions/new/", views.action_create, name="action_create"),
    path("acceptances/<int:pk>/", views.acceptance, name="acceptance"),
    path("acceptances/<int:pk>/decide/", views.acceptance_decide, name="acceptance_decide"),
    path("exceptions/", views.exceptions, name="exceptions"),
    path("exceptions/<int:pk>/", views.exception, name="exception"),
    path("exceptions/<int:pk>/decide/", views.exception_decide, name="exception_decide"),
    path("controls/<int:pk>/exception/", views.exception_create, name="exception_create"),
    path("plan/", views.plan, name="plan"),
    path("plan/freeze/", views.plan_freeze, name="plan_freeze"),
    path("plan/versions/<int:pk>/", views.plan_version, name="plan_version"),
    path("plan/versions/<int:pk>/approve/", views.plan_signoff, name="plan_signoff"),
    path("plan/versions/<int:pk>/pdf/", views.plan_version_pdf, name="plan_version_pdf"),
]
