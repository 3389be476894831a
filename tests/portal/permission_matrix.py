"""The portal (portal/urls.py): the auditor's pages, the team's engagement pages, audit readiness.

An auditor reaches portal pages only through an engagement open today (engaged_auditor); an auditor without one
gets their landing page and a 404 for any engagement's address. The compliance team opens every portal page of
an engagement as a preview; leadership (viewer) reads the engagement pages and readiness. Each part of the portal
declares its entries in its own module, collected here."""

from isms.foundation.roles import Role
from tests.matrix import OK, Entry
from tests.portal import (
    matrix_browse,
    matrix_engagements,
    matrix_evidence_requests,
    matrix_packs,
    matrix_readiness,
    matrix_samples,
)

MATRIX = [
    Entry("portal:home", {Role.AUDITOR}, expect={"engaged_auditor": OK}),
    *matrix_engagements.MATRIX,
    *matrix_browse.MATRIX,
    *matrix_samples.MATRIX,
    *matrix_evidence_requests.MATRIX,
    *matrix_packs.MATRIX,
    *matrix_readiness.MATRIX,
]
