"""The five roles and what each may do. Views ask these questions; they never compare role strings."""

from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Administrator"
    COMPLIANCE = "compliance", "Compliance manager"
    OWNER = "owner", "Control owner"
    VIEWER = "viewer", "Viewer (leadership)"
    AUDITOR = "auditor", "Auditor"


# Who runs the ISMS: may change everything in the organisation.
MANAGERS = frozenset({Role.ADMIN, Role.COMPLIANCE})
# Everyone who works for the organisation; auditors are outsiders and see only their portal.
STAFF = frozenset({Role.ADMIN, Role.COMPLIANCE, Role.OWNER, Role.VIEWER})
ALL = frozenset(Role)
