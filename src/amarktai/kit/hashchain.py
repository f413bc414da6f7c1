"""Hash chains for append-only records (audit log, ledger journal).

One canonical serialisation is shared by every chain so a verifier can recompute any
entry's hash from its stored fields alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from amarktai.kit.money import EXACT

GENESIS = "0" * 64


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # EXACT, not the thread's 28-digit context: a wider amount must hash as written.
        return format(value.normalize(EXACT), "f") if value == value else "NaN"
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot hash {type(value).__name__}")


def canonical(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=_default)


def chain_hash(prev_hash: str, payload: Mapping[str, Any]) -> str:
    return hash_text(prev_hash, canonical(payload))


def hash_text(prev_hash: str, text: str) -> str:
    """`chain_hash` of a payload whose `canonical` text the caller already wrote (a hot
    writer with its own serialiser, proven byte-equal to `canonical` by its tests)."""
    return hashlib.sha256((prev_hash + text).encode()).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    position: int
    entry_id: Any
    reason: str


def verify_chain(entries: Iterable[tuple[Any, Mapping[str, Any], str, str]]) -> ChainBreak | None:
    """Check (id, payload, prev_hash, hash) tuples in order; return the first break."""
    expected_prev = GENESIS
    for position, (entry_id, payload, prev_hash, stored) in enumerate(entries):
        if prev_hash != expected_prev:
            return ChainBreak(position, entry_id, "prev_hash does not match the previous entry")
        if chain_hash(prev_hash, payload) != stored:
            return ChainBreak(position, entry_id, "hash does not match the entry's contents")
        expected_prev = stored
    return None
