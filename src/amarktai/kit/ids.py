"""Identifiers: random, URL-safe, sortable by creation time (ULID-like).

An id is 26 Crockford base32 digits (lower case) of a 130-bit number: a 48-bit
millisecond timestamp (10 digits, two leading zero bits) then 80 random bits (16 digits).
The random half lands on whole digits, so it is written as 16 independent random digits,
each the low 5 bits of a random byte mapped by `bytes.translate` (256 = 8 * 32, so each
digit is uniform): the same ids as encoding 80 random bits, without a Python loop per
digit. The ledger mints one id per posting row, so `new_ids` also reads the clock and
the OS random source once for a whole batch.
"""

from __future__ import annotations

import os
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]  # 10 bits -> two digits
_STAMP_SHIFTS = (40, 30, 20, 10, 0)  # a 48-bit millisecond count as 5 pairs (50 bits)
_DIGIT_OF_BYTE = bytes(ord(_ALPHABET[byte % 32]) for byte in range(256))
RANDOM_DIGITS = 16  # 80 bits


def stamp(millis: int) -> str:
    """The 10 leading digits of every id minted in this millisecond."""
    return "".join([_PAIRS[(millis >> shift) & 1023] for shift in _STAMP_SHIFTS])


def random_digits(noise: bytes) -> str:
    """One random digit per byte of `noise` (its low 5 bits)."""
    return noise.translate(_DIGIT_OF_BYTE).decode("ascii")


def new_id() -> str:
    """26-char id: 48-bit millisecond timestamp + 80 random bits, Crockford base32 (lower)."""
    return new_ids(1)[0]


def new_ids(count: int) -> list[str]:
    """`count` ids, as `count` calls of `new_id` within one millisecond would mint them."""
    prefix = stamp(int(time.time() * 1000))
    digits = random_digits(os.urandom(RANDOM_DIGITS * count))
    return [
        prefix + digits[start : start + RANDOM_DIGITS]
        for start in range(0, RANDOM_DIGITS * count, RANDOM_DIGITS)
    ]
