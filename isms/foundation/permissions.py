"""Role checks for views, written once. Login itself is enforced by LoginRequiredMiddleware."""

from collections.abc import Callable, Iterable
from functools import wraps

from django.core.exceptions import PermissionDenied


def role_required(roles: Iterable[str]) -> Callable:
    """Allow the view only to signed-in users whose role is in `roles`; everyone else gets 403."""
    allowed = frozenset(roles)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated or request.user.role not in allowed:
                raise PermissionDenied("Your role does not give access to this page.")
            return view(request, *args, **kwargs)

        wrapped.allowed_roles = allowed
        return wrapped

    return decorator
