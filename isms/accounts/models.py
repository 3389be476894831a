"""People and departments. A user's role (foundation/roles.py) and the reach rules decide what they may do."""

from django.contrib.auth.models import AbstractUser
from django.db import models

from isms.foundation.roles import MANAGERS, STAFF, Role


class Department(models.Model):
    """A part of the organisation that people and recurring work belong to (IT, HR, Legal…)."""

    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who signs in. Administrators also get Django admin and every model permission."""

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.OWNER)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="members")
    # The weekly digest is the one email a person may turn off (from the link in it): reminders, overdue notices and
    # escalations are about work they hold and always come.
    receives_digests = models.BooleanField(
        "weekly digest", default=True, help_text="Sends the weekly summary of open and upcoming work by email."
    )

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_manager(self) -> bool:
        """Administrators and compliance managers run the ISMS and may change anything in it."""
        return self.role in MANAGERS

    @property
    def is_staff_member(self) -> bool:
        """Works for the organisation (every role but auditor)."""
        return self.role in STAFF

    # Django admin asks these; an active administrator may do everything there.
    def has_perm(self, perm, obj=None) -> bool:
        if self.is_active and self.is_admin:
            return True
        return super().has_perm(perm, obj)

    def has_module_perms(self, app_label) -> bool:
        if self.is_active and self.is_admin:
            return True
        return super().has_module_perms(app_label)
