"""The top web layer's URLs (isms/urls.py): dashboard, health, robots; and the admin site's index."""

from isms.foundation.roles import ALL, Role
from tests.matrix import LOGIN, PUBLIC, Entry

MATRIX: list[Entry] = [
    Entry("dashboard", ALL),
    Entry("health", PUBLIC),
    Entry("robots", PUBLIC),
    # Django admin's own model pages are guarded by the admin site as a whole (checked here through its index);
    # it sends anyone it refuses to its login page, which forwards to ours.
    Entry("admin:index", frozenset({Role.ADMIN}), refused=LOGIN),
]
