"""What the ledger's hash chain covers: every stored column of an entry and its postings.

Write and verify build the payload from the same function, the writer from the entry it
is about to store and the verifier from the rows it reads back, so any edit to a stored
row (an amount, a running balance, a description, a posting's time) changes the hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from amarktai.kit.hashchain import chain_hash
from amarktai.kit.ids import new_id
from amarktai.ledger.journal import Entry, EntryDraft, PostedLine, bot_of, decimal_text

LOCK = "ledger"


class ChainPosting(NamedTuple):
    """A posting exactly as stored, redundant columns included (a tuple: thousands are
    built per second on the engine's hot path, and the insert takes them as they are)."""

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
    return _rows(entry.seq, entry.ts, entry.user_id, entry.postings)


def _rows(seq: int, ts: datetime, user_id: str, lines: Sequence[PostedLine]) -> list[ChainPosting]:
    return [
        ChainPosting(
            seq, line, ts, user_id, p.account, bot_of(p.account), p.asset, p.amount, p.balance
        )
        for line, p in enumerate(lines)
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
    return _payload(vars(entry), postings)


def _payload(head: dict[str, Any], postings: Sequence[ChainPosting]) -> dict[str, Any]:
    return {
        "id": head["id"],
        "seq": head["seq"],
        "ts": _when(head["ts"]),
        "kind": head["kind"].value,
        "user_id": head["user_id"],
        "bot_id": head["bot_id"],
        "description": head["description"],
        "reverses_id": head["reverses_id"],
        "ref": head["ref"],
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
    rows = _rows(seq, ts, draft.user_id, lines)
    entry = Entry(hash=chain_hash(prev_hash, _payload(fields, rows)), **fields)
    return entry, rows
