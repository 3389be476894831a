"""The schema and the interactive docs are public and the docs page loads nothing from outside (no CDN)."""

import re

from django.contrib.staticfiles import finders
from rest_framework.test import APIClient


def test_the_schema_is_served_without_a_token(db):
    response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["components"]["securitySchemes"]["bearerToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["bearerToken"]["description"],
    }
    assert set(schema["paths"]) == {
        "/api/v1/evidence/",
        "/api/v1/evidence/{id}/",
        "/api/v1/tasks/",
        "/api/v1/tasks/{id}/complete/",
        "/api/v1/risks/",
        "/api/v1/risks/queue/",
        "/api/v1/risks/{id}/",
        "/api/v1/risks/{id}/assessments/",
        *(f"/api/v1/events/{register}/" for register in ("incidents", "changes", "suppliers", "objectives")),
        *(f"/api/v1/events/{register}/{{id}}/" for register in ("incidents", "changes", "suppliers", "objectives")),
        *(f"/api/v1/audits/{kind}/" for kind in ("audits", "nonconformities", "reviews")),
        *(f"/api/v1/audits/{kind}/{{id}}/" for kind in ("audits", "nonconformities", "reviews")),
    }


def test_a_bad_token_does_not_keep_anyone_from_the_schema(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer nonsense")
    assert client.get("/api/schema/").status_code == 200


def test_the_docs_page_uses_only_our_own_static_files(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets, page
    # Its setup script is served by the page itself (?script), a file as the Content-Security-Policy asks.
    setup = [url for url in assets if url.startswith("/api/docs/?")]
    assert len(setup) == 1 and "/api/schema/" in client.get(setup[0]).content.decode()
    for url in set(assets) - set(setup):
        assert url.startswith(("/static/drf_spectacular_sidecar/", "/static/evidence/")), url
        assert finders.find(url.removeprefix("/static/")), f"{url} is not among the static files"
    assert "cdn" not in page.lower() and "https://" not in page
