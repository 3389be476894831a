"""Who may see and act on the calendar's objects (the one reach rule; see isms.foundation.reach)."""

from isms.foundation.reach import Rule, is_manager, is_staff_member, may_own_work, register, sees_everything

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


def needs_new_owner(occurrence: Occurrence) -> bool:
    """An open or missed task whose owner can no longer act on it (the same rule as the link, notices, feeds and
    the API: `may_own_work`); nobody is reminded of it until the compliance team gives it to someone."""
    return occurrence.is_actionable and not may_own_work(occurrence.owner)


def why_owner_cannot_act(user) -> str:
    """Why `user` can no longer act on the tasks they own, in the compliance team's words ("" if they can)."""
    if may_own_work(user):
        return ""
    if not user.is_active:
        return f"{user}'s account has been deactivated."
    if not is_staff_member(user):
        return f"{user} is now an auditor, outside the organisation's staff."
    return f"{user} has no email address, so cannot be reminded."


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
