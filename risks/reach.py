"""Who may see and act on risks and what hangs on them (the one reach rule; see isms.foundation.reach).

Managers and leadership read the whole register; a control owner reads the risks they own and their
department's, and changes and reviews the ones they own. Only the named approver with the authority under the
risk criteria decides an acceptance or an exception, never the person who asked for it. Auditors see nothing
here until an engagement grants it."""

from django.db.models import Q

from isms.foundation.reach import Rule, is_manager, is_staff_member, may_own_work, register, sees_everything

from .models import Acceptance, Assessment, ControlException, Decision, Matrix, PlanVersion, Risk, TreatmentAction

OWNER_ACTIONS = ("edit", "review", "request_review", "request_acceptance", "add_action")


def _risk_filter(user, prefix: str = "") -> Q:
    query = Q(**{f"{prefix}owner": user})
    if user.department_id:
        query |= Q(**{f"{prefix}department_id": user.department_id})
    return query


def _sees_risk(user, risk: Risk) -> bool:
    if sees_everything(user):
        return True
    return is_staff_member(user) and (
        risk.owner_id == user.pk or (user.department_id is not None and risk.department_id == user.department_id)
    )


@register(Risk)
class RiskRule(Rule):
    refusals = {
        "edit": "Only the risk's owner or the compliance team can change it.",
        "review": "Only the risk's owner or the compliance team can record its review.",
        "request_review": "Only the risk's owner or the compliance team can ask for a review.",
        "request_acceptance": "Only the risk's owner or the compliance team can ask for its acceptance.",
        "add_action": "Only the risk's owner or the compliance team can add treatment actions.",
        "create": "Only the compliance team adds risks to the register.",
    }

    def visible(self, user, qs):
        if sees_everything(user):
            return qs
        if not is_staff_member(user):
            return qs.none()
        return qs.filter(_risk_filter(user))

    def sees(self, user, obj):
        return _sees_risk(user, obj)

    def may(self, user, action, obj):
        if action == "view":
            return is_staff_member(user)
        if action in OWNER_ACTIONS:
            return is_manager(user) or (isinstance(obj, Risk) and obj.owner_id == user.pk and may_own_work(user))
        return is_manager(user)  # create, import, configure


class _ThroughRisk(Rule):
    """Objects of one risk are seen by whoever sees the risk."""

    def visible(self, user, qs):
        if sees_everything(user):
            return qs
        if not is_staff_member(user):
            return qs.none()
        return qs.filter(_risk_filter(user, "risk__"))

    def sees(self, user, obj):
        return _sees_risk(user, obj.risk)


@register(Assessment)
class AssessmentRule(_ThroughRisk):
    pass


@register(TreatmentAction)
class TreatmentActionRule(_ThroughRisk):
    pass


@register(Acceptance)
class AcceptanceRule(_ThroughRisk):
    """The named approver decides, if they still have the authority and did not ask for it themselves. The
    approver sees the acceptances they are asked to decide, whatever the risk's department."""

    def visible(self, user, qs):
        if sees_everything(user) or not is_staff_member(user):
            return super().visible(user, qs)
        return qs.filter(_risk_filter(user, "risk__") | Q(approver=user))

    def sees(self, user, obj):
        return obj.approver_id == user.pk or super().sees(user, obj)

    def may(self, user, action, obj):
        if action == "decide":
            from .services import has_authority

            return (
                isinstance(obj, Acceptance)
                and obj.state == Decision.REQUESTED
                and obj.approver_id == user.pk
                and obj.requested_by_id != user.pk
                and has_authority(user, department_id=obj.risk.owner.department_id)
            )
        return super().may(user, action, obj)

    def refusal(self, user, action, obj):
        if action == "decide" and isinstance(obj, Acceptance):
            if obj.requested_by_id == user.pk:
                return "You asked for this acceptance, so you cannot approve it: the named approver decides."
            if obj.approver_id != user.pk:
                return f"Only the named approver, {obj.approver}, can decide this acceptance."
            if obj.state != Decision.REQUESTED:
                return f"This acceptance is already {obj.get_state_display().lower()}."
            return "You no longer have the authority to approve acceptances under the risk criteria."
        return super().refusal(user, action, obj)


@register(ControlException)
class ControlExceptionRule(Rule):
    """Every staff member reads exceptions (they show on the control, which all staff read). The compliance team
    and the control's owner ask for one; only the named approver with the authority decides."""

    refusals = {"create": "Only the control's owner or the compliance team can ask for an exception to it."}

    def may(self, user, action, obj):
        if action == "view":
            return is_staff_member(user)
        if action == "decide":
            from .services import has_authority

            return (
                isinstance(obj, ControlException)
                and obj.state == Decision.REQUESTED
                and obj.approver_id == user.pk
                and obj.requested_by_id != user.pk
                and has_authority(user, department_id=obj.control.owner.department_id)
            )
        return is_manager(user)

    def refusal(self, user, action, obj):
        if action == "decide" and isinstance(obj, ControlException):
            if obj.requested_by_id == user.pk:
                return "You asked for this exception, so you cannot approve it: the named approver decides."
            if obj.approver_id != user.pk:
                return f"Only the named approver, {obj.approver}, can decide this exception."
            return f"This exception is already {obj.get_state_display().lower()}."
        return super().refusal(user, action, obj)


@register(Matrix)
class MatrixRule(Rule):
    """Every staff member reads the risk criteria; the compliance team changes them (as a new version)."""

    refusals = {"configure": "Only the compliance team can change the risk criteria."}

    def sees(self, user, obj):
        return is_staff_member(user)


@register(PlanVersion)
class PlanVersionRule(Rule):
    """Every staff member reads the treatment plan's versions; the compliance team freezes one for approval and
    each risk owner in it approves their part."""

    refusals = {"freeze": "Only the compliance team can put the treatment plan up for approval."}

    def sees(self, user, obj):
        return is_staff_member(user)

    def may(self, user, action, obj):
        if action == "sign":
            return (
                isinstance(obj, PlanVersion)
                and may_own_work(user)
                and obj.signoffs.filter(owner=user, signed_at__isnull=True).exists()
            )
        return super().may(user, action, obj)

    def refusal(self, user, action, obj):
        if action == "sign":
            return "Only an owner of a risk in this version approves it, once."
        return super().refusal(user, action, obj)
