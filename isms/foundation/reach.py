"""Who may see and act on each object: one rule per model, asked by views, the API, exports, feeds, notices
and templates alike.

Each app declares its rules in its own `reach.py` (imported by the app's `ready()`), one `Rule` subclass per
model a person can open, registered with `@register(Model)`:

    @register(Occurrence)
    class OccurrenceRule(Rule):
        def visible(self, user, qs):               # the rows `user` may see (a queryset, never a list)
            return qs if sees_everything(user) else qs.filter(owner=user)

        def may(self, user, action, obj):          # may `user` do `action` on `obj` (already visible)?
            if action == "complete":
                return user.is_manager or obj.owner_id == user.pk
            return super().may(user, action, obj)

A rule may depend on data, not only on the role. An auditor's reach comes from engagements alone: the portal
app (above every domain) registers one grant with `register_auditor_reach()`, which narrows any model's rows to
what the auditor's open engagements put in scope and period; a model it does not name shows them nothing. The
domain rules never see an auditor, and an auditor may only read (or do what a rule lists in `auditor_actions`,
such as drawing a sample on their engagement). Two things hold for every rule and are decided here, once: a user
who is not signed in or is deactivated reaches nothing, and an object outside `visible()` is a 404 (its id
cannot be probed), while a visible object the user may not act on is a 403 that says why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import Http404

from isms.foundation.roles import MANAGERS, STAFF, Role

VIEW = "view"


def is_actor(user) -> bool:
    """Signed in and active: anyone else reaches nothing, whatever their role."""
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_manager(user) -> bool:
    """Administrators and compliance managers run the ISMS: they see and change everything in it."""
    return is_actor(user) and user.role in MANAGERS


def is_admin(user) -> bool:
    """Administrators also run the system itself (Django admin, deleting evidence)."""
    return is_actor(user) and user.role == Role.ADMIN


def is_staff_member(user) -> bool:
    """Works for the organisation (every role but auditor)."""
    return is_actor(user) and user.role in STAFF


def sees_everything(user) -> bool:
    """Managers and leadership (viewers) read the whole ISMS; control owners read their own part."""
    return is_actor(user) and (user.role in MANAGERS or user.role == Role.VIEWER)


def is_auditor(user) -> bool:
    """An outsider whose reach comes only from their open engagements (or the compliance team previewing one)."""
    return is_actor(user) and user.role == Role.AUDITOR


def may_own_work(user) -> bool:
    """Who can be named the owner of a task: an active staff member with an email address (to be reminded).
    Whoever owns a task may complete it and add its evidence, whatever their staff role."""
    return is_staff_member(user) and bool(user.email)


class Rule:
    """The reach of one model. Subclass in the app's reach.py and register it with `@register(Model)`."""

    model: type[models.Model]
    #: Actions (besides reading) an auditor may take on what their engagement shows them, e.g. "sample".
    auditor_actions: frozenset[str] = frozenset()
    #: What a refused action says, by action; `refusal()` may say more for a particular object.
    refusals: dict[str, str] = {}

    def visible(self, user, qs: QuerySet) -> QuerySet:
        """The rows of `qs` that `user` may see. Default: staff see everything, auditors nothing."""
        return qs if is_staff_member(user) else qs.none()

    def sees(self, user, obj) -> bool:
        """Is this one object visible to `user`? Rules override it with a check that needs no query, for
        templates that ask it for every row of a list."""
        return self.visible(user, type(obj)._default_manager.filter(pk=obj.pk)).exists()

    def may(self, user, action: str, obj) -> bool:
        """May `user` do `action` on `obj`? `obj` is visible to the user, or the model class for actions not on
        one object (e.g. "create"). Default: staff may view; managers may do everything else."""
        if action == VIEW:
            return is_staff_member(user)
        return is_manager(user)

    def refusal(self, user, action: str, obj) -> str:
        """Why `user` may not do `action` on `obj`, in words a person can act on."""
        return self.refusals.get(action, "Only the compliance team can do this.")


_RULES: dict[type[models.Model], Rule] = {}

AUDITOR_READS = "Auditors read what their engagement shows; they cannot change anything in the ISMS."

# The auditor grant: (user, queryset) -> the rows of it the auditor's engagements reach. Registered by the portal.
_auditor_reach: Callable[[object, QuerySet], QuerySet] | None = None


def register_auditor_reach(grant: Callable[[object, QuerySet], QuerySet]) -> None:
    """The portal declares, once, what an auditor's engagements put within their reach, model by model."""
    global _auditor_reach
    _auditor_reach = grant


def _auditor_visible(user, qs: QuerySet) -> QuerySet:
    return qs.none() if _auditor_reach is None else _auditor_reach(user, qs)


def register(model: type[models.Model]):
    """Class decorator: `rule_cls` is the one reach rule of `model`."""

    def decorator(rule_cls: type[Rule]) -> type[Rule]:
        if model in _RULES and type(_RULES[model]) is not rule_cls:
            raise RuntimeError(f"{model.__name__} already has a reach rule ({type(_RULES[model]).__name__})")
        rule = rule_cls()
        rule.model = model
        _RULES[model] = rule
        return rule_cls

    return decorator


def _model_of(target) -> type[models.Model]:
    if isinstance(target, str):
        return apps.get_model(target)
    if isinstance(target, QuerySet):
        return target.model
    if isinstance(target, type) and issubclass(target, models.Model):
        return target
    return type(target)


def rule_for(target) -> Rule:
    """The rule of a model (given as a model, an instance, a queryset or "app_label.Model")."""
    model = _model_of(target)
    for klass in model.__mro__:
        if klass in _RULES:
            return _RULES[klass]
    raise LookupError(f"{model.__name__} has no reach rule: declare one in its app's reach.py")


def visible(user, target) -> QuerySet:
    """What `user` may see of a model or a queryset (narrowed, never widened)."""
    qs = target if isinstance(target, QuerySet) else _model_of(target)._default_manager.all()
    if not is_actor(user):
        return qs.none()
    rule = rule_for(qs)  # every model a person opens has a rule, whoever asks
    if user.role == Role.AUDITOR:
        return _auditor_visible(user, qs)
    return rule.visible(user, qs)


def may(user, action: str, obj) -> bool:
    """May `user` do `action` on `obj` (an instance, or a model for actions such as "create")?
    "view" on an instance asks whether the user sees it; any other action on an instance assumes the object
    was fetched through `visible()` (as `get_or_404` does)."""
    if not is_actor(user) or obj is None:
        return False
    rule = rule_for(obj)
    if user.role == Role.AUDITOR:
        if (
            isinstance(obj, models.Model)
            and not _auditor_visible(user, type(obj)._default_manager.filter(pk=obj.pk)).exists()
        ):
            return False
        if action == VIEW:
            return isinstance(obj, models.Model)
        return action in rule.auditor_actions and rule.may(user, action, obj)
    if action == VIEW and isinstance(obj, models.Model):
        return rule.sees(user, obj)
    return rule.may(user, action, obj)


def refusal(user, action: str, obj) -> str | None:
    """None if `user` may do `action` on `obj`; else why not, for a 403 page or an API error."""
    if may(user, action, obj):
        return None
    if not is_actor(user):
        return "Your account is not active."
    rule = rule_for(obj)
    if user.role == Role.AUDITOR and action not in rule.auditor_actions:
        return AUDITOR_READS
    return rule.refusal(user, action, obj)


def check(user, action: str, obj) -> None:
    """Raise PermissionDenied with the reason unless `user` may do `action` on `obj`."""
    reason = refusal(user, action, obj)
    if reason is not None:
        raise PermissionDenied(reason)


def get_or_404(user, target, action: str = VIEW, **lookup):
    """Fetch one object within the user's reach (else 404) and check `action` on it (else 403).

    `target` is a model or a queryset (to join what the page shows); `user` may be a request."""
    user = getattr(user, "user", user)
    model = _model_of(target)
    try:
        obj = visible(user, target).get(**lookup)
    except (model.DoesNotExist, ValueError, TypeError):
        raise Http404("Not found, or not yours to see.") from None
    if action != VIEW:
        check(user, action, obj)
    return obj


def may_all(user, actions: Iterable[str], obj) -> dict[str, bool]:
    """{action: may(...)} for a page that shows several buttons."""
    return {action: may(user, action, obj) for action in actions}
