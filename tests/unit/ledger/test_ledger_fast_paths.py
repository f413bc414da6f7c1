"""The fill-booking fast paths against the code they replaced: values built without their
dataclass ``__init__`` are the same values, the inlined amount checks refuse exactly what
the per-amount checks refuse (same code, same message, same order), the batch's running
balances and floors are what the generic `_apply` gave, and pooled ids stay distinct,
well-formed and unshared with a forked child."""

from __future__ import annotations

import itertools
import os
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amarktai.kit import ids
from amarktai.kit.errors import DomainError, ValidationFailed
from amarktai.kit.hashchain import GENESIS
from amarktai.ledger import journal, service
from amarktai.ledger.chain import seal
from amarktai.ledger.journal import (
    ZERO,
    Entry,
    EntryDraft,
    Fill,
    Kind,
    PostedLine,
    Posting,
    add,
    bot_account,
    check_amount,
    check_asset,
    check_positive,
    trading_account,
    user_account,
)

D = Decimal
T0 = datetime(2026, 1, 1, tzinfo=UTC)

owners = st.from_regex(r"[A-Za-z0-9_-]{1,26}", fullmatch=True)
accounts = st.one_of(
    st.builds(user_account, st.just("u1"), st.sampled_from(sorted(journal.USER_ACCOUNTS))),
    st.builds(bot_account, owners, st.sampled_from(sorted(journal.BOT_ACCOUNTS - {"trading"}))),
    st.builds(trading_account, owners, st.sampled_from(["BTC", "ETH"]), st.just("ZAR")),
)
assets = st.sampled_from(["BTC", "ZAR", "USD"])
# Storable amounts, and every kind of amount the checks refuse (or a thread context
# rounds): zero, -0, too precise, out of range, 38 digits, NaN, infinities, non-Decimals.
odd_amounts = st.one_of(
    st.decimals(min_value=-(10**20), max_value=10**20, places=18),
    st.decimals(allow_nan=True, allow_infinity=True).filter(lambda d: not d.is_snan()),
    st.sampled_from(
        [
            D(0),
            D("-0"),
            D("0E-30"),
            D("1e-19"),
            D("1E+20"),
            D("-1E+20"),
            D("99999999999999999999.999999999999999999"),
            D("-99999999999999999999.999999999999999999"),
            D("12345678901234567890.123456789012345678"),
        ]
    ),
)
non_decimals = st.one_of(st.integers(), st.floats(allow_nan=False), st.none(), st.text())


def outcome(build: Callable[..., Any], *args: Any) -> object:
    try:
        value = build(*args)
    except DomainError as exc:
        return (type(exc), exc.code, exc.message, exc.details)
    return value


# -- values built without their dataclass __init__ ---------------------------------------


def same_value(fast: object, slow: object) -> None:
    assert type(fast) is type(slow)
    assert fast == slow
    assert hash(fast) == hash(slow)
    assert repr(fast) == repr(slow)
    assert list(vars(fast).items()) == list(vars(slow).items())


@given(accounts, assets, odd_amounts, odd_amounts)
def test_fast_postings_are_the_dataclass_values(
    account: str, asset: str, amount: Decimal, balance: Decimal
) -> None:
    same_value(journal.new_posting(account, asset, amount), Posting(account, asset, amount))
    same_value(
        journal.new_posted_line(account, asset, amount, balance),
        PostedLine(account, asset, amount, balance),
    )
    with pytest.raises(AttributeError):  # still frozen
        journal.new_posting(account, asset, amount).amount = balance


lines = st.lists(
    st.builds(
        PostedLine, accounts, assets, odd_amounts.filter(lambda d: d.is_finite()), st.just(ZERO)
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=200)
@given(owners, st.none() | owners, st.text(max_size=30), st.none() | st.text(max_size=20), lines)
def test_a_sealed_entry_is_the_dataclass_value(
    user_id: str, bot_id: str | None, description: str, ref: str | None, posted: list[PostedLine]
) -> None:
    draft = journal._unvalidated_draft(
        Kind.ADJUSTMENT, user_id, tuple(posted), description, bot_id, ref
    )
    entry = seal(draft, tuple(posted), seq=3, prev_hash=GENESIS, ts=T0, entry_id="e" * 26)
    expected = Entry(
        id="e" * 26,
        seq=3,
        ts=T0,
        kind=Kind.ADJUSTMENT,
        user_id=user_id,
        bot_id=bot_id,
        description=description,
        reverses_id=None,
        ref=ref,
        prev_hash=GENESIS,
        hash=entry.hash,
        postings=tuple(posted),
    )
    same_value(entry, expected)


# -- the inlined amount checks ---------------------------------------------------------


def reference_amounts_and_sums(postings: tuple[Posting, ...]) -> None:
    """`_validate_amounts_and_sums` before its checks were written out."""
    sums: dict[str, Decimal] = {}
    for posting in postings:
        if check_amount(posting.amount) == 0:
            raise ValidationFailed("postings must move a non-zero amount", code="zero_amount")
        sums[posting.asset] = add(sums.get(posting.asset, ZERO), posting.amount)
    journal._validate_sums(sums)


@settings(max_examples=1000)
@given(
    st.lists(st.builds(Posting, accounts, assets, st.one_of(odd_amounts, non_decimals)), max_size=7)
)
def test_the_inlined_amount_checks_refuse_what_the_per_amount_checks_refuse(
    postings: list[Posting],
) -> None:
    def run(check: Callable[[tuple[Posting, ...]], None]) -> object:
        try:
            return outcome(check, tuple(postings))
        except Exception as exc:  # e.g. a NaN compared: whatever it raised before
            return type(exc)

    assert run(journal._validate_amounts_and_sums) == run(reference_amounts_and_sums)


def reference_check_fill(trade: Fill) -> None:
    """`check_fill` before its amount checks were written out."""
    if not re.match(r"^[A-Za-z0-9_-]{1,26}$", trade.bot_id):
        raise ValidationFailed("invalid bot id", code="invalid_bot")
    check_asset(trade.base)
    check_asset(trade.quote)
    if trade.fee_asset is not None:
        check_asset(trade.fee_asset)
    if trade.base == trade.quote:
        raise ValidationFailed("base and quote must differ", code="invalid_pair")
    if trade.side not in ("buy", "sell"):
        raise ValidationFailed("side must be buy or sell", code="invalid_side")
    check_positive(trade.qty, "qty")
    check_positive(trade.price, "price")
    check_amount(trade.fee, "fee")
    if trade.fee < 0:
        raise ValidationFailed("fee cannot be negative", code="invalid_amount")
    if (trade.fee_asset or trade.quote) == trade.base and trade.fee > 0:
        raise ValidationFailed(
            "fees charged in the base asset are not supported; record them in the quote "
            "asset or another cash asset",
            code="fee_in_base_asset",
        )


fill_amounts = st.one_of(odd_amounts, non_decimals)
trades = st.builds(
    Fill,
    bot_id=st.one_of(owners, st.just("not ok"), st.just("")),
    side=st.sampled_from(["buy", "sell", "hold"]),
    base=st.sampled_from(["BTC", "ZAR", "bad"]),
    quote=st.sampled_from(["ZAR", "BTC"]),
    qty=fill_amounts,
    price=fill_amounts,
    fee=fill_amounts,
    fee_asset=st.sampled_from([None, "ZAR", "BTC", "USD"]),
)


@settings(max_examples=1000)
@given(trades)
def test_check_fill_refuses_what_it_refused(trade: Fill) -> None:
    def run(check: Callable[[Fill], None]) -> object:
        try:
            return outcome(check, trade)
        except Exception as exc:
            return type(exc)

    assert run(journal.check_fill) == run(reference_check_fill)


# -- running balances and floors -------------------------------------------------------


def reference_apply(
    draft: EntryDraft, start: dict[tuple[str, str], Decimal | None]
) -> tuple[PostedLine, ...]:
    """`service._apply` before its loop was written out."""
    running = {key: value or ZERO for key, value in start.items()}
    out = []
    for posting in draft.postings:
        key = (posting.account, posting.asset)
        balance = running[key] = add(running[key], posting.amount)
        out.append(PostedLine(posting.account, posting.asset, posting.amount, balance))
    for key, final in running.items():
        if final < 0:
            service._check_floor(*key, start[key] or ZERO, final)
    return tuple(out)


balances = st.none() | st.decimals(min_value=-1000, max_value=1000, places=8)
fill_trades = st.builds(
    Fill,
    bot_id=st.just("b1"),
    side=st.sampled_from(["buy", "sell"]),
    base=st.just("BTC"),
    quote=st.just("ZAR"),
    qty=st.decimals(min_value=D("0.00000001"), max_value=10, places=8),
    price=st.decimals(min_value=D("0.01"), max_value=1000, places=2),
    fee=st.sampled_from([D(0), D("0.5"), D("1.25")]),
    fee_asset=st.sampled_from([None, "USD"]),
)


@settings(max_examples=500)
@given(fill_trades, st.decimals(min_value=0, max_value=20, places=8), st.data())
def test_the_batch_balances_and_floors_are_what_they_were(
    trade: Fill, held: Decimal, data: st.DataObject
) -> None:
    position = journal.Position(held, held * 3)
    try:
        draft = journal.fill("u1", trade, position)
    except DomainError:
        return
    keys = service._keys(draft)
    running = {("u1", *key): data.draw(balances) for key in keys}
    batch = service._Batch(dict(running), {}, None, T0, ["e" * 26])
    start = batch.start(draft)
    assert list(start.items()) == [(key, running[("u1", *key)]) for key in keys]
    fast, slow = outcome(service._apply, draft, start), outcome(reference_apply, draft, start)
    if isinstance(slow, tuple) and slow and isinstance(slow[0], PostedLine):
        assert isinstance(fast, tuple)
        for got, want in zip(fast, slow, strict=True):
            same_value(got, want)
    else:
        assert fast == slow


# -- ids ---------------------------------------------------------------------------------


def test_pooled_ids_are_distinct_well_formed_and_refilled() -> None:
    ids._pool.clear()
    minted = [ids.new_id() for _ in range(3 * ids.POOL + 5)]  # three refills and more
    assert len(set(minted)) == len(minted)
    assert all(re.fullmatch(r"[0-9a-hjkmnp-tv-z]{26}", value) for value in minted)
    assert all(value[:10] <= later[:10] for value, later in itertools.pairwise(minted))


@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "win32", reason="no fork")
def test_a_forked_child_never_mints_its_parents_next_id() -> None:
    ids.new_id()  # the pool now holds parts
    parents_next = ids._pool[-1]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: mint one id, report it, leave at once
        try:
            os.write(write, ids.new_id().encode())
        finally:
            os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert len(child) == 26
    assert child[10:] != parents_next
    assert ids.new_id()[10:] == parents_next
