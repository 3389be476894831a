"""Query helpers every app may use."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from django.core.exceptions import EmptyResultSet
from django.db.models import F, Q
from django.db.models.lookups import Lookup


class _AmongIds(Lookup):
    """`field IN (ids)` written, on PostgreSQL, as `field = ANY(%s)` with the ids as one array parameter.

    The same plan (PostgreSQL reads an IN list as that array, and still combines the indexes of the alternatives
    with a bitmap OR), but hundreds of ids cross Django and the driver as one value instead of one placeholder
    each: Django prepares every element of an IN list one by one, which on the auditor portal's overview (~500
    controls in scope, a dozen such lists) cost more than the queries took (docs/benchmarks.md, Auditor portal).
    Used as an expression, never registered as a lookup."""

    lookup_name = "among_ids"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::bigint[])", (*params, _array_literal(self.rhs))
        ids = _sorted(self.rhs)
        if not ids:
            raise EmptyResultSet
        return f"{lhs} IN ({', '.join(['%s'] * len(ids))})", (*params, *ids)


# The same scope's ids reach a page's queries a dozen times: sorted and written once (a frozenset keeps its hash).
@lru_cache(maxsize=256)
def _sorted(ids: frozenset) -> tuple[int, ...]:
    return tuple(sorted(int(pk) for pk in ids))  # integers only: nothing else reaches the SQL


@lru_cache(maxsize=256)
def _array_literal(ids: frozenset) -> str:
    """The ids as PostgreSQL's array text, one string parameter (the driver writes a list element by element)."""
    return "{" + ",".join(map(str, _sorted(ids))) + "}"


def among(field: str, ids: Iterable[int]) -> Q:
    """The rows whose integer `field` is one of `ids` (hundreds of ids: a scope's controls or requirements)."""
    return Q(_AmongIds(F(field), frozenset(ids)))
