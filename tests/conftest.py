"""Shared fixtures: named actors, one per role (admin, compliance, owner, viewer, auditor)."""

import os

import pytest

from isms.accounts.roles import Role
from tests.factories import DepartmentFactory, UserFactory

REQUIRE_SERVICES = os.environ.get("ISMS_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip a test that needs a service missing here; in CI (ISMS_REQUIRE_SERVICES=1) fail instead."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (ISMS_REQUIRE_SERVICES=1 makes this a failure)")
    pytest.skip(reason)


@pytest.fixture
def department(db):
    return DepartmentFactory(name="IT")


@pytest.fixture
def users(db, department):
    """One user per role, keyed by the role's value."""
    return {
        role.value: UserFactory(username=role.value, role=role, department=department if role != Role.AUDITOR else None)
        for role in Role
    }


@pytest.fixture
def admin_user(users):
    return users["admin"]


@pytest.fixture
def compliance(users):
    return users["compliance"]


@pytest.fixture
def owner(users):
    return users["owner"]


@pytest.fixture
def viewer(users):
    return users["viewer"]


@pytest.fixture
def auditor(users):
    return users["auditor"]


@pytest.fixture
def client_as(client):
    """client_as(user) -> the test client signed in as that user."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in
