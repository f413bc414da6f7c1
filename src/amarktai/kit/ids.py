"""Identifiers: random, URL-safe, sortable by creation time (ULID-like)."""

from __future__ import annotations

import os
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]  # 10 bits -> two digits
_SHIFTS = range(120, -1, -10)


def new_id() -> str:
    """26-char id: 48-bit millisecond timestamp + 80 random bits, Crockford base32 (lower)."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join([_PAIRS[(value >> shift) & 1023] for shift in _SHIFTS])
