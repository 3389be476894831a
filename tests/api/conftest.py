"""API test helpers: a client holding a token for a user, evidence files of every kind, and a view of storage."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from evidence.api.services import token_create
from evidence.models import ApiToken

ALL_SCOPES = list(ApiToken.Scope.values)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def upload(name: str = "scan.pdf", content: bytes = PDF, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def api(db):
    """api(user, scopes=[...]) -> an APIClient sending a fresh token of that user (client.token, client.secret)."""

    def client_for(user, scopes=ALL_SCOPES, **token_fields) -> APIClient:
        token, secret = token_create(user=user, by=user, name="test token", scopes=scopes, **token_fields)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        client.token, client.secret = token, secret
        return client

    return client_for


@pytest.fixture
def stored_files(settings, tmp_path):
    """Evidence storage in a fresh folder; calling the fixture lists every file in it."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root

    def listing() -> list[str]:
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())

    return listing
