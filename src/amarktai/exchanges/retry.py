"""Retries only where a retry is safe.

A read (ticker, book, balances, an order's status) may be sent again after a transient
failure. An order may not: a timeout or dropped connection does not say whether the
venue placed it, so resending could buy twice. `place_once` therefore looks the order up
by its client order id first and resends (with the same id) only when the venue says it
does not have it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from amarktai.exchanges.errors import (
    ExchangeError,
    OrderNotFound,
    VenueRateLimited,
    VenueTimeout,
    VenueUnavailable,
)

T = TypeVar("T")


async def retry_read(
    call: Callable[[], Awaitable[T]],
    *,
    attempts: int = 3,
    base_delay_s: float = 0.25,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run a read, retrying retryable venue errors with exponential back-off (honouring a
    venue's Retry-After). Non-retryable errors (auth, invalid) raise at once."""
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except ExchangeError as exc:
            if not exc.retryable or attempt == attempts:
                raise
            delay = base_delay_s * 2 ** (attempt - 1)
            if isinstance(exc, VenueRateLimited) and exc.retry_after_s:
                delay = max(delay, exc.retry_after_s)
            await sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


async def place_once(
    submit: Callable[[], Awaitable[T]],
    lookup: Callable[[], Awaitable[T]],
    *,
    attempts: int = 3,
    base_delay_s: float = 0.25,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Submit an order (same client order id every time) at most until the venue has it.

    After a timeout or an unavailable venue, ask for the order by its client id: found
    means it was placed (return it); `OrderNotFound` means it was not, so resend. Any
    other error, and a rate limit before anything was sent, propagates."""
    for attempt in range(1, attempts + 1):
        try:
            return await submit()
        except (VenueTimeout, VenueUnavailable):
            if attempt == attempts:
                raise
            await sleep(base_delay_s * 2 ** (attempt - 1))
            try:
                return await retry_read(lookup, sleep=sleep)
            except OrderNotFound:
                continue
    raise AssertionError("unreachable")  # pragma: no cover
