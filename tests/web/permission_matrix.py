"""The top web layer's URLs (isms/urls.py): dashboard, health, robots; and the admin site's index."""

from isms.foundation.roles import ALL, Role
from tests.matrix import PUBLIC, Entry

MATRIX: list[Entry] = [
    Entry("dashboard", ALL),
    Entry("health", PUBLIC),
    Entry("robots", PUBLIC),
    # Django admin's own model pages are guarded by the admin site as a whole (checked here through its index):
    # signed out, it sends you to our login page; signed in without the administrator role, the 403 page (it used
    # to send you to the login page, which sent you back: "too many redirects").
    Entry("admin:index", frozenset({Role.ADMIN})),
]
