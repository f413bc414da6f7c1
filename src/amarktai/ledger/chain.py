"""What the ledger's hash chain covers: every stored column of an entry and its postings.

The payload is a dict of the entry's stored columns and its posting rows, hashed as
``kit.hashchain.canonical`` writes it (``json.dumps``, keys sorted). The verifier builds
it from the rows it reads back (`payload`), so any edit to a stored row (an amount, a
running balance, a description, a posting's time) changes the hash.

The writer hashes thousands of entries a second, so `seal` writes that same text
directly (`canonical_text`): fixed key order, the JSON encoder's own string escaping,
no dicts. The verifier keeps the ``json.dumps`` reference, so ``ledger verify`` would
flag any entry where the two ever disagreed; the tests prove them byte-equal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from json.encoder import encode_basestring_ascii
from typing import Any, NamedTuple

from amarktai.kit.hashchain import hash_text
from amarktai.kit.ids import new_id
from amarktai.ledger.journal import (
    CONTEXT,
    Entry,
    EntryDraft,
    PostedLine,
    bot_of,
    decimal_text,
)

LOCK = "ledger"
_new = object.__new__


class ChainPosting(NamedTuple):
    """A posting exactly as stored, redundant columns included, in the posting table's
    insert order (a tuple: the verifier and the replay read them by the thousand)."""

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
    """The rows an entry is stored as (the repository's insert writes these values)."""
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


# `canonical(_payload(...))`: keys in sorted order, no spaces. `%d` writes an int as
# json.dumps does (seq and line are always ints: the chain's counter, a line's index).
# Amounts are written unescaped: `decimal_text` yields only digits, "-", "." (or the
# letters of NaN/Infinity), none of which JSON escapes.
_ENTRY_JSON = (
    '{"bot_id":%s,"description":%s,"id":%s,"kind":%s,"postings":[%s],"ref":%s,'
    '"reverses_id":%s,"seq":%d,"ts":%s,"user_id":%s}'
)
# A posting is `_line_json`'s opening, amount, middle, balance, its bot_id and "line" key,
# the line, then `_POSTING_TAIL`.
_POSTING_TAIL = ',"seq":%d,"ts":%s,"user_id":%s}'  # the same for every posting of an entry
# json.dumps' own escaping of a string (ensure_ascii, its default), quotes included.
_string = encode_basestring_ascii


def _nullable(value: str | None) -> str:
    return "null" if value is None else _string(value)


@lru_cache(maxsize=1 << 16)  # a few (account, asset) pairs take almost every posting
def _line_json(account: str, asset: str) -> tuple[str, str, str]:
    """A posting's JSON up to its amount, between its amount and its balance, and from
    its balance to the value of its "line" key."""
    opening = '{"account":' + _string(account) + ',"amount":"'
    middle = '","asset":' + _string(asset) + ',"balance":"'
    return opening, middle, '","bot_id":' + _nullable(bot_of(account)) + ',"line":'


def canonical_text(head: Mapping[str, Any], lines: Sequence[PostedLine]) -> str:
    """Exactly ``canonical(_payload(head, _rows(seq, ts, user_id, lines)))`` for the head's
    seq, ts and user_id: the text `seal` hashes, written without the dicts.

    `decimal_text` is written out in the loop (two calls per posting were a sixth of
    this function's cost); the tests hold both to ``json.dumps``."""
    when = _string(_when(head["ts"]))
    user_id = _string(head["user_id"])
    tail = _POSTING_TAIL % (head["seq"], when, user_id)
    postings = []
    for line, posting in enumerate(lines):
        opening, middle, bot = _line_json(posting.account, posting.asset)
        amount = posting.amount.normalize(CONTEXT)
        amount_text = str(amount)
        if "E" in amount_text or "e" in amount_text:  # as `decimal_text`
            amount_text = format(amount, "f")
        balance = posting.balance.normalize(CONTEXT)
        balance_text = str(balance)
        if "E" in balance_text or "e" in balance_text:
            balance_text = format(balance, "f")
        # `line` is enumerate's int: `{line}` writes it as "%d" (and json.dumps) does.
        postings.append(f"{opening}{amount_text}{middle}{balance_text}{bot}{line}{tail}")
    return _ENTRY_JSON % (
        _nullable(head["bot_id"]),
        _string(head["description"]),
        _string(head["id"]),
        _string(head["kind"]._value_),  # `.value`, less the enum property's call
        ",".join(postings),
        _nullable(head["ref"]),
        _nullable(head["reverses_id"]),
        head["seq"],
        when,
        user_id,
    )


def seal(
    draft: EntryDraft,
    lines: tuple[PostedLine, ...],
    *,
    seq: int,
    prev_hash: str,
    ts: datetime,
    entry_id: str | None = None,
) -> Entry:
    """The entry a draft becomes at this place in the chain, hashed over the rows it will
    be stored as (`postings_of`). A batch passes ids it minted at once.

    The Entry is built as `journal.new_posting` builds a posting: its fields set straight
    into its instance dict, in the dataclass ``__init__``'s order (twelve
    ``object.__setattr__`` calls cost a tenth of a fill's booking)."""
    entry = _new(Entry)
    fields = entry.__dict__
    fields["id"] = entry_id or new_id()
    fields["seq"] = seq
    fields["ts"] = ts
    fields["kind"] = draft.kind
    fields["user_id"] = draft.user_id
    fields["bot_id"] = draft.bot_id
    fields["description"] = draft.description
    fields["reverses_id"] = draft.reverses_id
    fields["ref"] = draft.ref
    fields["prev_hash"] = prev_hash
    fields["hash"] = hash_text(prev_hash, canonical_text(fields, lines))
    fields["postings"] = lines
    return entry
