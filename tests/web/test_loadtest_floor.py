"""The load test's floor view (benchmarks/load_urls.py) exists only under the benchmark's settings: production URLs
never serve it, and under the benchmark it sits behind the same login as every page. No timing is asserted here."""

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, get_resolver

import isms.urls
from benchmarks import load_urls

pytestmark = pytest.mark.django_db

FLOOR = "/" + load_urls.FLOOR_PATH


def test_production_urls_do_not_serve_the_floor():
    with pytest.raises(Resolver404):
        get_resolver("isms.urls").resolve(FLOOR)
    assert all("benchmarks" not in str(getattr(p, "urlconf_name", "")) for p in isms.urls.urlpatterns)


@override_settings(ROOT_URLCONF="benchmarks.load_urls")
def test_floor_is_behind_the_login_and_answers_in_one_query_of_its_own(client, client_as, compliance):
    assert client.get(FLOOR).status_code == 302  # anonymous: sent to the login page like any page
    signed_in = client_as(compliance)
    with CaptureQueriesContext(connection) as queries:
        response = signed_in.get(FLOOR)
    assert response.status_code == 200
    assert len(response.content) < 100
    own = [q for q in queries.captured_queries if "accounts_department" in q["sql"]]
    assert len(own) == 1
    # Every production URL is still there, unchanged.
    assert load_urls.urlpatterns[1:] == isms.urls.urlpatterns
