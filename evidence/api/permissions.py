"""Who may do what through the API: the token's scopes, then the same role rules as the web pages."""

from rest_framework.permissions import BasePermission

from evidence.models import ApiToken
from evidence.selectors import may_add_evidence
from isms.accounts.roles import Role


class HasScope(BasePermission):
    """The token must carry one of the view's `required_scopes`."""

    message = "This token does not have the scope this needs."

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            return False
        needed = getattr(view, "required_scopes", ())
        if not needed or token.has_scope(*needed):
            return True
        self.message = (
            f"This token lacks the scope {' or '.join(needed)}. Make a token with it under API tokens; "
            f"this one has: {', '.join(token.scopes) or 'none'}."
        )
        return False


def evidence_write_refusal(user, *, control=None, occurrence=None, requirement=None) -> str | None:
    """Why `user` may not add evidence for these targets, or None if they may: the web's rule
    (`may_add_evidence`) for every target given. Managers add evidence for anything; a control owner for
    their own controls and tasks and the requirements their controls satisfy; viewers for nothing."""
    if user.is_manager:
        return None
    if user.role != Role.OWNER:
        return f"Your role ({user.get_role_display()}) cannot add evidence."
    if control is not None and not may_add_evidence(user, control=control):
        only = "only its owner or the compliance team can add evidence to it."
        return f"You do not own control {control.reference}: {only}"
    if occurrence is not None and not may_add_evidence(user, occurrence=occurrence):
        return "This task is not yours: only its owner or the compliance team can add evidence to it."
    if requirement is not None and not may_add_evidence(user, requirement=requirement):
        return (
            f"None of your controls satisfies requirement {requirement.identifier}: only the compliance team or "
            "the owner of a control mapped to it can add evidence to it."
        )
    return None


def task_complete_refusal(user, occurrence) -> str | None:
    """Why `user` may not complete the task, or None: its owner (a control owner) or the compliance team."""
    if user.is_manager:
        return None
    if user.role != Role.OWNER:
        return f"Your role ({user.get_role_display()}) cannot complete tasks."
    if occurrence.owner_id != user.pk:
        return "Only the task's owner or the compliance team can complete it."
    return None
