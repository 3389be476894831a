"""The role × URL matrix: every URL the app serves, and which roles may use it.

A new URL must be added here, or tests/core/test_role_matrix.py fails. Each entry: the URL name, the HTTP
method, the roles allowed, and a function building the URL's kwargs from the test's objects.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from isms.accounts.roles import ALL, MANAGERS, STAFF, Role

PUBLIC = "public"  # served to anyone, signed in or not


@dataclass(frozen=True)
class Entry:
    name: str
    allowed: frozenset | str
    method: str = "get"
    kwargs: Callable[[dict], dict] = field(default=lambda objs: {})
    data: Callable[[dict], dict] = field(default=lambda objs: {})
    signs_out: bool = False  # the allowed response is a redirect to the login page
    public_ok: tuple = (200, 302)  # for PUBLIC entries: the statuses an unprivileged visitor may get


def _soa_entry(objs: dict):
    """A working SoA line of the Annex A framework "requirement" belongs to."""
    from controls.models import SoAEntry
    from controls.services import soa_entries_ensure

    soa_entries_ensure(objs["requirement"].framework)
    return SoAEntry.objects.get(requirement=objs["requirement"])


def _soa_version(objs: dict):
    """An approved SoA version (the second, so it has a previous one to compare with)."""
    from controls.services import soa_approve

    soa_approve(framework=objs["requirement"].framework, by=objs["compliance"])
    return soa_approve(framework=objs["requirement"].framework, by=objs["compliance"])


MATRIX: list[Entry] = [
    Entry("dashboard", ALL),
    Entry("health", PUBLIC),
    Entry("robots", PUBLIC),
    Entry("login", PUBLIC),
    Entry("logout", ALL, method="post", signs_out=True),
    Entry("password_change", ALL),
    Entry("organisation:detail", STAFF),
    Entry("organisation:edit", MANAGERS),
    Entry("organisation:certificate", MANAGERS),
    Entry("organisation:cycle", STAFF),
    Entry("organisation:cycle_audit_edit", MANAGERS, kwargs=lambda o: {"pk": o["cycle_audit"].pk}),
    Entry("organisation:cycle_audit_reset", MANAGERS, method="post", kwargs=lambda o: {"pk": o["cycle_audit"].pk}),
    Entry("risks:index", STAFF),
    Entry("controls:index", STAFF),
    Entry("controls:create", MANAGERS),
    # "control" is owned by the control owner, who may read and edit it but not adopt activities.
    Entry("controls:detail", STAFF, kwargs=lambda o: {"pk": o["control"].pk}),
    Entry("controls:edit", MANAGERS | {Role.OWNER}, kwargs=lambda o: {"pk": o["control"].pk}),
    Entry("controls:adopt_activity", MANAGERS, kwargs=lambda o: {"pk": o["control"].pk}),
    Entry("controls:frameworks", STAFF),
    Entry("controls:framework", STAFF, kwargs=lambda o: {"code": o["requirement"].framework.code}),
    Entry("controls:requirement", STAFF, kwargs=lambda o: {"pk": o["requirement"].pk}),
    Entry("evidence:index", STAFF),
    Entry("audits:index", STAFF),
    Entry("evidence:portal", MANAGERS | {Role.AUDITOR}),
    Entry("admin:index", frozenset({Role.ADMIN})),
    # The maintenance calendar. "occurrence" belongs to the owner; owners see only their own.
    Entry("maintenance:month", STAFF),
    Entry("maintenance:agenda", STAFF),
    Entry("maintenance:mine", STAFF),
    Entry("maintenance:occurrence", STAFF, kwargs=lambda o: {"pk": o["occurrence"].pk}),
    Entry("maintenance:complete", STAFF - {Role.VIEWER}, method="post", kwargs=lambda o: {"pk": o["occurrence"].pk}),
    Entry("maintenance:reassign", MANAGERS, method="post", kwargs=lambda o: {"pk": o["occurrence"].pk}),
    Entry("maintenance:skip", MANAGERS, method="post", kwargs=lambda o: {"pk": o["occurrence"].pk}),
    Entry("maintenance:reopen", MANAGERS, method="post", kwargs=lambda o: {"pk": o["occurrence"].pk}),
    Entry("maintenance:schedules", MANAGERS | {Role.VIEWER}),
    Entry("maintenance:schedule", MANAGERS | {Role.VIEWER}, kwargs=lambda o: {"pk": o["schedule"].pk}),
    Entry("maintenance:schedule_create", MANAGERS),
    Entry("maintenance:schedule_edit", MANAGERS, kwargs=lambda o: {"pk": o["schedule"].pk}),
    # The task link works without an account; without a link's grant the task page refuses (403).
    Entry("maintenance:task_link", PUBLIC),
    Entry("maintenance:task_link_task", PUBLIC, kwargs=lambda o: {"pk": o["occurrence"].pk}, public_ok=(403,)),
    Entry("evidence:download", STAFF, kwargs=lambda o: {"pk": o["evidence"].pk}),
    # Calendar feeds and the printable year (isms/maintenance/feeds.py). A feed's token is its only key.
    Entry("maintenance:feeds", STAFF),
    Entry("maintenance:feed_regenerate", STAFF, method="post"),
    Entry("maintenance:feed_org_regenerate", MANAGERS, method="post"),
    Entry(
        "maintenance:feed_user_ics",
        PUBLIC,
        kwargs=lambda o: {"token": __import__("isms.maintenance.feeds", fromlist=["_"]).user_feed(o["owner"]).token},
    ),
    Entry(
        "maintenance:feed_org_ics",
        PUBLIC,
        kwargs=lambda o: {"token": __import__("isms.maintenance.feeds", fromlist=["_"]).organisation_feed().token},
    ),
    Entry("maintenance:calendar_pdf", STAFF, kwargs=lambda o: {"year": 2026}),
    # Evidence pages (evidence/views.py). "evidence" is a file on the owner's task, submitted by the owner; owners
    # reach it, viewers read but never add or correct, only administrators delete. Auditors: their portal only.
    Entry("evidence:detail", STAFF, kwargs=lambda o: {"pk": o["evidence"].pk}),
    Entry("evidence:correct", MANAGERS | {Role.OWNER}, kwargs=lambda o: {"pk": o["evidence"].pk}),
    Entry("evidence:delete", frozenset({Role.ADMIN}), kwargs=lambda o: {"pk": o["evidence"].pk}),
    Entry(
        "evidence:create", MANAGERS | {Role.OWNER}, kwargs=lambda o: {"target": "occurrence", "pk": o["occurrence"].pk}
    ),
    Entry("evidence:create", MANAGERS | {Role.OWNER}, kwargs=lambda o: {"target": "control", "pk": o["control"].pk}),
    Entry(
        "evidence:create",
        MANAGERS | {Role.OWNER},
        kwargs=lambda o: {"target": "requirement", "pk": o["requirement"].pk},
    ),
    # Coverage: "control" is the owner's and "requirement" is mapped to it, so the owner sees both.
    Entry("evidence:control_coverage", STAFF, kwargs=lambda o: {"pk": o["control"].pk}),
    Entry("evidence:requirement_coverage", STAFF, kwargs=lambda o: {"pk": o["requirement"].pk}),
    # API tokens (evidence/api/token_views.py): each their own; managers see and may revoke anyone's.
    Entry("api:tokens", STAFF),
    Entry("api:token_create", STAFF),
    Entry(
        "api:token_revoke",
        MANAGERS | {Role.OWNER},
        method="post",
        kwargs=lambda o: {
            "pk": __import__("evidence.api.services", fromlist=["_"])
            .token_create(user=o["owner"], by=o["owner"], name="matrix", scopes=["tasks:read"])[0]
            .pk
        },
    ),
    # The API takes bearer tokens only (tests/api/ checks scopes and reach): a browser session, signed in
    # or not, is always 401. The schema and its docs are public.
    Entry("api:evidence_create", PUBLIC, method="post", public_ok=(401,)),
    Entry("api:evidence_detail", PUBLIC, kwargs=lambda o: {"pk": o["evidence"].pk}, public_ok=(401,)),
    Entry("api:tasks", PUBLIC, public_ok=(401,)),
    Entry("api:task_complete", PUBLIC, method="post", kwargs=lambda o: {"pk": o["occurrence"].pk}, public_ok=(401,)),
    Entry("api:schema", PUBLIC, public_ok=(200,)),
    Entry("api:docs", PUBLIC, public_ok=(200,)),
    # Statement of Applicability (controls/soa_views.py): staff read it and its versions; managers edit and approve.
    Entry("controls:soa", STAFF),
    Entry("controls:soa_entry", STAFF, kwargs=lambda o: {"pk": _soa_entry(o).pk}),
    Entry("controls:soa_entry_edit", MANAGERS, kwargs=lambda o: {"pk": _soa_entry(o).pk}),
    Entry("controls:soa_approve", MANAGERS),
    Entry("controls:soa_approve", MANAGERS, method="post"),
    Entry("controls:soa_versions", STAFF),
    Entry("controls:soa_version", STAFF, kwargs=lambda o: {"pk": _soa_version(o).pk}),
    Entry("controls:soa_diff", STAFF, kwargs=lambda o: {"pk": _soa_version(o).pk}),
    Entry("controls:soa_version_pdf", STAFF, kwargs=lambda o: {"pk": _soa_version(o).pk}),
    Entry("controls:soa_version_csv", STAFF, kwargs=lambda o: {"pk": _soa_version(o).pk}),
    Entry("controls:soa_version_xlsx", STAFF, kwargs=lambda o: {"pk": _soa_version(o).pk}),
]
