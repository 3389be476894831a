"""Sign-in and its second step, password change, the invitation page, single sign-on (off here: not found), and the
administrators' people and departments pages (isms/accounts/urls.py)."""

from isms.foundation.roles import ALL, Role
from tests.matrix import PUBLIC, Entry, kind, status

ADMINS = frozenset({Role.ADMIN})


@kind("person")
def _person(objs, holder):
    """Someone an administrator manages (not one of the actors, so deactivating them changes no case)."""
    from tests.factories import UserFactory

    return UserFactory(username="pat", email="pat@example.com", role=Role.OWNER)


@kind("department")
def _department(objs, holder):
    from tests.factories import DepartmentFactory

    return DepartmentFactory(name="Facilities")


def _person_data(obj) -> dict:
    return {"first_name": "Pat", "last_name": "Doe", "email": "pat@example.com", "role": "viewer", "department": ""}


MATRIX: list[Entry] = [
    Entry("login", PUBLIC),
    Entry("logout", ALL, method="post", signs_out=True),
    Entry("password_change", ALL),
    # Two-step sign-in: each person's own.
    Entry("mfa_settings", ALL),
    Entry("mfa_verify", ALL),  # nothing to verify: on to the dashboard
    Entry("mfa_enrol", ALL),
    Entry("mfa_recovery_codes", ALL, method="post"),  # none set up: back to the settings, told why
    Entry("mfa_turn_off", ALL, method="post"),
    # The emailed invitation: public; without a valid token it says the link cannot be used.
    Entry("invitation", PUBLIC, everyone=status(410)),
    Entry("invitation", PUBLIC, method="post", everyone=status(410)),
    # Single sign-on is off unless OIDC_RP_CLIENT_ID is set.
    Entry("sso_start", PUBLIC, everyone=status(404)),
    Entry("sso_callback", PUBLIC, everyone=status(404)),
    # People and departments: administrators only.
    Entry("accounts:people", ADMINS),
    Entry("accounts:person_invite", ADMINS),
    Entry(
        "accounts:person_invite",
        ADMINS,
        method="post",
        data=lambda obj: {"first_name": "Nia", "email": "nia@example.com", "role": "owner"},
    ),
    Entry("accounts:person", ADMINS, obj="person"),
    Entry("accounts:person", ADMINS, method="post", obj="person", data=_person_data),
    Entry("accounts:person_deactivate", ADMINS, method="post", obj="person"),
    Entry("accounts:person_reactivate", ADMINS, method="post", obj="person"),
    Entry("accounts:person_mfa_reset", ADMINS, method="post", obj="person"),
    Entry("accounts:person_invitation_resend", ADMINS, method="post", obj="person"),
    Entry("accounts:departments", ADMINS),
    Entry("accounts:department_new", ADMINS),
    Entry("accounts:department_new", ADMINS, method="post", data=lambda obj: {"name": "Legal"}),
    Entry("accounts:department", ADMINS, obj="department"),
    Entry("accounts:department", ADMINS, method="post", obj="department", data=lambda obj: {"name": "Estates"}),
    Entry("accounts:department_delete", ADMINS, method="post", obj="department"),
]
