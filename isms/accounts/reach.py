"""Who may see and manage people and departments: administrators only (the compliance team runs the ISMS, the
administrators run who signs in to it). Department names are read by everyone on staff through other pages."""

from django.db.models import QuerySet

from isms.foundation.reach import VIEW, Rule, is_admin, is_staff_member, register

from .models import Department, User


@register(User)
class UserRule(Rule):
    refusals = {"manage": "Only an administrator can manage people's accounts."}

    def visible(self, user, qs: QuerySet) -> QuerySet:
        return qs if is_admin(user) else qs.none()

    def sees(self, user, obj) -> bool:
        return is_admin(user)

    def may(self, user, action: str, obj) -> bool:
        return is_admin(user)

    def refusal(self, user, action: str, obj) -> str:
        return self.refusals["manage"]


@register(Department)
class DepartmentRule(Rule):
    refusals = {"manage": "Only an administrator can add, rename or delete departments."}

    def visible(self, user, qs: QuerySet) -> QuerySet:
        return qs if is_staff_member(user) else qs.none()

    def may(self, user, action: str, obj) -> bool:
        if action == VIEW:
            return is_staff_member(user)
        return is_admin(user)

    def refusal(self, user, action: str, obj) -> str:
        return self.refusals["manage"]
