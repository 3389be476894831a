"""Who may see and change the organisation, its certificate and its cycle (see isms.foundation.reach): every
staff member reads them; the compliance team changes them. The default rule says exactly that."""

from isms.foundation.reach import Rule, register

from .models import Certificate, CycleAudit, Organisation


@register(Organisation)
@register(Certificate)
@register(CycleAudit)
class OrganisationRule(Rule):
    pass
