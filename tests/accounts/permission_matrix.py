"""Sign-in, sign-out and password change (isms/accounts/urls.py)."""

from isms.foundation.roles import ALL
from tests.matrix import PUBLIC, Entry

MATRIX: list[Entry] = [
    Entry("login", PUBLIC),
    Entry("logout", ALL, method="post", signs_out=True),
    Entry("password_change", ALL),
]
