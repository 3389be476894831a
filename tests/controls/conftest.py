"""Fixtures for the controls tests: the real Annex A catalogue, and a named approver."""

import pytest

from controls.catalogue import CATALOGUE_DIR, load_catalogue

ANNEX_A = CATALOGUE_DIR / "iso27001-2022-annex-a.yaml"


@pytest.fixture
def annex_a(db):
    """ISO/IEC 27001:2022 Annex A as shipped: 93 controls in four themes, the SoA framework."""
    return load_catalogue(ANNEX_A).framework


@pytest.fixture
def approver(compliance):
    """The compliance manager, with a full name the exports must show."""
    compliance.first_name, compliance.last_name = "Alice", "Approver"
    compliance.save(update_fields=["first_name", "last_name"])
    return compliance
