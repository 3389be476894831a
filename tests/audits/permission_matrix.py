"""Internal audits (audits/urls.py)."""

from isms.foundation.roles import STAFF
from tests.matrix import Entry

MATRIX: list[Entry] = [
    Entry("audits:index", STAFF),
]
