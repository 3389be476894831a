"""Permission matrix: audit readiness (tests/portal/permission_matrix.py collects it).

The compliance team and leadership (viewer, read-only) open the organisation's readiness page and each
department's; control owners and auditors (with or without an engagement: it is a staff page) get the 403 page."""

from isms.foundation.roles import MANAGERS, Role
from tests.matrix import Entry, kind


@kind("readiness_department")
def _readiness_department(objs, holder):
    """A department whose readiness page is opened."""
    from tests.factories import DepartmentFactory

    return DepartmentFactory(name="Facilities")


READERS = MANAGERS | {Role.VIEWER}

MATRIX: list = [
    Entry("portal:readiness", READERS),
    Entry("portal:readiness_department", READERS, obj="readiness_department"),
]
