"""The demo organisation `make run` loads: one login per role and departments, then every app's demo.

Each app keeps its demo data in its own `demo.py` with a `load(*, users, today)` function; they are found by
that convention and run in the order of INSTALLED_APPS, which is the layer order (the calendar before the
controls whose activities it runs, evidence after both). Loading is idempotent: running it again updates what
is there instead of adding copies."""

import datetime
import importlib
from collections.abc import Callable

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from isms.accounts.models import Department, User
from isms.foundation.roles import Role

DEPARTMENTS = ["IT", "HR", "Legal", "Facilities", "Security", "Management"]

# username, first name, last name, role, department
DEMO_USERS = [
    ("admin", "Ada", "Admin", Role.ADMIN, "IT"),
    ("compliance", "Chris", "Compliance", Role.COMPLIANCE, "Security"),
    ("owner", "Olivia", "Owner", Role.OWNER, "IT"),
    ("viewer", "Victor", "Viewer", Role.VIEWER, "Management"),
    ("auditor", "Aude", "Auditor", Role.AUDITOR, None),
]


def demo_users(password: str) -> dict[str, User]:
    departments = {name: Department.objects.get_or_create(name=name)[0] for name in DEPARTMENTS}
    users = {}
    for username, first, last, role, dept in DEMO_USERS:
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@northwind.example",
                "role": role,
                "department": departments.get(dept),
                "is_active": True,
                "is_staff": role == Role.ADMIN,
                "is_superuser": role == Role.ADMIN,
            },
        )
        user.set_password(password)
        user.save(update_fields=["password"])
        users[username] = user
    return users


@transaction.atomic
def demo_load(*, password: str | None = None, today: datetime.date | None = None) -> dict[str, User]:
    today = today or timezone.localdate()
    users = demo_users(password or settings.DEMO_PASSWORD)
    for loader in app_demos():
        loader(users=users, today=today)
    for finisher in app_demos("finish"):  # after every app's data is in: e.g. the calendar's notices for all tasks
        finisher(users=users, today=today)
    return users


def app_demos(step: str = "load") -> list[Callable]:
    """Every app's `demo.load` (or its optional `demo.finish`, run once all are loaded), in INSTALLED_APPS (layer)
    order."""
    loaders = []
    for config in apps.get_app_configs():
        if config.name == __package__:
            continue
        try:
            module = importlib.import_module(f"{config.name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.demo":
                raise
            continue
        if hasattr(module, step):
            loaders.append(getattr(module, step))
    return loaders
