"""Controls, frameworks and requirements (controls/urls.py), and the Statement of Applicability
(controls/soa_urls.py).

Every staff member reads every control and requirement; managers and the control's owner edit a control
(another owner's control: 403, it is visible); managers adopt activities and edit and approve the SoA."""

from isms.foundation.roles import MANAGERS, STAFF, Role
from tests.matrix import DENIED, OK, Entry

MATRIX: list[Entry] = [
    Entry("controls:index", STAFF),
    Entry("controls:create", MANAGERS),
    Entry("controls:detail", STAFF, owned="control", on_others=OK),
    Entry("controls:edit", MANAGERS | {Role.OWNER}, owned="control", on_others=DENIED),
    Entry("controls:adopt_activity", MANAGERS, owned="control"),
    Entry("controls:frameworks", STAFF),
    Entry("controls:catalogues_load", MANAGERS, method="post"),
    Entry("controls:framework", STAFF, obj="framework", kwargs=lambda framework: {"code": framework.code}),
    Entry("controls:requirement", STAFF, owned="requirement", on_others=OK),
    Entry("controls:soa", STAFF),
    Entry("controls:soa_entry", STAFF, obj="soa_entry"),
    Entry("controls:soa_entry_edit", MANAGERS, obj="soa_entry"),
    Entry("controls:soa_approve", MANAGERS),
    Entry("controls:soa_approve", MANAGERS, method="post"),
    Entry("controls:soa_versions", STAFF),
    Entry("controls:soa_version", STAFF, obj="soa_version"),
    Entry("controls:soa_diff", STAFF, obj="soa_version"),
    Entry("controls:soa_version_pdf", STAFF, obj="soa_version"),
    Entry("controls:soa_version_csv", STAFF, obj="soa_version"),
    Entry("controls:soa_version_xlsx", STAFF, obj="soa_version"),
]
