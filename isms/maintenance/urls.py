from django.urls import path

from . import views

app_name = "maintenance"
urlpatterns = [
    path("", views.month, name="month"),
    path("agenda/", views.agenda, name="agenda"),
    path("mine/", views.my_tasks, name="mine"),
    path("occurrences/<int:pk>/", views.occurrence_detail, name="occurrence"),
    path("occurrences/<int:pk>/complete/", views.occurrence_complete, name="complete"),
    path("occurrences/<int:pk>/reassign/", views.occurrence_reassign, name="reassign"),
    path("occurrences/<int:pk>/skip/", views.occurrence_skip, name="skip"),
    path("occurrences/<int:pk>/reopen/", views.occurrence_reopen, name="reopen"),
    path("schedules/", views.schedule_list, name="schedules"),
    path("schedules/new/", views.schedule_create, name="schedule_create"),
    path("schedules/<int:pk>/", views.schedule_detail, name="schedule"),
    path("schedules/<int:pk>/edit/", views.schedule_edit, name="schedule_edit"),
    path("task/", views.task_link, name="task_link"),
    path("task/<int:pk>/", views.task_link_task, name="task_link_task"),
    path("feeds/", views.feeds_page, name="feeds"),
    path("feeds/regenerate/", views.feed_regenerate, name="feed_regenerate"),
    path("feeds/organisation/regenerate/", views.feed_org_regenerate, name="feed_org_regenerate"),
    path("feeds/<str:token>/mine.ics", views.feed_user_ics, name="feed_user_ics"),
    path("feeds/<str:token>/organisation.ics", views.feed_org_ics, name="feed_org_ics"),
    path("print/<int:year>.pdf", views.calendar_pdf, name="calendar_pdf"),
    path("digest/<str:token>/", views.digests_settings, name="digests"),
]
