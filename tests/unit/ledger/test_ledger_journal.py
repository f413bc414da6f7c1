"""Pure journal rules: balancing per asset, exact amounts, builders, reversal, average cost."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amarktai.kit.errors import Conflict, ValidationFailed
from amarktai.ledger import journal
from amarktai.ledger.journal import (
    Entry,
    EntryDraft,
    Fill,
    Kind,
    Position,
    PostedLine,
    Posting,
    bot_account,
    parse_account,
    trading_account,
    user_account,
)

U, B, B2 = "user1", "bot1", "bot2"
D = Decimal


def sums(draft: EntryDraft) -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(Decimal)
    for posting in draft.postings:  # exact: `+=` would round to the thread's 28 digits
        out[posting.asset] = journal.add(out[posting.asset], posting.amount)
    return dict(out)


def by_account(draft: EntryDraft) -> dict[tuple[str, str], Decimal]:
    out: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for posting in draft.postings:
        key = (posting.account, posting.asset)
        out[key] = journal.add(out[key], posting.amount)
    return dict(out)


def code_of(exc: pytest.ExceptionInfo[Exception]) -> str:
    return str(getattr(exc.value, "code", ""))


def test_unbalanced_entry_is_rejected_per_asset() -> None:
    postings = (
        Posting(user_account(U, "cash"), "ZAR", D(10)),
        Posting(user_account(U, "external"), "BTC", D(-10)),
    )
    with pytest.raises(ValidationFailed) as exc:
        EntryDraft(Kind.ADJUSTMENT, U, postings)
    assert code_of(exc) == "unbalanced_entry"
    assert exc.value.details == {"ZAR": "10", "BTC": "-10"}


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (D("NaN"), "invalid_amount"),
        (D("Infinity"), "invalid_amount"),
        (1.5, "invalid_amount"),
        (D(0), "zero_amount"),
        (D("1e-19"), "amount_too_precise"),
        (D("1e20"), "amount_out_of_range"),
    ],
)
def test_amounts_must_be_finite_exact_storable_decimals(amount: object, code: str) -> None:
    postings = (
        Posting(user_account(U, "cash"), "ZAR", amount),  # type: ignore[arg-type]
        Posting(user_account(U, "external"), "ZAR", D(1)),
    )
    with pytest.raises(ValidationFailed) as exc:
        EntryDraft(Kind.ADJUSTMENT, U, postings)
    assert code_of(exc) == code


def test_empty_entries_and_unknown_accounts_are_rejected() -> None:
    with pytest.raises(ValidationFailed) as exc:
        EntryDraft(Kind.DEPOSIT, U, ())
    assert code_of(exc) == "empty_entry"
    for bad in (
        "cash",
        "user:u:wallet",
        "bot:b:trading",
        "bot:b:trading:BTC",
        "bot:b:cash:BTC",
        "bot::cash",
    ):
        with pytest.raises(ValidationFailed) as exc:
            parse_account(bad)
        assert code_of(exc) == "invalid_account"


def test_a_user_account_of_someone_else_cannot_be_posted_to() -> None:
    postings = (
        Posting(user_account("other", "cash"), "ZAR", D(5)),
        Posting(user_account(U, "cash"), "ZAR", D(-5)),
    )
    with pytest.raises(ValidationFailed) as exc:
        EntryDraft(Kind.TRANSFER, U, postings)
    assert code_of(exc) == "foreign_account"


def test_account_paths_round_trip() -> None:
    path = parse_account(trading_account(B, "BTC", "ZAR"))
    assert (path.scope, path.owner, path.name, path.instrument) == ("bot", B, "trading", "BTC-ZAR")
    assert str(path) == f"bot:{B}:trading:BTC-ZAR"
    assert journal.pair_of(path) == ("BTC", "ZAR")
    assert journal.bot_of(bot_account(B, "cash")) == B
    assert journal.bot_of(user_account(U, "cash")) is None


def test_capital_builders_move_money_between_the_documented_accounts() -> None:
    assert by_account(journal.deposit(U, "ZAR", D(100))) == {
        (user_account(U, "cash"), "ZAR"): D(100),
        (user_account(U, "external"), "ZAR"): D(-100),
    }
    assert by_account(journal.withdrawal(U, "ZAR", D(50), fee=D(2))) == {
        (user_account(U, "external"), "ZAR"): D(50),
        (user_account(U, "cash"), "ZAR"): D(-52),
        (user_account(U, "fees"), "ZAR"): D(2),
    }
    assert by_account(journal.allocate(U, B, "ZAR", D(30))) == {
        (bot_account(B, "cash"), "ZAR"): D(30),
        (user_account(U, "cash"), "ZAR"): D(-30),
    }
    assert by_account(journal.deallocate(U, B, "ZAR", D(30))) == {
        (user_account(U, "cash"), "ZAR"): D(30),
        (bot_account(B, "cash"), "ZAR"): D(-30),
    }
    moved = by_account(journal.transfer(U, B, B2, "ZAR", D(7)))
    assert moved == {(bot_account(B2, "cash"), "ZAR"): D(7), (bot_account(B, "cash"), "ZAR"): D(-7)}
    charged = by_account(journal.fee(U, "ZAR", D(1), bot_id=B))
    assert charged == {
        (bot_account(B, "fees"), "ZAR"): D(1),
        (bot_account(B, "cash"), "ZAR"): D(-1),
    }


@pytest.mark.parametrize(
    "make",
    [
        lambda: journal.deposit(U, "ZAR", D(0)),
        lambda: journal.allocate(U, B, "ZAR", D(-1)),
        lambda: journal.transfer(U, B, B, "ZAR", D(1)),
        lambda: journal.adjustment(U, user_account(U, "cash"), "ZAR", D(1), reason=" "),
        lambda: journal.deposit(U, "zar", D(1)),
    ],
)
def test_builders_refuse_nonsense(make: object) -> None:
    with pytest.raises(ValidationFailed):
        make()  # type: ignore[operator]


def test_buy_fill_moves_cash_into_position_at_cost_and_books_the_fee() -> None:
    trade = Fill(B, "buy", "BTC", "ZAR", qty=D("0.01"), price=D(50000), fee=D(1), ref="f1")
    draft = journal.fill(U, trade)
    assert sums(draft) == {"ZAR": 0, "BTC": 0}
    assert by_account(draft) == {
        (bot_account(B, "cash"), "ZAR"): D(-501),
        (trading_account(B, "BTC", "ZAR"), "ZAR"): D(500),
        (bot_account(B, "position"), "BTC"): D("0.01"),
        (trading_account(B, "BTC", "ZAR"), "BTC"): D("-0.01"),
        (bot_account(B, "fees"), "ZAR"): D(1),
    }
    assert (draft.kind, draft.bot_id, draft.ref) == (Kind.FILL, B, "f1")


def test_sell_fill_realises_pnl_at_average_cost() -> None:
    held = Position(qty=D(3), cost=D(300))
    trade = Fill(B, "sell", "ETH", "ZAR", qty=D(1), price=D(130), fee=D("0.5"))
    got = by_account(journal.fill(U, trade, held))
    assert got == {
        (bot_account(B, "position"), "ETH"): D(-1),
        (trading_account(B, "ETH", "ZAR"), "ETH"): D(1),
        (bot_account(B, "cash"), "ZAR"): D("129.5"),
        (trading_account(B, "ETH", "ZAR"), "ZAR"): D(-100),
        (bot_account(B, "pnl"), "ZAR"): D(-30),
        (bot_account(B, "fees"), "ZAR"): D("0.5"),
    }


def test_closing_a_position_releases_all_cost_so_no_dust_remains() -> None:
    held = Position(qty=D(3), cost=D(100))
    assert held.released_cost(D(1)) == D("33.333333333333333333")
    assert held.released_cost(D(3)) == D(100)


def test_selling_more_than_held_and_base_asset_fees_are_refused() -> None:
    with pytest.raises(Conflict) as exc:
        journal.fill(U, Fill(B, "sell", "BTC", "ZAR", D(2), D(1)), Position(D(1), D(1)))
    assert code_of(exc) == "insufficient_position"
    with pytest.raises(ValidationFailed) as exc:
        journal.fill(U, Fill(B, "buy", "BTC", "ZAR", D(1), D(1), fee=D(1), fee_asset="BTC"))
    assert code_of(exc) == "fee_in_base_asset"


def _stored(draft: EntryDraft, kind: Kind | None = None) -> Entry:
    return Entry(
        id="e1",
        seq=7,
        ts=datetime(2026, 1, 1, tzinfo=UTC),
        kind=kind or draft.kind,
        user_id=draft.user_id,
        bot_id=draft.bot_id,
        description=draft.description,
        reverses_id=None,
        ref=draft.ref,
        prev_hash="0" * 64,
        hash="1" * 64,
        postings=tuple(PostedLine(p.account, p.asset, p.amount, D(0)) for p in draft.postings),
    )


def test_reversal_mirrors_every_posting_and_cannot_be_reversed_again() -> None:
    original = journal.fill(U, Fill(B, "buy", "BTC", "ZAR", D(1), D(10), fee=D(1)))
    undo = journal.reversal(_stored(original), "wrong price")
    assert undo.kind == Kind.REVERSAL and undo.reverses_id == "e1" and undo.ref == "e1"
    merged = by_account(original)
    for key, amount in by_account(undo).items():
        merged[key] += amount
    assert set(merged.values()) == {0}
    with pytest.raises(Conflict) as exc:
        journal.reversal(_stored(undo, Kind.REVERSAL), "again")
    assert code_of(exc) == "cannot_reverse_reversal"


def test_reverses_id_only_on_reversals() -> None:
    postings = journal.deposit(U, "ZAR", D(1)).postings
    with pytest.raises(ValidationFailed) as exc:
        EntryDraft(Kind.DEPOSIT, U, postings, reverses_id="x")
    assert code_of(exc) == "invalid_reversal"


amounts = st.decimals(min_value=D("0.000001"), max_value=D("1000000"), places=6)
assets = st.sampled_from(["ZAR", "BTC", "ETH", "USDT"])


@settings(max_examples=200)
@given(st.lists(st.tuples(assets, amounts), min_size=1, max_size=8), st.data())
def test_any_balanced_set_is_accepted_and_any_nudge_is_rejected(
    legs: list[tuple[str, Decimal]], data: st.DataObject
) -> None:
    postings: list[Posting] = []
    for asset, amount in legs:
        postings += [
            Posting(bot_account(B, "cash"), asset, amount),
            Posting(user_account(U, "cash"), asset, -amount),
        ]
    EntryDraft(Kind.ALLOCATION, U, tuple(postings))
    index = data.draw(st.integers(0, len(postings) - 1))
    nudged = list(postings)
    target = nudged[index]
    nudged[index] = Posting(target.account, target.asset, target.amount + D("0.0000005"))
    with pytest.raises(ValidationFailed) as exc:
        EntryDraft(Kind.ALLOCATION, U, tuple(nudged))
    assert code_of(exc) == "unbalanced_entry"


@settings(max_examples=200)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["buy", "sell"]),
            st.decimals(min_value=D("0.0001"), max_value=D(5), places=4),
            st.decimals(min_value=D("0.01"), max_value=D(100000), places=2),
        ),
        max_size=20,
    )
)
def test_average_cost_keeps_cost_basis_consistent(trades: list[tuple[str, D, D]]) -> None:
    """Position and cost evolve from the drafts alone; basis is zero exactly when flat."""
    held = Position()
    for side, qty, price in trades:
        if side == "sell" and qty > held.qty:
            continue
        draft = journal.fill(U, Fill(B, side, "BTC", "ZAR", qty, price), held)  # type: ignore[arg-type]
        assert set(sums(draft).values()) == {0}
        moves = by_account(draft)
        held = Position(
            held.qty + moves.get((bot_account(B, "position"), "BTC"), D(0)),
            held.cost + moves.get((trading_account(B, "BTC", "ZAR"), "ZAR"), D(0)),
        )
        assert held.qty >= 0 and held.cost >= 0
        assert (held.qty == 0) == (held.cost == 0)


def test_amounts_longer_than_the_default_28_digits_still_balance_exactly() -> None:
    """A mirror line is the exact negative: the unary minus would round 29+ digits in
    the thread's 28-digit context and leave the entry unbalanced."""
    qty = D("12345678901.123456789012345678")  # 29 significant digits, storable
    bought = journal.fill(U, Fill(B, "buy", "ETH", "ZAR", qty=qty, price=D(1), fee=qty))
    assert sums(bought) == {"ZAR": 0, "ETH": 0}
    assert by_account(bought)[(trading_account(B, "ETH", "ZAR"), "ETH")] == D(
        "-12345678901.123456789012345678"
    )
    sold = journal.fill(U, Fill(B, "sell", "ETH", "ZAR", qty, D(2)), Position(qty, qty))
    assert sums(sold) == {"ZAR": 0, "ETH": 0}
    assert by_account(sold)[(bot_account(B, "pnl"), "ZAR")] == qty.copy_negate()
    posted = tuple(PostedLine(p.account, p.asset, p.amount) for p in bought.postings)
    entry = Entry(
        "e1", 1, datetime(2026, 1, 1, tzinfo=UTC), bought.kind, U, bought.bot_id,
        bought.description, None, bought.ref, "0" * 64, "1" * 64, posted,
    )  # fmt: skip
    assert sums(journal.reversal(entry, "typo")) == {"ZAR": 0, "ETH": 0}


def test_the_range_check_is_exact_up_to_numeric_38_18() -> None:
    largest = D("99999999999999999999.999999999999999999")  # 38 digits, just below 1e20
    assert journal.check_amount(largest) is largest
    assert journal.check_amount(largest.copy_negate()) == largest.copy_negate()
    with pytest.raises(ValidationFailed) as exc:
        journal.check_amount(D("1E20"))
    assert code_of(exc) == "amount_out_of_range"
