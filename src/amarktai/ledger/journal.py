"""Journal entries as pure values: validation and builders for every movement of value.

Nothing here touches a database, so the rules that keep the ledger sound (postings sum to
zero per asset, amounts are exact and storable, accounts belong to the entry's user) are
checked the moment a draft exists: an invalid ``EntryDraft`` cannot be constructed.

The chart of accounts is documented in ``amarktai.ledger.models``. Builders that depend on
ledger state (a sell needs the bot's position and cost basis) take that state as an
argument; ``LedgerService`` reads it under the chain lock and passes it in.

Realised PnL uses average cost: selling ``q`` of a position ``Q`` with cost basis ``C``
releases ``C * q / Q`` of basis (all of ``C`` when the position closes, so no dust is
left), and the difference between proceeds and released basis is realised PnL. Fees are
expenses on their own account, never folded into cost basis, so net PnL is
``realised - fees`` with no double counting.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Literal

from amarktai.kit.errors import Conflict, ValidationFailed
from amarktai.kit.money import MAX_AMOUNT

SCALE = 18
QUANTUM = Decimal(1).scaleb(-SCALE)
MAX_ABS = MAX_AMOUNT  # NUMERIC(38,18): 20 integer digits
PRECISION = 60
ZERO = Decimal(0)
# The ledger's arithmetic context, shared rather than entered per operation (a
# `localcontext()` block costs more than the addition it guards, on every posting).
CONTEXT = Context(prec=PRECISION, rounding=ROUND_HALF_EVEN)

USER_ACCOUNTS = frozenset({"cash", "external", "fees", "equity"})
BOT_ACCOUNTS = frozenset({"cash", "position", "trading", "fees", "pnl"})
_OWNER = re.compile(r"^[A-Za-z0-9_-]{1,26}$")
_ASSET = re.compile(r"^[A-Z0-9]{1,16}$")
_PAIR = re.compile(r"^([A-Z0-9]{1,16})-([A-Z0-9]{1,16})$")


class Kind(StrEnum):
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    ALLOCATION = "allocation"
    DEALLOCATION = "deallocation"
    FILL = "fill"
    FEE = "fee"
    TRANSFER = "transfer"
    REVERSAL = "reversal"
    ADJUSTMENT = "adjustment"


_KINDS = frozenset(Kind)


@dataclass(frozen=True)
class AccountPath:
    scope: Literal["user", "bot"]
    owner: str
    name: str
    instrument: str | None = None

    def __str__(self) -> str:
        tail = f":{self.instrument}" if self.instrument else ""
        return f"{self.scope}:{self.owner}:{self.name}{tail}"


def user_account(user_id: str, name: str) -> str:
    return _path_text("user", user_id, name, None)


def bot_account(bot_id: str, name: str) -> str:
    return _path_text("bot", bot_id, name, None)


def trading_account(bot_id: str, base: str, quote: str) -> str:
    """One trading account per traded pair, so each keeps its own quantity and cost basis."""
    return _path_text("bot", bot_id, "trading", f"{base}-{quote}")


def parse_account(path: str) -> AccountPath:
    """Split and check an account path, so a typo can never open a new, unbalanced account."""
    if not isinstance(path, str):
        raise ValidationFailed(f"unknown account {path!r}", code="invalid_account")
    return _parse_account(path)


@lru_cache(maxsize=1 << 16)  # pure and hot: every posting's account is parsed
def _parse_account(path: str) -> AccountPath:
    parts = path.split(":")
    if len(parts) not in (3, 4) or parts[0] not in ("user", "bot"):
        raise ValidationFailed(f"unknown account {path!r}", code="invalid_account")
    scope: Literal["user", "bot"] = "user" if parts[0] == "user" else "bot"
    return _checked_path(scope, parts[1], parts[2], parts[3] if len(parts) == 4 else None)


# Every fill builds five or six paths: their text is cached too, as formatting an
# AccountPath costs more than the lookup. A refused path raises every time (lru_cache
# never caches an exception).
@lru_cache(maxsize=1 << 16)
def _path_text(scope: Literal["user", "bot"], owner: str, name: str, instrument: str | None) -> str:
    return str(_checked_path(scope, owner, name, instrument))


@lru_cache(maxsize=1 << 16)  # pure and hot (every posting); AccountPath is immutable
def _checked_path(
    scope: Literal["user", "bot"], owner: str, name: str, instrument: str | None
) -> AccountPath:
    path = AccountPath(scope, owner, name, instrument)
    allowed = USER_ACCOUNTS if scope == "user" else BOT_ACCOUNTS
    ok = _owner_ok(owner) and name in allowed
    if name == "trading":
        ok = ok and instrument is not None and bool(_PAIR.match(instrument))
    elif instrument is not None:
        ok = False
    if not ok:
        raise ValidationFailed(f"unknown account {path}", code="invalid_account")
    return path


@lru_cache(maxsize=1 << 16)  # every fill checks its bot id and its user id
def _owner_ok(owner: str) -> bool:
    """A user or bot id as an account path may name it (`_OWNER`)."""
    return _OWNER.match(owner) is not None


def pair_of(path: AccountPath) -> tuple[str, str] | None:
    """(base, quote) of a trading account; None for every other account."""
    match = _PAIR.match(path.instrument or "")
    return (match.group(1), match.group(2)) if match else None


def bot_of(account: str) -> str | None:
    if not isinstance(account, str):
        raise ValidationFailed(f"unknown account {account!r}", code="invalid_account")
    return _bot_of(account)


@lru_cache(maxsize=1 << 16)
def _bot_of(account: str) -> str | None:
    path = _parse_account(account)
    return path.owner if path.scope == "bot" else None


# `bot_of` for an account already proved a path (a validated draft's, a stored entry's),
# without the type check: the batch and the insert ask it for every posting.
bot_of_path = _bot_of


def exact(value: Decimal) -> Decimal:
    """Round to the stored scale, so what is hashed is exactly what the database keeps."""
    return value.quantize(QUANTUM, rounding=ROUND_HALF_EVEN, context=CONTEXT)


def add(a: Decimal, b: Decimal) -> Decimal:
    """Add without the default 28-digit context silently rounding large, fine amounts."""
    return CONTEXT.add(a, b)


def total(values: Iterable[Decimal]) -> Decimal:
    result = ZERO
    for value in values:
        result = add(result, value)
    return result


def decimal_text(value: Decimal) -> str:
    """Canonical text of a Decimal for hashing: equal numbers give equal text at any scale.

    The text is ``format(value.normalize(CONTEXT), "f")``. ``str`` writes the same text
    for a third of ``format``'s cost whenever it does not switch to an exponent (it does
    for normalized integers with trailing zeros and for very small numbers), so only
    those take ``format``; the hash chain writes this text for every amount it stores.
    """
    normal = value.normalize(CONTEXT)
    text = str(normal)
    if "E" in text or "e" in text:
        return format(normal, "f")
    return text


def check_amount(value: object, what: str = "amount") -> Decimal:
    """Only finite Decimals that fit NUMERIC(38,18) exactly may enter the ledger."""
    # Fast path, the checks below all passing: every fill runs this for each posting, and
    # a quantize costs half of `as_tuple` (which builds a tuple of every digit).
    if (
        isinstance(value, Decimal)
        and value.is_finite()
        and value.copy_abs() < MAX_ABS  # exact: abs() would round to the thread's 28 digits
        and value.quantize(QUANTUM, context=CONTEXT) == value
    ):
        return value
    if not isinstance(value, Decimal):
        raise ValidationFailed(f"{what} must be a Decimal", code="invalid_amount")
    if not value.is_finite():
        raise ValidationFailed(f"{what} must be finite", code="invalid_amount")
    if value.copy_abs() >= MAX_ABS:
        raise ValidationFailed(f"{what} is out of range", code="amount_out_of_range")
    if value != exact(value):
        raise ValidationFailed(
            f"{what} has more than {SCALE} decimal places", code="amount_too_precise"
        )
    return value


def _storable(value: object) -> bool:
    """`check_amount` would pass `value` (its fast path: every amount a fill carries)."""
    return (
        isinstance(value, Decimal)
        and value.is_finite()
        and value.copy_abs() < MAX_ABS
        and value.quantize(QUANTUM, context=CONTEXT) == value
    )


def check_positive(value: object, what: str = "amount") -> Decimal:
    amount = check_amount(value, what)
    if amount <= 0:
        raise ValidationFailed(f"{what} must be positive", code="non_positive_amount")
    return amount


def check_asset(asset: str) -> str:
    if isinstance(asset, str) and _asset_ok(asset):
        return asset
    raise ValidationFailed(f"invalid asset {asset!r}", code="invalid_asset")


@lru_cache(maxsize=4096)
def _asset_ok(asset: str) -> bool:
    return bool(_ASSET.match(asset))


@dataclass(frozen=True)
class Posting:
    """One signed amount of one asset on one account (positive = debit, value held)."""

    account: str
    asset: str
    amount: Decimal

    @property
    def bot_id(self) -> str | None:
        return bot_of(self.account)

    def mirrored(self) -> Posting:
        return new_posting(self.account, self.asset, self.amount.copy_negate())


@dataclass(frozen=True)
class PostedLine(Posting):
    """A stored posting: its amount plus the running balance of its account after it."""

    balance: Decimal = ZERO


_new = object.__new__


def new_posting(account: str, asset: str, amount: Decimal) -> Posting:
    """``Posting(account, asset, amount)``, built without the frozen dataclass's
    ``__init__``, which sets each field through ``object.__setattr__``: a fill builds six
    postings and six posted lines, and those calls were a tenth of its booking cost. The
    fields land in the instance dict in ``__init__``'s order, so the object is the same
    in every respect (eq, hash, repr, ``vars``); the tests compare the two."""
    value = _new(Posting)
    fields = value.__dict__
    fields["account"] = account
    fields["asset"] = asset
    fields["amount"] = amount
    return value


def new_posted_line(account: str, asset: str, amount: Decimal, balance: Decimal) -> PostedLine:
    """``PostedLine(account, asset, amount, balance)``, built as `new_posting` builds one."""
    value = _new(PostedLine)
    fields = value.__dict__
    fields["account"] = account
    fields["asset"] = asset
    fields["amount"] = amount
    fields["balance"] = balance
    return value


@dataclass(frozen=True)
class EntryDraft:
    """An entry about to be posted; validated on construction so invalid ones never exist."""

    kind: Kind
    user_id: str
    postings: tuple[Posting, ...]
    description: str = ""
    bot_id: str | None = None
    ref: str | None = None
    reverses_id: str | None = None

    def __post_init__(self) -> None:
        validate(self)


@dataclass(frozen=True)
class Entry:
    """A posted, immutable entry as read back from the ledger."""

    id: str
    seq: int
    ts: datetime
    kind: Kind
    user_id: str
    bot_id: str | None
    description: str
    reverses_id: str | None
    ref: str | None
    prev_hash: str
    hash: str
    postings: tuple[PostedLine, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Position:
    """What a bot holds through one pair: open quantity and its cost basis in the quote."""

    qty: Decimal = ZERO
    cost: Decimal = ZERO

    def released_cost(self, qty: Decimal) -> Decimal:
        """Average-cost basis leaving the position when `qty` is sold."""
        if qty >= self.qty:
            return self.cost
        return exact(CONTEXT.divide(CONTEXT.multiply(self.cost, qty), self.qty))


def validate(draft: EntryDraft) -> None:
    _validate_header(draft)
    if not draft.postings:
        raise ValidationFailed("an entry needs postings", code="empty_entry")
    for posting in draft.postings:
        _validate_posting(posting, draft.user_id)
    _validate_balanced(draft.postings)


def _validate_header(draft: EntryDraft) -> None:
    if draft.kind not in _KINDS:
        raise ValidationFailed(f"unknown entry kind {draft.kind!r}", code="invalid_kind")
    if not _owner_ok(draft.user_id):
        raise ValidationFailed("invalid user id", code="invalid_user")
    if draft.bot_id is not None and not _owner_ok(draft.bot_id):
        raise ValidationFailed("invalid bot id", code="invalid_bot")
    if len(draft.description) > 500:
        raise ValidationFailed("description is too long", code="description_too_long")
    if draft.ref is not None and not 0 < len(draft.ref) <= 128:
        raise ValidationFailed("ref must be 1-128 characters", code="invalid_ref")
    if (draft.kind == Kind.REVERSAL) != (draft.reverses_id is not None):
        raise ValidationFailed(
            "reverses_id is required on reversals and only there", code="invalid_reversal"
        )


def _validate_posting(posting: Posting, user_id: str) -> None:
    path = parse_account(posting.account)
    if path.scope == "user" and path.owner != user_id:
        raise ValidationFailed(
            f"account {posting.account} belongs to another user", code="foreign_account"
        )
    check_asset(posting.asset)
    _validate_amount(posting)


def _validate_amount(posting: Posting) -> None:
    if check_amount(posting.amount) == 0:
        raise ValidationFailed("postings must move a non-zero amount", code="zero_amount")


def _validate_balanced(postings: Sequence[Posting]) -> None:
    sums: dict[str, Decimal] = {}
    for posting in postings:
        sums[posting.asset] = add(sums.get(posting.asset, ZERO), posting.amount)
    _validate_sums(sums)


def _validate_amounts_and_sums(postings: Sequence[Posting]) -> None:
    """`validate`'s amount check of each posting, in order, then `_validate_balanced`,
    in one pass.

    Every fill runs this on each of its postings, so `check_amount`'s fast test (plus
    "not zero") is written out here, with no call per posting; an amount it does not
    pass goes through `_validate_amount` itself, which raises what it always raised
    (or passes it, exactly as before)."""
    sums: dict[str, Decimal] = {}
    get, plus = sums.get, CONTEXT.add
    for line in postings:
        amount = line.amount
        if not (
            isinstance(amount, Decimal)
            and amount.is_finite()
            and amount.copy_abs() < MAX_ABS  # exact, as `check_amount`
            and amount.quantize(QUANTUM, context=CONTEXT) == amount
            and amount
        ):
            _validate_amount(line)
        asset = line.asset
        sums[asset] = plus(get(asset, ZERO), amount)
    _validate_sums(sums)


def _validate_sums(sums: dict[str, Decimal]) -> None:
    off = {asset: decimal_text(value) for asset, value in sums.items() if value != 0}
    if off:
        raise ValidationFailed(
            "postings do not sum to zero per asset", code="unbalanced_entry", details=off
        )


def _pair(debit: str, credit: str, asset: str, amount: Decimal) -> tuple[Posting, Posting]:
    return new_posting(debit, asset, amount), new_posting(credit, asset, amount.copy_negate())


def deposit(
    user_id: str, asset: str, amount: Decimal, *, ref: str | None = None, description: str = ""
) -> EntryDraft:
    """Money arriving from outside becomes the user's free capital."""
    amount = check_positive(amount)
    postings = _pair(
        user_account(user_id, "cash"), user_account(user_id, "external"), asset, amount
    )
    return EntryDraft(Kind.DEPOSIT, user_id, postings, description or "deposit", ref=ref)


def withdrawal(
    user_id: str,
    asset: str,
    amount: Decimal,
    *,
    fee: Decimal = ZERO,
    ref: str | None = None,
    description: str = "",
) -> EntryDraft:
    """Only free capital can leave: the user cash account pays amount plus any fee."""
    amount = check_positive(amount)
    fee = check_amount(fee, "fee")
    cash = user_account(user_id, "cash")
    postings = [
        Posting(user_account(user_id, "external"), asset, amount),
        Posting(cash, asset, add(amount, fee).copy_negate()),
    ]
    if fee > 0:
        postings.append(Posting(user_account(user_id, "fees"), asset, fee))
    return EntryDraft(
        Kind.WITHDRAWAL, user_id, tuple(postings), description or "withdrawal", ref=ref
    )


def allocate(
    user_id: str,
    bot_id: str,
    asset: str,
    amount: Decimal,
    *,
    ref: str | None = None,
    description: str = "",
) -> EntryDraft:
    """Move free capital into a bot; the only way a bot gets money it may spend."""
    amount = check_positive(amount)
    postings = _pair(bot_account(bot_id, "cash"), user_account(user_id, "cash"), asset, amount)
    return EntryDraft(
        Kind.ALLOCATION, user_id, postings, description or "allocation", bot_id=bot_id, ref=ref
    )


def deallocate(
    user_id: str,
    bot_id: str,
    asset: str,
    amount: Decimal,
    *,
    ref: str | None = None,
    description: str = "",
) -> EntryDraft:
    """Return a bot's unspent cash to the user's free capital."""
    amount = check_positive(amount)
    postings = _pair(user_account(user_id, "cash"), bot_account(bot_id, "cash"), asset, amount)
    return EntryDraft(
        Kind.DEALLOCATION,
        user_id,
        postings,
        description or "deallocation",
        bot_id=bot_id,
        ref=ref,
    )


def transfer(
    user_id: str,
    from_bot: str,
    to_bot: str,
    asset: str,
    amount: Decimal,
    *,
    ref: str | None = None,
    description: str = "",
) -> EntryDraft:
    """Move allocated cash between two bots of the same user without freeing it."""
    amount = check_positive(amount)
    if from_bot == to_bot:
        raise ValidationFailed("cannot transfer a bot's cash to itself", code="same_bot")
    postings = _pair(bot_account(to_bot, "cash"), bot_account(from_bot, "cash"), asset, amount)
    text = description or f"transfer to bot {to_bot}"
    return EntryDraft(Kind.TRANSFER, user_id, postings, text, bot_id=from_bot, ref=ref)


def fee(
    user_id: str,
    asset: str,
    amount: Decimal,
    *,
    bot_id: str | None = None,
    ref: str | None = None,
    description: str = "",
) -> EntryDraft:
    """A charge outside a fill (e.g. a funding or platform fee): paid from the payer's cash."""
    amount = check_positive(amount)
    if bot_id is None:
        cash, fees = user_account(user_id, "cash"), user_account(user_id, "fees")
    else:
        cash, fees = bot_account(bot_id, "cash"), bot_account(bot_id, "fees")
    postings = _pair(fees, cash, asset, amount)
    return EntryDraft(Kind.FEE, user_id, postings, description or "fee", bot_id=bot_id, ref=ref)


def adjustment(
    user_id: str,
    account: str,
    asset: str,
    amount: Decimal,
    *,
    reason: str,
    ref: str | None = None,
) -> EntryDraft:
    """A manual correction against the user's equity account; needs a stated reason."""
    if not reason.strip():
        raise ValidationFailed("an adjustment needs a reason", code="reason_required")
    amount = check_amount(amount)
    postings = (
        Posting(account, asset, amount),
        Posting(user_account(user_id, "equity"), asset, amount.copy_negate()),
    )
    return EntryDraft(Kind.ADJUSTMENT, user_id, postings, reason, bot_id=bot_of(account), ref=ref)


@dataclass(frozen=True)
class Fill:
    """An executed trade as the ledger needs it; notional defaults to qty * price."""

    bot_id: str
    side: Literal["buy", "sell"]
    base: str
    quote: str
    qty: Decimal
    price: Decimal
    fee: Decimal = ZERO
    fee_asset: str | None = None
    notional: Decimal | None = None
    ref: str | None = None

    def value(self) -> Decimal:
        if self.notional is not None:
            return check_positive(self.notional, "notional")
        return exact(CONTEXT.multiply(self.qty, self.price))


def fill(user_id: str, trade: Fill, position: Position | None = None) -> EntryDraft:
    """A trade fill; `position` is what the bot held through this pair before the trade.

    With ``trading`` the bot's ``trading:{BASE}-{QUOTE}`` account:
    Buy:  bot cash(quote) -notional, trading(quote) +notional,
          position(base) +qty, trading(base) -qty.
    Sell: position(base) -qty, trading(base) +qty, bot cash(quote) +proceeds,
          trading(quote) -released cost, pnl(quote) -(proceeds - released cost).
    Fee:  bot cash(fee asset) -fee, bot fees(fee asset) +fee.
    """
    check_fill(trade)
    return checked_fill(user_id, trade, position)


def checked_fill(user_id: str, trade: Fill, position: Position | None = None) -> EntryDraft:
    """`fill` for a trade that already passed `check_fill` (the ledger checks it first).

    The draft runs `validate` less its per-posting account and asset checks, which
    cannot fail here: every account is one of the bot's, made by `bot_account` or
    `trading_account` from the checked bot id and pair, and every asset is the checked
    base, quote or fee asset. The rest is checked as `validate` checks it, in its order
    and with its codes: the header (the user id and the ref come from the caller), each
    amount (the notional, released cost and pnl come from arithmetic, and may round to
    zero or leave NUMERIC(38,18)'s range), then the sums per asset. Mirrors are exact
    negatives (`copy_negate`): the unary minus would round to the thread's 28 digits, and
    an amount with more digits than that would leave its entry unbalanced.
    """
    lines = _buy_lines(trade) if trade.side == "buy" else _sell_lines(trade, position)
    lines.extend(_fee_lines(trade))
    text = f"{trade.side} {decimal_text(trade.qty)} {trade.base} @ {decimal_text(trade.price)}"
    draft = _unvalidated_draft(
        Kind.FILL, user_id, tuple(lines), f"{text} {trade.quote}", trade.bot_id, trade.ref
    )
    _validate_header(draft)
    _validate_amounts_and_sums(draft.postings)
    return draft


def _unvalidated_draft(
    kind: Kind,
    user_id: str,
    postings: tuple[Posting, ...],
    description: str,
    bot_id: str | None,
    ref: str | None,
) -> EntryDraft:
    """An EntryDraft without `__post_init__`: only for a builder that validates the draft
    itself (`checked_fill`). The fields are set as the frozen dataclass's own `__init__`
    would set them."""
    draft = object.__new__(EntryDraft)
    draft.__dict__.update(
        kind=kind,
        user_id=user_id,
        postings=postings,
        description=description,
        bot_id=bot_id,
        ref=ref,
        reverses_id=None,
    )
    return draft


def check_fill(trade: Fill) -> None:
    """Reject a malformed trade before any ledger state is read for it."""
    if not _owner_ok(trade.bot_id):
        raise ValidationFailed("invalid bot id", code="invalid_bot")
    check_asset(trade.base)
    check_asset(trade.quote)
    if trade.fee_asset is not None:
        check_asset(trade.fee_asset)
    if trade.base == trade.quote:
        raise ValidationFailed("base and quote must differ", code="invalid_pair")
    if trade.side not in ("buy", "sell"):
        raise ValidationFailed("side must be buy or sell", code="invalid_side")
    qty, price, fee = trade.qty, trade.price, trade.fee
    # What the three checks below pass, tested without their calls; anything else takes
    # them, so a refusal is the one they always gave.
    if not (
        _storable(qty)
        and qty > 0
        and _storable(price)
        and price > 0
        and _storable(fee)
        and fee >= 0
    ):
        check_positive(qty, "qty")
        check_positive(price, "price")
        check_amount(fee, "fee")
        if fee < 0:
            raise ValidationFailed("fee cannot be negative", code="invalid_amount")
    if (trade.fee_asset or trade.quote) == trade.base and trade.fee > 0:
        raise ValidationFailed(
            "fees charged in the base asset are not supported; record them in the quote "
            "asset or another cash asset",
            code="fee_in_base_asset",
        )


def _buy_lines(trade: Fill) -> list[Posting]:
    cash = bot_account(trade.bot_id, "cash")
    trading = trading_account(trade.bot_id, trade.base, trade.quote)
    notional = trade.value()
    return [
        new_posting(cash, trade.quote, notional.copy_negate()),
        new_posting(trading, trade.quote, notional),
        new_posting(bot_account(trade.bot_id, "position"), trade.base, trade.qty),
        new_posting(trading, trade.base, trade.qty.copy_negate()),
    ]


def _sell_lines(trade: Fill, position: Position | None) -> list[Posting]:
    held = position or Position()
    if trade.qty > held.qty:
        raise Conflict(
            f"bot {trade.bot_id} holds {decimal_text(held.qty)} {trade.base} bought with "
            f"{trade.quote}, "
            f"cannot sell {decimal_text(trade.qty)}",
            code="insufficient_position",
        )
    trading = trading_account(trade.bot_id, trade.base, trade.quote)
    proceeds, released = trade.value(), held.released_cost(trade.qty)
    lines = [
        new_posting(bot_account(trade.bot_id, "position"), trade.base, trade.qty.copy_negate()),
        new_posting(trading, trade.base, trade.qty),
        new_posting(bot_account(trade.bot_id, "cash"), trade.quote, proceeds),
    ]
    if released != 0:
        lines.append(new_posting(trading, trade.quote, released.copy_negate()))
    pnl = CONTEXT.subtract(proceeds, released)
    if pnl != 0:
        lines.append(new_posting(bot_account(trade.bot_id, "pnl"), trade.quote, pnl.copy_negate()))
    return lines


def _fee_lines(trade: Fill) -> list[Posting]:
    if trade.fee == 0:
        return []
    asset = trade.fee_asset or trade.quote
    fees, cash = bot_account(trade.bot_id, "fees"), bot_account(trade.bot_id, "cash")
    return list(_pair(fees, cash, asset, trade.fee))


def reversal(entry: Entry, reason: str) -> EntryDraft:
    """Undo an entry by posting its mirror image; the original stays untouched forever."""
    if entry.kind == Kind.REVERSAL:
        raise Conflict("a reversal cannot itself be reversed", code="cannot_reverse_reversal")
    if not reason.strip():
        raise ValidationFailed("a reversal needs a reason", code="reason_required")
    postings = tuple(posting.mirrored() for posting in entry.postings)
    return EntryDraft(
        Kind.REVERSAL,
        entry.user_id,
        postings,
        f"reversal of #{entry.seq}: {reason}"[:500],
        bot_id=entry.bot_id,
        ref=entry.id,
        reverses_id=entry.id,
    )
