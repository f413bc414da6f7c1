"""The fill-booking hot path against its references: the hand-written canonical JSON is
byte-equal to ``json.dumps``, `decimal_text` to its defining formula, batch-minted ids to
the bit-by-bit encoding, and `checked_fill` (which skips the generic validation) refuses
exactly what the validating ``EntryDraft`` constructor refuses, with the same errors."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from amarktai.kit import ids
from amarktai.kit.errors import DomainError, ValidationFailed
from amarktai.kit.hashchain import GENESIS, canonical, chain_hash
from amarktai.ledger import journal, repository
from amarktai.ledger.chain import (
    ChainPosting,
    _payload,
    _rows,
    canonical_text,
    payload,
    postings_of,
    seal,
)
from amarktai.ledger.journal import (
    CONTEXT,
    EntryDraft,
    Fill,
    Kind,
    Position,
    PostedLine,
    bot_account,
    decimal_text,
    trading_account,
    user_account,
)

D = Decimal
T0 = datetime(2026, 1, 1, tzinfo=UTC)

# Any text JSON must escape: quotes, backslashes, control characters, non-ASCII, and lone
# surrogates (which json.dumps writes as \\udxxx escapes).
any_text = st.text(st.characters(exclude_categories=()), max_size=40)
owners = st.from_regex(r"[A-Za-z0-9_-]{1,26}", fullmatch=True)
accounts = st.one_of(
    st.builds(user_account, owners, st.sampled_from(sorted(journal.USER_ACCOUNTS))),
    st.builds(bot_account, owners, st.sampled_from(sorted(journal.BOT_ACCOUNTS - {"trading"}))),
    st.builds(trading_account, owners, st.sampled_from(["BTC", "ETH"]), st.just("ZAR")),
)
# Every Decimal a row may hold, down to the odd ones (-0, exponents, huge precision);
# a signalling NaN is left out, as it raises in `decimal_text` before any text exists.
any_decimal = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).filter(lambda d: not d.is_snan()),
    st.decimals(min_value=-(10**20), max_value=10**20, places=18),
    st.builds(
        lambda digits, exponent, negative: D((negative, tuple(digits), exponent)),
        st.lists(st.integers(0, 9), min_size=1, max_size=80),
        st.integers(-120, 120),
        st.integers(0, 1),
    ),
)
offsets = st.timedeltas(min_value=-timedelta(hours=23), max_value=timedelta(hours=23))
instants = st.datetimes(
    min_value=datetime(1971, 1, 1),
    max_value=datetime(2200, 1, 1),
    timezones=st.one_of(
        st.just(UTC),
        st.builds(
            timezone, st.timedeltas(min_value=-timedelta(hours=23), max_value=timedelta(hours=23))
        ),
    ),
)
lines = st.lists(
    st.builds(PostedLine, accounts, any_text, any_decimal, any_decimal), min_size=1, max_size=8
)
heads = st.fixed_dictionaries(
    {
        "id": any_text,
        "seq": st.integers(0, 2**63),
        "ts": instants,
        "kind": st.sampled_from(Kind),
        "user_id": any_text,
        "bot_id": st.none() | any_text,
        "description": any_text,
        "reverses_id": st.none() | any_text,
        "ref": st.none() | any_text,
    }
)


@settings(max_examples=500)
@given(heads, lines)
def test_canonical_text_is_byte_equal_to_the_json_dumps_reference(
    head: dict[str, Any], posted: list[PostedLine]
) -> None:
    rows = _rows(head["seq"], head["ts"], head["user_id"], posted)
    assert canonical_text(head, posted) == canonical(_payload(head, rows))


@settings(max_examples=200)
@given(owners, owners, any_text, st.none() | any_text, st.integers(0, 2**40), lines)
def test_a_sealed_hash_is_what_verify_recomputes_from_the_stored_rows(
    user_id: str,
    bot_id: str,
    description: str,
    ref: str | None,
    seq: int,
    posted: list[PostedLine],
) -> None:
    draft = _unvalidated(Kind.ADJUSTMENT, user_id, posted, description, bot_id, ref)
    entry = seal(draft, tuple(posted), seq=seq + 1, prev_hash=GENESIS, ts=T0)
    assert entry.hash == chain_hash(GENESIS, payload(entry, postings_of(entry)))


@settings(max_examples=1000)
@given(any_decimal)
def test_decimal_text_is_the_normalised_fixed_point_text(value: Decimal) -> None:
    assert decimal_text(value) == format(value.normalize(CONTEXT), "f")


def reference_check_amount(value: object, what: str = "amount") -> Decimal:
    """`check_amount` before its quantize fast path (its range test exact, as since the
    28-digit rounding of `abs` was fixed)."""
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        if (
            isinstance(exponent, int)
            and exponent >= -journal.SCALE
            and value.copy_abs() < journal.MAX_ABS
        ):
            return value
    if not isinstance(value, Decimal):
        raise ValidationFailed(f"{what} must be a Decimal", code="invalid_amount")
    if not value.is_finite():
        raise ValidationFailed(f"{what} must be finite", code="invalid_amount")
    if value.copy_abs() >= journal.MAX_ABS:
        raise ValidationFailed(f"{what} is out of range", code="amount_out_of_range")
    if value != journal.exact(value):
        raise ValidationFailed(
            f"{what} has more than {journal.SCALE} decimal places", code="amount_too_precise"
        )
    return value


@settings(max_examples=1000)
@given(st.one_of(any_decimal, st.decimals(), st.integers(), st.floats(), st.none(), st.text()))
def test_check_amount_accepts_and_refuses_as_before(value: object) -> None:
    def result(check: Any) -> object:
        try:
            return check(value, "qty")
        except DomainError as exc:
            return (exc.code, exc.message)

    expected = result(reference_check_amount)
    got = result(journal.check_amount)
    assert got == expected or (got is value and expected is value)


@settings(max_examples=500)
@given(st.integers(0, 2**48 - 1), st.binary(min_size=16, max_size=16))
def test_ids_are_the_130_bit_number_in_crockford_base32(millis: int, noise: bytes) -> None:
    """The digits written per byte are the 5-bit digits of the 80-bit random part."""
    random_part = 0
    for byte in noise:
        random_part = random_part << 5 | byte % 32
    value = millis << 80 | random_part
    alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
    expected = "".join(alphabet[(value >> shift) & 31] for shift in range(125, -1, -5))
    assert ids.stamp(millis) + ids.random_digits(noise) == expected


def test_ids_minted_in_a_batch_are_distinct_well_formed_and_time_ordered() -> None:
    before = ids.stamp(int(datetime.now(UTC).timestamp() * 1000) - 1)
    minted = [*ids.new_ids(1000), ids.new_id()]
    assert len(set(minted)) == len(minted)
    assert all(re.fullmatch(r"[0-9a-hjkmnp-tv-z]{26}", value) for value in minted)
    assert all(value[:10] >= before for value in minted)
    assert ids.new_ids(0) == []


# -- checked_fill: the trusted draft refuses what the validating constructor refuses --


def _unvalidated(
    kind: Kind,
    user_id: str,
    postings: list[PostedLine],
    description: str,
    bot_id: str | None,
    ref: str | None,
) -> EntryDraft:
    return journal._unvalidated_draft(kind, user_id, tuple(postings), description, bot_id, ref)


def validated_fill(user_id: str, trade: Fill, position: Position | None) -> EntryDraft:
    """`checked_fill` as it was before it skipped `validate`: the same lines through the
    validating constructor."""
    if trade.side == "buy":
        lines = journal._buy_lines(trade)
    else:
        lines = journal._sell_lines(trade, position)
    lines.extend(journal._fee_lines(trade))
    qty, price = decimal_text(trade.qty), decimal_text(trade.price)
    text = f"{trade.side} {qty} {trade.base} @ {price} {trade.quote}"
    return EntryDraft(Kind.FILL, user_id, tuple(lines), text, bot_id=trade.bot_id, ref=trade.ref)


def outcome(build: Any, *args: Any) -> object:
    try:
        draft = build(*args)
    except DomainError as exc:
        return (type(exc), exc.code, exc.message, exc.details)
    assert type(draft) is EntryDraft
    return vars(draft)


amounts = st.one_of(
    st.decimals(min_value=D("1e-18"), max_value=D("1e20") - 1, places=18),
    st.sampled_from([D("1e-18"), D("1e-9"), D("99999999999999999999"), D("1E+19"), D(1)]),
)
fees = st.one_of(st.just(D(0)), amounts)
trades = st.builds(
    Fill,
    bot_id=owners,
    side=st.sampled_from(["buy", "sell"]),
    base=st.just("BTC"),
    quote=st.just("ZAR"),
    qty=amounts,
    price=amounts,
    fee=fees,
    fee_asset=st.sampled_from([None, "ZAR", "USD"]),
    notional=st.none() | amounts,
    ref=st.none() | st.text(max_size=140),
)
positions = st.none() | st.builds(
    Position,
    qty=st.one_of(st.just(D(0)), amounts),
    cost=st.one_of(st.just(D(0)), amounts, st.sampled_from([D("1e21"), D("5e20")])),
)
user_ids = st.one_of(owners, st.text(max_size=30))


@settings(max_examples=1000)
@given(user_ids, trades, positions)
def test_checked_fill_refuses_exactly_what_the_validating_constructor_refuses(
    user_id: str, trade: Fill, position: Position | None
) -> None:
    try:
        journal.check_fill(trade)
    except DomainError:
        assume(False)
    expected = outcome(validated_fill, user_id, trade, position)
    assert outcome(journal.checked_fill, user_id, trade, position) == expected


@pytest.mark.parametrize(
    ("user_id", "trade", "position", "code"),
    [
        ("no spaces", Fill("b1", "buy", "BTC", "ZAR", D(1), D(1)), None, "invalid_user"),
        ("u1", Fill("b1", "buy", "BTC", "ZAR", D(1), D(1), ref=""), None, "invalid_ref"),
        ("u1", Fill("b1", "buy", "BTC", "ZAR", D(1), D(1), ref="r" * 129), None, "invalid_ref"),
        # qty * price rounds to nothing at 18 places
        ("u1", Fill("b1", "buy", "BTC", "ZAR", D("1e-10"), D("1e-10")), None, "zero_amount"),
        # qty * price leaves NUMERIC(38,18)
        ("u1", Fill("b1", "buy", "BTC", "ZAR", D("1e15"), D("1e15")), None, "amount_out_of_range"),
        # a cost basis beyond the storable range makes the released cost unstorable
        (
            "u1",
            Fill("b1", "sell", "BTC", "ZAR", D(1), D(1)),
            Position(D(2), D("1e21")),
            "amount_out_of_range",
        ),
        ("u1", Fill("b1", "sell", "BTC", "ZAR", D(3), D(1)), Position(D(2), D(5)), None),
    ],
)
def test_checked_fill_still_refuses_what_the_trade_check_cannot_vouch_for(
    user_id: str, trade: Fill, position: Position | None, code: str | None
) -> None:
    journal.check_fill(trade)
    if code is None:  # selling more than held: refused before any draft exists
        with pytest.raises(DomainError) as raised:
            journal.checked_fill(user_id, trade, position)
        assert raised.value.code == "insufficient_position"
        return
    with pytest.raises(ValidationFailed) as exc:
        journal.checked_fill(user_id, trade, position)
    assert exc.value.code == code
    assert outcome(validated_fill, user_id, trade, position) == outcome(
        journal.checked_fill, user_id, trade, position
    )


def test_the_insert_writes_each_entrys_stored_rows_in_the_tables_column_order() -> None:
    """The posting insert builds its rows straight from the entries: they must be
    `postings_of` each entry (what verify reads back and hashes), after an id and the
    entry's id, in `_POSTING_INSERT`'s columns."""
    trade = Fill("b1", "sell", "BTC", "ZAR", D("0.5"), D(100), fee=D(1), ref="r1")
    draft = journal.checked_fill("u1", trade, Position(D(1), D(90)))
    lines = tuple(
        PostedLine(p.account, p.asset, p.amount, D(i)) for i, p in enumerate(draft.postings)
    )
    entries = [seal(draft, lines, seq=seq, prev_hash=GENESIS, ts=T0) for seq in (7, 8)]
    rows = repository._posting_rows(entries)
    expected = [(e.id, *row) for e in entries for row in postings_of(e)]
    assert [row[1:] for row in rows] == expected
    assert len({row[0] for row in rows}) == len(rows)
    assert repository._POSTING_INSERT.columns == ("id", "entry_id", *ChainPosting._fields)
