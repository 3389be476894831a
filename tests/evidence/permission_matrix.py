"""Evidence pages (evidence/urls.py), coverage, API token pages and the REST API (evidence/api/urls.py).

Managers and viewers read all evidence. A control owner reads what they submitted, the evidence on their own
tasks and on their own controls; anyone else's is a 404. Managers and the owner add and correct; only
administrators delete. Auditors have their portal only (no engagement here: an outsider to the rest)."""

from isms.foundation.roles import STAFF, Role
from tests.matrix import DENIED, HIDDEN, LOGIN, PUBLIC, Entry, status

# Adding and correcting: any staff member reaches the page; the reach rule then allows the task's or control's
# owner and the compliance team (a viewer who owns a task adds its evidence; on others' objects: 403).
ADDERS = STAFF
VIEWER_REFUSED = {"viewer": DENIED}
# The API answers an auditor's token, like no token at all, with 401: it is for the staff only.
API = {"api": True, "refused": LOGIN}

MATRIX: list[Entry] = [
    Entry("evidence:index", STAFF),
    # The library's filter boxes ask for suggestions (htmx); opened as a page, it sends to the filtered library.
    Entry("evidence:suggest", STAFF, kwargs=lambda _: {"field": "control"}),
    # "evidence": a file the holder submitted on their own task; "control_evidence": a note the compliance
    # manager filed on the holder's control.
    Entry("evidence:detail", STAFF, owned="evidence"),
    Entry("evidence:detail", STAFF, owned="control_evidence"),
    Entry("evidence:download", STAFF, owned="evidence"),
    Entry("evidence:correct", ADDERS, owned="evidence", expect=VIEWER_REFUSED),
    Entry("evidence:correct", ADDERS, owned="control_evidence", expect=VIEWER_REFUSED),
    Entry("evidence:delete", frozenset({Role.ADMIN}), owned="evidence"),
    # Adding evidence: to a task (another owner's task is not visible: 404), to a control or a requirement
    # (visible to all staff; another owner's is refused: 403).
    Entry(
        "evidence:create",
        ADDERS,
        owned="occurrence",
        expect=VIEWER_REFUSED,
        kwargs=lambda occ: {"target": "occurrence", "pk": occ.pk},
    ),
    Entry(
        "evidence:create",
        STAFF,
        obj="viewer_task",
        expect={"owner": HIDDEN, "other_owner": HIDDEN},
        kwargs=lambda occ: {"target": "occurrence", "pk": occ.pk},
    ),
    Entry(
        "evidence:create",
        ADDERS,
        owned="control",
        on_others=DENIED,
        expect=VIEWER_REFUSED,
        kwargs=lambda c: {"target": "control", "pk": c.pk},
    ),
    Entry(
        "evidence:create",
        ADDERS,
        owned="requirement",
        on_others=DENIED,
        expect=VIEWER_REFUSED,
        kwargs=lambda r: {"target": "requirement", "pk": r.pk},
    ),
    # Coverage: an owner sees their own control's, and a requirement's if one of their controls maps to it;
    # another owner's control or requirement is refused (403), though the control itself is visible.
    Entry("evidence:control_coverage", STAFF, owned="control", on_others=DENIED),
    Entry("evidence:requirement_coverage", STAFF, owned="requirement", on_others=DENIED),
    # API tokens (evidence/api/token_views.py): each their own; managers see and may revoke anyone's. Someone
    # else's token is outside a person's reach, so its id answers 404 (the viewer's "own" is the owner's token).
    Entry("api:tokens", STAFF),
    Entry("api:token_create", STAFF),
    Entry("api:token_revoke", STAFF, method="post", owned="token", expect={"viewer": HIDDEN}),
    # The API takes bearer tokens only: each actor sends a token of their own with every scope. (A browser
    # session is never a credential: tests/api/test_tokens.py.) The schema and its docs are public.
    Entry(
        "api:evidence_create",
        STAFF,
        method="post",
        owned="control",
        kwargs=lambda c: {},
        data=lambda c: {"type": "note", "note": "Reviewed", "control": c.pk},
        on_others=DENIED,
        expect={"viewer": DENIED},
        **API,
    ),
    Entry("api:evidence_detail", STAFF, owned="evidence", **API),
    Entry("api:tasks", STAFF, **API),
    Entry(
        "api:task_complete",
        STAFF,
        method="post",
        owned="occurrence",
        data=lambda occ: {"note": "Done"},
        expect={"viewer": DENIED},
        **API,
    ),
    Entry(
        "api:task_complete",
        STAFF,
        method="post",
        obj="viewer_task",
        data=lambda occ: {"note": "Done"},
        **API,
    ),
    Entry("api:schema", PUBLIC, everyone=status(200)),
    Entry("api:docs", PUBLIC, everyone=status(200)),
]
