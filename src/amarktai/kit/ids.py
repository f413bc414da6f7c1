"""Identifiers: random, URL-safe, sortable by creation time (ULID-like).

An id is 26 Crockford base32 digits (lower case) of a 130-bit number: a 48-bit
millisecond timestamp (10 digits, two leading zero bits) then 80 random bits (16 digits).
The random half lands on whole digits, so it is written as 16 independent random digits,
each the low 5 bits of a random byte mapped by `bytes.translate` (256 = 8 * 32, so each
digit is uniform): the same ids as encoding 80 random bits, without a Python loop per
digit. The ledger mints one id per posting row, so `new_ids` also reads the clock and
the OS random source once for a whole batch.

`new_id` is called several times per fill outside the ledger (order, fill and trace
rows), one id at a time. It reuses the millisecond's digits while the clock stays in it,
and takes its random digits from a pool filled by one OS read per `POOL` ids (a
``getrandom`` call per id was a third of its cost). The pool holds bytes from the same
source, so an id is exactly as unpredictable; a forked child empties its copy, so parent
and child never hand out the same digits.
"""

from __future__ import annotations

import os
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]  # 10 bits -> two digits
_STAMP_SHIFTS = (40, 30, 20, 10, 0)  # a 48-bit millisecond count as 5 pairs (50 bits)
_DIGIT_OF_BYTE = bytes(ord(_ALPHABET[byte % 32]) for byte in range(256))
RANDOM_DIGITS = 16  # 80 bits
POOL = 256  # random parts read from the OS at once for `new_id`

# Random parts for `new_id`, taken from the end. `list.pop` and `list.extend` are atomic
# under the GIL, so threads never share a part.
_pool: list[str] = []
# (millisecond, its stamp): replaced as one object, so a thread never sees a torn pair.
_last_stamp: tuple[int, str] = (-1, "")

if hasattr(os, "register_at_fork"):  # not on Windows, which cannot fork
    os.register_at_fork(after_in_child=_pool.clear)


def stamp(millis: int) -> str:
    """The 10 leading digits of every id minted in this millisecond."""
    return "".join([_PAIRS[(millis >> shift) & 1023] for shift in _STAMP_SHIFTS])


def random_digits(noise: bytes) -> str:
    """One random digit per byte of `noise` (its low 5 bits)."""
    return noise.translate(_DIGIT_OF_BYTE).decode("ascii")


def _prefix() -> str:
    """`stamp` of the current millisecond, formatted once per millisecond."""
    global _last_stamp
    millis = int(time.time() * 1000)
    last = _last_stamp
    if last[0] == millis:
        return last[1]
    prefix = stamp(millis)
    _last_stamp = (millis, prefix)
    return prefix


def _random_parts(count: int) -> list[str]:
    """`count` random parts of an id from one OS read."""
    digits = random_digits(os.urandom(RANDOM_DIGITS * count))
    return [
        digits[start : start + RANDOM_DIGITS]
        for start in range(0, RANDOM_DIGITS * count, RANDOM_DIGITS)
    ]


def new_id() -> str:
    """26-char id: 48-bit millisecond timestamp + 80 random bits, Crockford base32 (lower)."""
    prefix = _prefix()
    while True:
        try:
            return prefix + _pool.pop()
        except IndexError:  # empty (another thread may empty it again before we pop)
            _pool.extend(_random_parts(POOL))


def new_ids(count: int) -> list[str]:
    """`count` ids, as `count` calls of `new_id` within one millisecond would mint them."""
    prefix = _prefix()
    return [prefix + part for part in _random_parts(count)]
