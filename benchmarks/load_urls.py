"""The load test's URL module (benchmarks/load_settings.py): every production URL, plus the floor view.

The floor is what any page costs at least: the same middleware (sessions, CSRF, login required, session limits,
CSP, axes), a signed-in person, one ORM query and a tiny response. Pages are reported as multiples of it. It is
reachable only under the load test's settings, never in isms/urls.py."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from isms.accounts.models import Department
from isms.urls import handler400, handler404, handler500
from isms.urls import urlpatterns as production_urlpatterns

FLOOR_PATH = "loadtest-floor/"


def floor(request: HttpRequest) -> HttpResponse:
    """One ORM query and a few bytes, behind the same middleware and login as every page."""
    first = Department.objects.order_by("pk").values_list("name", flat=True).first()
    return HttpResponse(f"floor: {first}\n", content_type="text/plain; charset=utf-8")


urlpatterns = [path(FLOOR_PATH, floor, name="loadtest_floor"), *production_urlpatterns]

__all__ = ["handler400", "handler404", "handler500", "urlpatterns"]
