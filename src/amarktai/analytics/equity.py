"""Equity curves marked to market, computed in one pass over the ledger's entries.

``LedgerService.mark_to_market`` answers one instant with one query; a curve of hundreds
of instants over thousands of fills would be hundreds of queries. Here the same figures
come from a single walk over the entries (the ledger stays the only source: nothing is
read from a bot's memory), and a test holds the two equal at every instant.

The buckets are the ledger's: equity = cash + positions at market; unrealised PnL = minus
the trading accounts at market; realised PnL = minus the pnl accounts; fees = the fees
accounts. For a bot only its own accounts count; for a user, their free cash too.

Returns must not count capital moving in or out as performance: every entry that is not
a fill or a fee (deposits, withdrawals, allocations, transfers, adjustments) is an
external *flow* for the scope whose equity it changes, and the curve's ``index`` is
time-weighted: ``r_i = (E_i - F_i) / E_{i-1} - 1`` with ``F_i`` the flows since the
previous point. Metrics are computed on that index.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, localcontext

from amarktai.ledger.journal import PRECISION, ZERO, Entry, Kind, exact, parse_account

PriceAt = Callable[[str, datetime], Decimal]

_BUCKETS = {
    "cash": ("equity", 1),
    "position": ("equity", 1),
    "trading": ("unrealised_pnl", -1),
    "pnl": ("realised_pnl", -1),
    "fees": ("fees", 1),
}
_TRADING_KINDS = frozenset({Kind.FILL, Kind.FEE})
MIN_INDEX_RETURN = -0.999999


@dataclass(frozen=True)
class CurvePoint:
    ts: datetime
    equity: Decimal
    unrealised_pnl: Decimal
    realised_pnl: Decimal
    fees: Decimal
    flow: Decimal  # external capital in (+) or out (-) since the previous point
    in_market: bool  # a position was held over the period ending here
    index: float  # time-weighted growth of 1 unit invested at the first point


class _Book:
    """Running balances per (bucket, asset) for the scope, plus flows not yet assigned."""

    def __init__(self, bot_id: str | None, quote: str, price: PriceAt) -> None:
        self.bot_id, self.quote, self.price = bot_id, quote, price
        self.sums: dict[tuple[str, str], Decimal] = {}
        self.pending_flow = ZERO

    def apply(self, entry: Entry) -> None:
        flow = ZERO
        for line in entry.postings:
            path = parse_account(line.account)
            if self.bot_id is not None and (path.scope != "bot" or path.owner != self.bot_id):
                continue
            bucket = _BUCKETS.get(path.name)
            if bucket is None:
                continue
            name, sign = bucket
            key = (name, line.asset)
            self.sums[key] = exact(self.sums.get(key, ZERO) + sign * line.amount)
            if name == "equity" and entry.kind not in _TRADING_KINDS:
                flow += self.value(line.amount, line.asset, entry.ts)
        self.pending_flow = exact(self.pending_flow + flow)

    def value(self, amount: Decimal, asset: str, when: datetime) -> Decimal:
        if asset == self.quote or amount == 0:
            return amount
        with localcontext() as ctx:
            ctx.prec = PRECISION
            return exact(amount * self.price(asset, when))

    def total(self, bucket: str, when: datetime) -> Decimal:
        values = (self.value(v, a, when) for (b, a), v in self.sums.items() if b == bucket)
        return exact(sum(values, ZERO))

    def holding(self) -> bool:
        return any(b == "equity" and a != self.quote and v > 0 for (b, a), v in self.sums.items())


def equity_curve(
    entries: Iterable[Entry],
    instants: Sequence[datetime],
    price: PriceAt,
    *,
    bot_id: str | None = None,
    quote: str = "ZAR",
) -> list[CurvePoint]:
    """One point per instant (sorted); entries at or before an instant count in it."""
    book = _Book(bot_id, quote, price)
    ordered = sorted(entries, key=lambda e: e.seq)
    points: list[CurvePoint] = []
    cursor, held_before, index = 0, False, 1.0
    for instant in sorted(set(instants)):
        while cursor < len(ordered) and ordered[cursor].ts <= instant:
            book.apply(ordered[cursor])
            cursor += 1
        equity = book.total("equity", instant)
        flow, book.pending_flow = book.pending_flow, ZERO
        if points:
            index *= 1.0 + _period_return(points[-1].equity, equity, flow)
        points.append(
            CurvePoint(
                ts=instant,
                equity=equity,
                unrealised_pnl=book.total("unrealised_pnl", instant),
                realised_pnl=book.total("realised_pnl", instant),
                fees=book.total("fees", instant),
                flow=flow,
                in_market=held_before if points else book.holding(),
                index=index,
            )
        )
        held_before = book.holding()
    return points


def _period_return(before: Decimal, after: Decimal, flow: Decimal) -> float:
    """Time-weighted return of one period; nothing invested before means no return."""
    if before <= 0:
        return 0.0
    return max(float((after - flow) / before) - 1.0, MIN_INDEX_RETURN)


def sample_instants(
    start: datetime, end: datetime, events: Sequence[datetime], max_points: int
) -> list[datetime]:
    """Evenly spaced instants from `start` to `end`, plus the event times (every fill)
    while they fit in `max_points`; beyond that the events are thinned evenly."""
    if end <= start:
        return [start]
    grid_n = max(2, max_points // 2)
    step = (end - start) / (grid_n - 1)
    grid = [start + step * i for i in range(grid_n - 1)] + [end]
    inside = sorted({t for t in events if start <= t <= end})
    room = max(max_points - grid_n, 0)
    if len(inside) > room:
        inside = [inside[int(i * len(inside) / room)] for i in range(room)] if room else []
    return sorted(set(grid) | set(inside))


def span(entries: Sequence[Entry], end: datetime) -> tuple[datetime, datetime] | None:
    """First entry time to `end` (at least one second later), or None without entries."""
    if not entries:
        return None
    start = min(e.ts for e in entries)
    return start, max(end, start + timedelta(seconds=1))
