"""The risk register (risks/urls.py)."""

from isms.foundation.roles import STAFF
from tests.matrix import Entry

MATRIX: list[Entry] = [
    Entry("risks:index", STAFF),
]
