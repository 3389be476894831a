"""Permission matrix: the team's engagement pages (tests/portal/permission_matrix.py collects it)."""

from isms.foundation.roles import MANAGERS, Role
from tests.matrix import Entry

MATRIX: list = [
    Entry("portal:engagements", MANAGERS | {Role.VIEWER}),
]
