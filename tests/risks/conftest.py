"""Risk register tests: a risk builder, controls to link, the Annex A catalogue when a test needs it."""

import pytest

from risks import services
from tests.factories import make_control, make_requirement


@pytest.fixture
def make_risk(compliance):
    """make_risk(owner, **fields) -> a risk added by the compliance manager (inherent 4×4, residual 3×3)."""

    def build(owner, **fields):
        values = {
            "title": "Ransomware on file servers",
            "asset": "File servers",
            "threat": "Ransomware",
            "vulnerability": "Unpatched servers",
            "owner": owner,
            "inherent_likelihood": 4,
            "inherent_impact": 4,
            "residual_likelihood": 3,
            "residual_impact": 3,
            "treatment": "mitigate",
            **fields,
        }
        return services.risk_create(by=compliance, **values)

    return build


@pytest.fixture
def control(owner):
    return make_control(owner, "BC-01", "Backups and restore tests", requirements=[make_requirement(identifier="8.13")])


@pytest.fixture
def api(db):
    """api(user, scopes=[...]) -> an APIClient sending a fresh token of that user (as in tests/api)."""
    from rest_framework.test import APIClient

    from evidence.api.services import token_create

    def client_for(user, scopes):
        _, secret = token_create(user=user, by=user, name="test token", scopes=scopes)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return client

    return client_for
