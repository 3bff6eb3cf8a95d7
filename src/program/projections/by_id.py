"""Reading read-model rows by id: one id by ``= $1``, several by ``= ANY($1)``.

A statement the driver prepares is planned for the values it is given for its first five
runs; after that PostgreSQL keeps one generic plan if that plan looks no dearer than the
planned ones. For ``= ANY($1)`` the generic plan guesses ten ids where a lookup usually
brings one, so with joins behind it the generic plan always looks dearer and every call is
planned afresh; on a grown database that planning cost more than the query. A lookup of
one id therefore has its own statement, whose generic plan is kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID


def where_id(select: str, column: str, ids: Iterable[UUID]) -> tuple[str, object]:
    """``select`` limited to rows whose ``column`` is one of ``ids``, and its argument."""
    wanted = list(ids)
    if len(wanted) == 1:
        return f"{select} WHERE {column} = $1::uuid", wanted[0]
    return f"{select} WHERE {column} = ANY($1::uuid[])", wanted
