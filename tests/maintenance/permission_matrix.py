"""The maintenance calendar (isms/maintenance/urls.py and feeds.py).

Managers and viewers see every occurrence; a control owner sees their own (another's is a 404). Completing
is for managers and the task's owner; reassigning, skipping, reopening and schedules are for managers
(viewers read schedules)."""

from isms.foundation.roles import MANAGERS, STAFF, Role
from isms.maintenance.digests import digest_token
from tests.matrix import DENIED, HIDDEN, PUBLIC, Entry, status


def _reassign_to_someone_else(occ) -> dict:
    """A valid reassignment: to a colleague who can own work, so the manager's request succeeds."""
    from tests.factories import UserFactory

    return {"to": UserFactory(username=f"cover-{occ.pk}", role="owner").pk, "note": "Cover while away"}


MATRIX: list[Entry] = [
    Entry("maintenance:month", STAFF),
    Entry("maintenance:agenda", STAFF),
    Entry("maintenance:mine", STAFF),
    Entry("maintenance:occurrence", STAFF, owned="occurrence"),
    # Viewers see every task but complete only their own (below).
    Entry("maintenance:complete", STAFF, method="post", owned="occurrence", expect={"viewer": DENIED}),
    # A task the viewer owns: the web lets its owner complete it, whatever their staff role. Other owners do
    # not see it (404).
    Entry("maintenance:complete", STAFF, method="post", obj="viewer_task"),
    Entry("maintenance:reassign", MANAGERS, method="post", owned="occurrence", data=_reassign_to_someone_else),
    Entry("maintenance:skip", MANAGERS, method="post", owned="occurrence", data=lambda occ: {"reason": "Retired"}),
    # The task is open, so a manager reaches the action and is told it is already open (400, nothing changed).
    Entry(
        "maintenance:reopen",
        MANAGERS,
        method="post",
        owned="occurrence",
        expect={"admin": status(400), "compliance": status(400)},
    ),
    Entry("maintenance:schedules", MANAGERS | {Role.VIEWER}),
    Entry("maintenance:schedule", MANAGERS | {Role.VIEWER}, owned="schedule"),
    Entry("maintenance:schedule_create", MANAGERS),
    Entry("maintenance:schedule_edit", MANAGERS, owned="schedule"),
    # The task link works without an account; without a link's grant in the session the task page refuses
    # everyone, its owner included (403, its own page).
    Entry("maintenance:task_link", PUBLIC),
    Entry("maintenance:task_link_task", PUBLIC, owned="occurrence", everyone=status(403)),
    # Calendar feeds and the printable year. A feed's token is its only key: anyone holding it gets the feed.
    Entry("maintenance:feeds", STAFF),
    Entry("maintenance:feed_regenerate", STAFF, method="post"),
    Entry("maintenance:feed_org_regenerate", MANAGERS, method="post"),
    # A deactivated user's own feed stops answering (404), whoever holds its token.
    Entry(
        "maintenance:feed_user_ics",
        PUBLIC,
        owned="feed",
        kwargs=lambda feed: {"token": feed.token},
        expect={"inactive": {"own": HIDDEN}},
    ),
    Entry("maintenance:feed_org_ics", PUBLIC, obj="org_feed", kwargs=lambda feed: {"token": feed.token}),
    Entry("maintenance:calendar_pdf", STAFF, kwargs=lambda _: {"year": 2026}),
    # The weekly digest's own link turns it off or on: its signed token is the key, whoever follows it (signed in
    # or not); a deactivated person's link stops working.
    *(
        Entry(
            "maintenance:digests",
            PUBLIC,
            method=method,
            owned="feed",
            kwargs=lambda feed: {"token": digest_token(feed.user)},
            data=lambda feed: {"receive": "off"},
            expect={"inactive": {"own": HIDDEN}},
        )
        for method in ("get", "post")
    ),
]
