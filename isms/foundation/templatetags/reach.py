"""Templates ask the reach rule, never a role: `{% load reach %}{% may user "complete" occ as can_complete %}`."""

from django import template

from isms.foundation import reach

register = template.Library()


@register.simple_tag
def may(user, action: str, obj) -> bool:
    """True if `user` may do `action` on `obj` (an object, or "app_label.Model" for actions such as "create")."""
    return reach.may(user, action, obj)


@register.filter
def is_administrator(user) -> bool:
    """Administrators run the system itself (the admin site)."""
    return reach.is_admin(user)
