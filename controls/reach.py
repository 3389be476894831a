"""Who may see and act on controls, requirements and the SoA (the one reach rule; see isms.foundation.reach)."""

from isms.foundation.reach import Rule, is_manager, is_staff_member, may_own_work, register, sees_everything

from .models import Control, Framework, Requirement, SoAEntry, SoAVersion


@register(Control)
class ControlRule(Rule):
    """Every staff member reads the controls. The compliance team changes any; a control's owner updates their
    own (not its owner) and adds its evidence. Coverage (the record of its activities and evidence) is shown to
    managers, leadership and the control's owner."""

    refusals = {
        "edit": "Only the control's owner or the compliance team can change it.",
        "add_evidence": "Only the control's owner or the compliance team can add evidence to it.",
        "view_coverage": "Only the control's owner, leadership or the compliance team can see its coverage.",
    }

    def may(self, user, action, obj):
        if action == "view":
            return super().may(user, action, obj)
        if action in ("edit", "add_evidence"):
            return is_manager(user) or (isinstance(obj, Control) and obj.owner_id == user.pk and may_own_work(user))
        # "assign_owner", "adopt_activity", "create": the compliance team's
        if action == "view_coverage":
            return sees_everything(user) or (isinstance(obj, Control) and obj.owner_id == user.pk)
        return is_manager(user)

    def refusal(self, user, action, obj):
        if action == "add_evidence" and isinstance(obj, Control):
            if not is_staff_member(user):
                return f"Your role ({user.get_role_display()}) cannot add evidence."
            return (
                f"You do not own control {obj.reference}: only its owner or the compliance team can add evidence to it."
            )
        return super().refusal(user, action, obj)

    @staticmethod
    def with_coverage_visible(user, qs):
        """The controls whose coverage `user` may see (managers and leadership: all; others: their own)."""
        return qs if sees_everything(user) else qs.filter(owner=user)


@register(Requirement)
class RequirementRule(Rule):
    """Every staff member reads the catalogues. Evidence for a requirement is added by the compliance team or by
    the owner of a control mapped to it."""

    refusals = {
        "add_evidence": "Only the compliance team or the owner of a control mapped to this requirement can add "
        "evidence to it.",
    }

    refusals = {
        **refusals,
        "view_coverage": "A requirement's coverage is shown to the owners of its controls, leadership and the "
        "compliance team.",
    }

    def may(self, user, action, obj):
        if action == "view":
            return super().may(user, action, obj)
        if action == "view_coverage":
            return sees_everything(user) or (is_staff_member(user) and obj.controls.filter(owner=user).exists())
        if action == "add_evidence":
            return is_manager(user) or (may_own_work(user) and obj.controls.filter(owner=user).exists())
        return is_manager(user)

    def refusal(self, user, action, obj):
        if action == "add_evidence" and isinstance(obj, Requirement):
            return (
                f"None of your controls satisfies requirement {obj.identifier}: only the compliance team or the "
                "owner of a control mapped to it can add evidence to it."
            )
        return super().refusal(user, action, obj)


@register(SoAEntry)
@register(SoAVersion)
class SoARule(Rule):
    """Every staff member reads the Statement of Applicability and its versions; the compliance team edits the
    working lines and approves versions."""

    def sees(self, user, obj):
        return is_staff_member(user)


@register(Framework)
class FrameworkRule(Rule):
    """Every staff member reads the catalogues; the compliance team loads the shipped ones."""

    def sees(self, user, obj):
        return is_staff_member(user)
