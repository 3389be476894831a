"""Error answers for addresses under /api/ that Django, not the API's views, gives: an address that is no
endpoint (404), a request Django refuses before any view (400, or 413 for a body over its size limit) and a
server error (500). Scripts get JSON like every other API answer; every other page, including the token pages
and the API's docs page (pages for a browser), keeps the site's HTML error pages.

Wired up as handler404/400/500 in isms/urls.py."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views import defaults

API_PREFIX = "/api/"
NO_ENDPOINT = "There is no API endpoint at this address. See /api/docs/."


def is_api_request(request: HttpRequest) -> bool:
    """An address under /api/ other than the token pages and the docs page (those are for a browser)."""
    path = request.path_info
    return path.startswith(API_PREFIX) and not path.startswith((reverse("api:tokens"), reverse("api:docs")))


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: JSON under /api/, the site's page elsewhere."""
    if is_api_request(request):
        return JsonResponse({"detail": NO_ENDPOINT}, status=404)
    return defaults.page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400: a request Django refused (a bad Host header, a body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many
    fields). JSON under /api/, with 413 for a body that is too large; the site's page elsewhere."""
    if not is_api_request(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        limit = (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0) // 1024
        return JsonResponse({"detail": f"The request body is larger than {limit:,} KB."}, status=413)
    return JsonResponse({"detail": "The request could not be read (its address, headers or body)."}, status=400)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: JSON under /api/, the site's page elsewhere. The error itself is logged by Django."""
    if is_api_request(request):
        return JsonResponse(
            {"detail": "Something went wrong on the server; it has been logged. Try again later."}, status=500
        )
    return defaults.server_error(request)
