"""URLs for tests/foundation/test_pagecache.py: a page that shows data, with a form, behind the page cache."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template import engines
from django.urls import path

from isms.accounts.models import Department
from isms.foundation.pagecache import cached_page
from isms.urls import urlpatterns as production_urlpatterns

PAGE = engines["django"].from_string(
    "<p>departments: {{ names|join:', ' }}</p>"
    "{% for message in messages %}<p class=message>{{ message }}</p>{% endfor %}"
    "<form method=post action=/pagecache/post/>{% csrf_token %}<button>Send</button></form>"
)


@cached_page
def departments(request):
    return HttpResponse(
        PAGE.render({"names": list(Department.objects.order_by("name").values_list("name", flat=True))}, request)
    )


@cached_page
def missing(request):
    return HttpResponse("not here", status=404)


def post(request):
    messages.success(request, "Saved.")
    return redirect("/pagecache/")


urlpatterns = [
    path("pagecache/", departments),
    path("pagecache/missing/", missing),
    path("pagecache/post/", post),
    *production_urlpatterns,  # the navigation and error pages reverse them
]
