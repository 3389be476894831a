"""Who may see and change the organisation, its certificate and its cycle (see isms.foundation.reach): every
staff member reads them; the compliance team changes them. The default rule says exactly that."""

from isms.foundation.reach import Rule, is_staff_member, register

from .models import Certificate, CycleAudit, Organisation


@register(Organisation)
@register(Certificate)
@register(CycleAudit)
class OrganisationRule(Rule):
    def sees(self, user, obj):
        return is_staff_member(user)
