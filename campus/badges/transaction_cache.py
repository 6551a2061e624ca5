"""What a transaction has already read and will read again: a bulk award of 10,000 badges asks
for the same signing keys and milestone list with every award.

Kept in the session and only for its current transaction: the next transaction (which may see
a key rotation or a badge sync made elsewhere) starts empty.
"""

from __future__ import annotations

from typing import Any

from campus.extensions import db


def in_transaction(name: str) -> dict[Any, Any]:
    """The session's dict named `name` for its current transaction (a throwaway outside one)."""
    session = db.session()
    transaction = session.get_transaction()
    if transaction is None:
        return {}
    held = session.info.get(name)
    if held is None or held[0] is not transaction:
        held = session.info[name] = (transaction, {})
    return held[1]
