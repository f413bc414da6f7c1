"""The shared request budget never exceeds its rate, and retries happen only where a
retry cannot place an order twice."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amarktai.exchanges.budget import RequestBudget, shared_budget
from amarktai.exchanges.errors import (
    ExchangeAuthError,
    OrderNotFound,
    VenueRateLimited,
    VenueTimeout,
)
from amarktai.exchanges.retry import place_once, retry_read


class FakeTime:
    """Virtual time: sleeping advances it, so the test measures the budget, not the host."""

    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.t += s


@given(st.floats(0.5, 50), st.integers(1, 20), st.integers(1, 200))
def test_no_window_ever_exceeds_burst_plus_rate(rate: float, capacity: int, calls: int) -> None:
    clock = FakeTime()
    budget = RequestBudget(rate, capacity, monotonic=clock.monotonic, sleep=clock.sleep)
    stamps: list[float] = []

    async def run() -> None:
        for _ in range(calls):
            await budget.acquire()
            stamps.append(clock.t)

    asyncio.run(run())
    # over any interval [a, b], at most capacity + rate * (b - a) calls (+ rounding)
    for i, a in enumerate(stamps):
        for j in range(i, len(stamps)):
            assert j - i + 1 <= capacity + rate * (stamps[j] - a) + 1e-6
    assert budget.used == calls


def test_concurrent_callers_share_one_bucket() -> None:
    clock = FakeTime()
    budget = RequestBudget(10, 5, monotonic=clock.monotonic, sleep=clock.sleep)

    async def run() -> None:
        await asyncio.gather(*(budget.acquire() for _ in range(25)))

    asyncio.run(run())
    assert clock.t == pytest.approx(2.0)  # 5 at once, then 20 at 10/s


def test_shared_budget_is_one_per_venue_and_key() -> None:
    a = shared_budget("valr", "k1", 10, 10)
    assert shared_budget("valr", "k1", 99, 99) is a
    assert shared_budget("valr", "k2", 10, 10) is not a
    with pytest.raises(ValueError):
        RequestBudget(0, 1)


def test_reads_retry_transient_errors_and_honour_retry_after() -> None:
    clock = FakeTime()
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise VenueTimeout("slow", venue="x")
        if calls == 2:
            raise VenueRateLimited("slow down", venue="x", retry_after_s=3)
        return "ok"

    assert asyncio.run(retry_read(flaky, sleep=clock.sleep)) == "ok"
    assert clock.sleeps == [0.25, 3]


def test_reads_do_not_retry_an_auth_error() -> None:
    calls = 0

    async def refused() -> str:
        nonlocal calls
        calls += 1
        raise ExchangeAuthError("bad key", venue="x")

    with pytest.raises(ExchangeAuthError):
        asyncio.run(retry_read(refused, sleep=FakeTime().sleep))
    assert calls == 1


def test_an_order_that_timed_out_but_was_placed_is_not_sent_again() -> None:
    sent = 0

    async def submit() -> str:
        nonlocal sent
        sent += 1
        raise VenueTimeout("no answer", venue="x")

    async def lookup() -> str:
        return "the order"

    assert asyncio.run(place_once(submit, lookup, sleep=FakeTime().sleep)) == "the order"
    assert sent == 1


def test_an_order_the_venue_never_got_is_resent_with_the_same_id() -> None:
    sent = 0

    async def submit() -> str:
        nonlocal sent
        sent += 1
        if sent == 1:
            raise VenueTimeout("no answer", venue="x")
        return "placed"

    async def lookup() -> str:
        raise OrderNotFound("no such order", venue="x")

    assert asyncio.run(place_once(submit, lookup, sleep=FakeTime().sleep)) == "placed"
    assert sent == 2


def test_errors_carry_the_venue_and_its_words() -> None:
    exc = VenueRateLimited(
        "too many requests", venue="valr", venue_message="Rate limit", retry_after_s=2
    )
    assert exc.status == 429 and exc.headers == {"Retry-After": "2"}
    assert exc.details == {"venue": "valr", "venue_message": "Rate limit"}
    assert exc.message == "valr: too many requests"
