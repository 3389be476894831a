"""Who may do what through the API: the token's scopes, then the same reach rule as the web pages."""

from rest_framework.permissions import BasePermission

from evidence.models import ApiToken
from isms.foundation import reach


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
    """Why `user` may not add evidence for these targets, or None if they may: the reach rule's "add_evidence"
    for every target given, the same answer the web pages give."""
    for target in (control, occurrence, requirement):
        if target is not None:
            refusal = reach.refusal(user, "add_evidence", target)
            if refusal:
                return refusal
    return None
