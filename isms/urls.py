"""Top-level URLs: each app brings its own urls.py."""

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import RedirectView

from isms.web import views as web_views

urlpatterns = [
    path("", web_views.dashboard, name="dashboard"),
    path("healthz", web_views.health, name="health"),
    path("robots.txt", web_views.robots, name="robots"),
    path("accounts/", include("isms.accounts.urls")),
    path("organisation/", include("isms.organisation.urls")),
    path("calendar/", include("isms.maintenance.urls")),
    path("controls/", include("controls.urls")),
    path("evidence/", include("evidence.urls")),
    path("events/", include("events.urls")),
    path("api/v1/events/", include("events.api.urls")),
    path("risks/", include("risks.urls")),
    path("api/v1/risks/", include("risks.api.urls")),
    path("audits/", include("audits.urls")),
    path("api/v1/audits/", include("audits.api.urls")),
    path("portal/", include("portal.urls")),
    path("api/", include("evidence.api.urls")),
    # Django admin signs in through our login page, so lockout and messages apply there too.
    path("admin/login/", login_not_required(RedirectView.as_view(pattern_name="login", query_string=True))),
    path("admin/", admin.site.urls),
]

# Under /api/ these answer in JSON, as the API does; everywhere else they are the site's error pages.
handler400 = "evidence.api.errors.bad_request"
handler404 = "evidence.api.errors.not_found"
handler500 = "evidence.api.errors.server_error"
