"""Who may see and act on the calendar's objects (the one reach rule; see isms.foundation.reach)."""

from isms.foundation.reach import Rule, is_manager, may_own_work, register, sees_everything

from .models import Occurrence, Schedule


@register(Occurrence)
class OccurrenceRule(Rule):
    """Managers and leadership see every task; anyone else sees the tasks they own. A task's owner may complete
    it and add its evidence, whatever their staff role (a viewer may own a management review task); only the
    compliance team reassigns, skips or reopens."""

    refusals = {
        "complete": "Only the task's owner or the compliance team can complete it.",
        "add_evidence": "This task is not yours: only its owner or the compliance team can add evidence to it.",
    }

    def visible(self, user, qs):
        return qs if sees_everything(user) else qs.filter(owner=user)

    def sees(self, user, obj):
        return sees_everything(user) or obj.owner_id == user.pk

    def may(self, user, action, obj):
        if action == "view":
            return True
        if action in ("complete", "add_evidence"):
            return is_manager(user) or (obj.owner_id == user.pk and may_own_work(user))
        return is_manager(user)


@register(Schedule)
class ScheduleRule(Rule):
    """Schedules are the compliance team's plan: managers and leadership read them, managers change them."""

    refusals = {"view": "Schedules are the compliance team's plan; your own tasks are under My tasks."}

    def visible(self, user, qs):
        return qs if sees_everything(user) else qs.none()

    def sees(self, user, obj):
        return sees_everything(user)

    def may(self, user, action, obj):
        if action == "view":
            return sees_everything(user)
        return is_manager(user)
