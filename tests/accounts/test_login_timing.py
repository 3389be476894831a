"""The login takes as long for an account without a usable password (one reached through task links only), a
deactivated one or a name that does not exist as for a real account with a wrong password: the password hasher
runs exactly once whatever the answer, so timing tells an outsider nothing about which names exist. Counted,
not timed. (Django 5.2 already runs the hasher for an unusable or damaged password; this guards that it stays so
with our backends in front of it.)"""

import pytest
from django.contrib.auth import hashers
from django.urls import reverse

from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"


@pytest.fixture
def hasher_runs(monkeypatch):
    """How many times the password hasher computed a hash (a check is one hash and a comparison)."""
    runs = []
    for cls in {type(h) for h in hashers.get_hashers()}:
        original = cls.encode

        def counting(self, password, salt, *args, _original=original, **kwargs):
            runs.append(type(self).__name__)
            return _original(self, password, salt, *args, **kwargs)

        monkeypatch.setattr(cls, "encode", counting)
    return runs


@pytest.fixture
def accounts(db):
    UserFactory(username="alice")
    link_only = UserFactory(username="linda")
    link_only.set_unusable_password()
    link_only.save()
    gibberish = UserFactory(username="gerd")
    gibberish.password = "not-a-hash"  # a hash of a hasher no longer installed, or damaged
    gibberish.save()
    UserFactory(username="leaver", is_active=False)


@pytest.mark.parametrize(
    "username, password",
    [
        ("alice", "wrong password"),
        ("alice", PASSWORD),
        ("nobody", "wrong password"),
        ("linda", "wrong password"),
        ("gerd", "wrong password"),
        ("leaver", PASSWORD),
        ("leaver", "wrong password"),
    ],
)
def test_the_hasher_runs_once_for_every_sign_in(client, accounts, hasher_runs, username, password):
    client.post(reverse("login"), {"username": username, "password": password})
    assert len(hasher_runs) == 1, hasher_runs
