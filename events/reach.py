"""Who may see and act on incidents, changes, suppliers and objectives (the one reach rule; see
isms.foundation.reach).

Anyone on staff reports an incident and records a change; managers and leadership read all of them, a control
owner the ones they reported or own. Suppliers and objectives are read by all staff; their owners keep their
own up to date. The compliance team approves and closes."""

from django.db.models import Q

from isms.foundation.reach import Rule, is_manager, is_staff_member, may_own_work, register, sees_everything

from .models import Change, ChangeStatus, Incident, Objective, Supplier


def _owns(user, obj, *fields: str) -> bool:
    return any(getattr(obj, f"{name}_id", None) == user.pk for name in fields)


@register(Incident)
class IncidentRule(Rule):
    """Managers and leadership see every incident; other staff the ones they reported or handle. The handler and
    the reporter keep an open incident up to date; only the compliance team closes one."""

    refusals = {
        "edit": "Only the incident's handler, whoever reported it or the compliance team can change it while it is "
        "open.",
        "close": "Only the compliance team closes an incident.",
        "create": "Your role cannot report incidents here.",
        "import": "Only the compliance team imports incidents.",
        "configure": "Only the compliance team sets the severity scale.",
    }

    def visible(self, user, qs):
        if sees_everything(user):
            return qs
        if is_staff_member(user):
            return qs.filter(Q(owner=user) | Q(reported_by=user))
        return qs.none()

    def sees(self, user, obj):
        return sees_everything(user) or (is_staff_member(user) and _owns(user, obj, "owner", "reported_by"))

    def may(self, user, action, obj):
        if action == "view":
            return self.sees(user, obj)
        if action == "create":
            return is_staff_member(user)
        if action == "edit":
            if isinstance(obj, Incident) and obj.is_closed:
                return False
            return is_manager(user) or (
                isinstance(obj, Incident) and may_own_work(user) and _owns(user, obj, "owner", "reported_by")
            )
        return is_manager(user)  # close, import, configure

    def refusal(self, user, action, obj):
        if action == "edit" and isinstance(obj, Incident) and obj.is_closed:
            return f"Incident {obj.reference} is closed: its record stays as it was closed."
        return super().refusal(user, action, obj)


@register(Change)
class ChangeRule(Rule):
    """Managers and leadership see every change; other staff the ones they recorded or own. The owner and whoever
    recorded it keep an open change up to date; the compliance team approves and closes."""

    refusals = {
        "edit": "Only the change's owner, whoever recorded it or the compliance team can change it while it is open.",
        "approve": "Only the compliance team approves a change.",
        "close": "Only the compliance team closes a change.",
        "create": "Your role cannot record changes here.",
        "import": "Only the compliance team imports changes.",
    }

    def visible(self, user, qs):
        if sees_everything(user):
            return qs
        if is_staff_member(user):
            return qs.filter(Q(owner=user) | Q(requested_by=user))
        return qs.none()

    def sees(self, user, obj):
        return sees_everything(user) or (is_staff_member(user) and _owns(user, obj, "owner", "requested_by"))

    def may(self, user, action, obj):
        if action == "view":
            return self.sees(user, obj)
        if action == "create":
            return is_staff_member(user)
        if action == "edit":
            if isinstance(obj, Change) and obj.status == ChangeStatus.CLOSED:
                return False
            return is_manager(user) or (
                isinstance(obj, Change) and may_own_work(user) and _owns(user, obj, "owner", "requested_by")
            )
        return is_manager(user)  # approve, close, import

    def refusal(self, user, action, obj):
        if action == "edit" and isinstance(obj, Change) and obj.is_closed:
            return f"Change {obj.reference} is closed: its record stays as it was closed."
        return super().refusal(user, action, obj)


@register(Supplier)
class SupplierRule(Rule):
    """Every staff member reads the supplier register; the compliance team adds suppliers; a supplier's owner
    updates it and records its reviews."""

    refusals = {
        "edit": "Only the supplier's owner or the compliance team can change it.",
        "review": "Only the supplier's owner or the compliance team can record its review.",
        "create": "Only the compliance team adds suppliers.",
        "import": "Only the compliance team imports suppliers.",
    }

    def sees(self, user, obj):
        return is_staff_member(user)

    def may(self, user, action, obj):
        if action == "view":
            return is_staff_member(user)
        if action in ("edit", "review"):
            return is_manager(user) or (isinstance(obj, Supplier) and obj.owner_id == user.pk and may_own_work(user))
        return is_manager(user)


@register(Objective)
class ObjectiveRule(Rule):
    """Every staff member reads the ISMS objectives; the compliance team sets them; an objective's owner records
    its progress and keeps it up to date."""

    refusals = {
        "edit": "Only the objective's owner or the compliance team can change it.",
        "progress": "Only the objective's owner or the compliance team can record its progress.",
        "create": "Only the compliance team sets objectives.",
        "import": "Only the compliance team imports objectives.",
    }

    def sees(self, user, obj):
        return is_staff_member(user)

    def may(self, user, action, obj):
        if action == "view":
            return is_staff_member(user)
        if action in ("edit", "progress"):
            return is_manager(user) or (isinstance(obj, Objective) and obj.owner_id == user.pk and may_own_work(user))
        return is_manager(user)
