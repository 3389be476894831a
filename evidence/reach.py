"""Who may see and act on evidence (the one reach rule; see isms.foundation.reach)."""

from django.db.models import Q

from isms.foundation.reach import Rule, is_manager, is_staff_member, register, sees_everything

from .models import ApiToken, EvidenceItem


@register(EvidenceItem)
class EvidenceRule(Rule):
    """Managers and leadership read all evidence, deleted and superseded versions included. Anyone else on the
    staff reads what they submitted, the evidence on their own tasks and on the controls they own. Auditors read
    nothing here: their portal grants an engagement's scope. Correcting is for managers, the submitter and the
    owner of what it is evidence for; deleting is for an administrator only."""

    refusals = {
        "correct": "Only the compliance team, the person who submitted it or its owner can correct this evidence.",
        "delete": "Only an administrator may delete evidence.",
    }

    def visible(self, user, qs):
        if sees_everything(user):
            return qs
        if is_staff_member(user):
            return qs.filter(Q(submitted_by=user) | Q(occurrence__owner=user) | Q(control__owner=user))
        return qs.none()

    def may(self, user, action, obj):
        if action in ("view", "download"):
            return True
        if action == "correct":
            return is_manager(user) or (
                is_staff_member(user)
                and (
                    obj.submitted_by_id == user.pk
                    or (obj.occurrence_id is not None and obj.occurrence.owner_id == user.pk)
                    or (obj.control_id is not None and obj.control.owner_id == user.pk)
                )
            )
        if action == "delete":
            return user.is_admin
        return False


@register(ApiToken)
class ApiTokenRule(Rule):
    """Each person sees and revokes their own API tokens; managers see and revoke everyone's."""

    refusals = {"revoke": "Only the token's owner or the compliance team can revoke it."}

    def visible(self, user, qs):
        if is_manager(user):
            return qs
        return qs.filter(user=user) if is_staff_member(user) else qs.none()

    def may(self, user, action, obj):
        if action in ("view", "revoke"):
            return is_manager(user) or (is_staff_member(user) and obj.user_id == user.pk)
        if action == "create":
            return is_staff_member(user)
        return False
