"""What the ledger's hash chain covers: every stored column of an entry and its postings.

Write and verify build the payload from the same function, the writer from the entry it
is about to store and the verifier from the rows it reads back, so any edit to a stored
row (an amount, a running balance, a description, a posting's time) changes the hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from amarktai.kit.hashchain import chain_hash
from amarktai.kit.ids import new_id
from amarktai.ledger.journal import Entry, EntryDraft, PostedLine, decimal_text

LOCK = "ledger"


@dataclass(frozen=True)
class ChainPosting:
    """A posting exactly as stored, redundant columns included."""

    seq: int
    line: int
    ts: datetime
    user_id: str
    account: str
    bot_id: str | None
    asset: str
    amount: Decimal
    balance: Decimal


def postings_of(entry: Entry) -> list[ChainPosting]:
    """The rows an entry is stored as; the repository inserts exactly these."""
    return [
        ChainPosting(
            seq=entry.seq,
            line=line,
            ts=entry.ts,
            user_id=entry.user_id,
            account=posting.account,
            bot_id=posting.bot_id,
            asset=posting.asset,
            amount=posting.amount,
            balance=posting.balance,
        )
        for line, posting in enumerate(entry.postings)
    ]


@lru_cache(maxsize=256)  # an entry's postings share its instant: format it once
def _when(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat()


def _posting(row: ChainPosting) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "line": row.line,
        "ts": _when(row.ts),
        "user_id": row.user_id,
        "account": row.account,
        "bot_id": row.bot_id,
        "asset": row.asset,
        "amount": decimal_text(row.amount),
        "balance": decimal_text(row.balance),
    }


def payload(entry: Entry, postings: Sequence[ChainPosting]) -> dict[str, Any]:
    return {
        "id": entry.id,
        "seq": entry.seq,
        "ts": _when(entry.ts),
        "kind": entry.kind.value,
        "user_id": entry.user_id,
        "bot_id": entry.bot_id,
        "description": entry.description,
        "reverses_id": entry.reverses_id,
        "ref": entry.ref,
        "postings": [_posting(row) for row in postings],
    }


def seal(
    draft: EntryDraft,
    lines: tuple[PostedLine, ...],
    *,
    seq: int,
    prev_hash: str,
    ts: datetime,
) -> tuple[Entry, list[ChainPosting]]:
    """The entry a draft becomes at this place in the chain, hashed, with its stored rows
    (built once here and reused by the insert)."""
    fields: dict[str, Any] = {
        "id": new_id(),
        "seq": seq,
        "ts": ts,
        "kind": draft.kind,
        "user_id": draft.user_id,
        "bot_id": draft.bot_id,
        "description": draft.description,
        "reverses_id": draft.reverses_id,
        "ref": draft.ref,
        "prev_hash": prev_hash,
        "postings": lines,
    }
    unsealed = Entry(hash="", **fields)
    rows = postings_of(unsealed)
    entry = Entry(hash=chain_hash(prev_hash, payload(unsealed, rows)), **fields)
    return entry, rows
