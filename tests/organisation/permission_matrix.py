"""The organisation, its certificate and the certification cycle (isms/organisation/urls.py): staff read,
managers change. A cycle audit belongs to the organisation, not to a person."""

from isms.foundation.roles import MANAGERS, STAFF
from tests.matrix import Entry

MATRIX: list[Entry] = [
    Entry("organisation:detail", STAFF),
    Entry("organisation:edit", MANAGERS),
    Entry("organisation:certificate", MANAGERS),
    Entry("organisation:cycle", STAFF),
    Entry("organisation:cycle_audit_edit", MANAGERS, obj="cycle_audit"),
    Entry("organisation:cycle_audit_reset", MANAGERS, method="post", obj="cycle_audit"),
]
