"""The `replay` market: recorded candles and trade prints played back at any speed.

Files are read and validated completely before the first event is emitted: a replay
that stopped half-way on a bad row would leave a backtest or paper run with a silently
truncated history. A bad file raises ValidationFailed(code="bad_market_data") naming
the file and the 1-based data row (header lines are not counted; for CSV the file
line is given too).

Timestamp rules: candle open times must be strictly increasing (equal = duplicate).
Trade prints may share a timestamp (exchanges print many trades per millisecond), so
for trades "duplicate" means a repeated trade id, or, in files without ids, a row
identical to the one before it; going backwards in time is "unsorted" for both.

Candles are emitted at their close time (`event_time`), so no consumer sees a bar
before it has finished.
"""

from __future__ import annotations

import asyncio
import gzip
import heapq
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from amarktai.kit.clock import Clock, SystemClock
from amarktai.kit.errors import NotFound, ValidationFailed
from amarktai.kit.money import to_decimal
from amarktai.markets.instruments import default_registry, generic_instrument
from amarktai.markets.types import Candle, Instrument, MarketEvent, Trade, event_time

Sleep = Callable[[float], Awaitable[None]]
BoolArray = npt.NDArray[np.bool_]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PRICE_COLS = ("open", "high", "low", "close")

KNOWN_SYMBOLS: dict[str, str] = {
    "binance_daily_Bitcoin.csv": "BTC/USDT",
    "binance_daily_Ethereum.csv": "ETH/USDT",
    "binance_daily_Litecoin.csv": "LTC/USDT",
    "binance_daily_Gold.csv": "PAXG/USDT",
    "public_trades_list.csv": "ETH/USDT",
}
_PAIR_NAME = re.compile(r"^([A-Z0-9]+)_([A-Z0-9]+)-")
_TIMEFRAME_NAME = re.compile(r"-(\d+)([smhdw])[.-]")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


# ---------------------------------------------------------------- reading raw tables


@dataclass(slots=True)
class _Table:
    """Columns of one file, normalised: ns timestamps (NaT-able) and float values."""

    path: Path
    ts_ns: npt.NDArray[np.int64]
    ts_ok: BoolArray
    values: dict[str, npt.NDArray[np.float64]]
    text: dict[str, npt.NDArray[Any]]
    csv: bool


def _bad(path: Path, row: int, problem: str, *, csv: bool) -> ValidationFailed:
    line = f" (line {row + 1})" if csv else ""
    return ValidationFailed(
        f"{path.name}: row {row}{line}: {problem}",
        code="bad_market_data",
        details={"file": str(path), "row": row},
    )


def _timestamps(raw: pd.Series) -> tuple[npt.NDArray[np.int64], BoolArray]:
    """Epoch-ms integers or date strings → ns; unparseable entries flagged, not dropped."""
    if pd.api.types.is_numeric_dtype(raw):
        parsed = pd.to_datetime(pd.to_numeric(raw, errors="coerce"), unit="ms", utc=True)
    else:
        parsed = pd.to_datetime(raw, utc=True, errors="coerce", format="mixed")
    ok = parsed.notna().to_numpy()
    ns = parsed.fillna(pd.Timestamp(0, tz="UTC")).dt.as_unit("ns").astype("int64")
    return ns.to_numpy(dtype=np.int64), ok


def _table(
    path: Path,
    frame: pd.DataFrame,
    ts_col: str,
    num: Sequence[str],
    txt: Sequence[str],
    *,
    csv: bool,
) -> _Table:
    missing = [c for c in (ts_col, *num, *txt) if c not in frame.columns]
    if missing:
        raise ValidationFailed(f"{path.name}: missing columns {missing}", code="bad_market_data")
    if frame.empty:
        raise ValidationFailed(f"{path.name}: no rows", code="bad_market_data")
    ts_ns, ts_ok = _timestamps(frame[ts_col])
    values = {c: pd.to_numeric(frame[c], errors="coerce").to_numpy(np.float64) for c in num}
    text = {c: frame[c].astype(object).to_numpy() for c in txt}
    return _Table(path, ts_ns, ts_ok, values, text, csv)


def _read_json(path: Path) -> Any:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        try:
            return json.load(handle)
        except json.JSONDecodeError as exc:
            raise ValidationFailed(
                f"{path.name}: not valid JSON ({exc})", code="bad_market_data"
            ) from None


def _list_frame(path: Path, rows: Any, columns: Sequence[str]) -> pd.DataFrame:
    if not isinstance(rows, list):
        raise ValidationFailed(f"{path.name}: expected a JSON list of rows", code="bad_market_data")
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, list) or len(row) < len(columns):
            raise _bad(path, i, f"expected a list of {len(columns)} values", csv=False)
    return pd.DataFrame([row[: len(columns)] for row in rows], columns=list(columns))


def _is_trades(path: Path) -> bool:
    name = path.name.lower()
    if "trades" in name:
        return True
    if name.endswith(".csv"):
        header = path.open(encoding="utf-8").readline().lower()
        return "price" in header and "amount" in header
    return False


# ---------------------------------------------------------------- validation


def _first_problem(table: _Table, checks: list[tuple[BoolArray, str]]) -> None:
    """Raise for the earliest bad row (so the message points at the first thing to fix)."""
    best: tuple[int, str] | None = None
    for mask, problem in checks:
        hits = np.flatnonzero(mask)
        if hits.size and (best is None or hits[0] < best[0]):
            best = (int(hits[0]), problem)
    if best is not None:
        row = best[0] + 1
        raise _bad(table.path, row, best[1].format(row=row), csv=table.csv)


def _order_checks(ts: npt.NDArray[np.int64], *, strict: bool) -> list[tuple[BoolArray, str]]:
    diff = np.diff(ts, prepend=ts[0])
    first = np.arange(ts.size) == 0
    backwards: BoolArray = (diff < 0) & ~first
    checks = [(backwards, "unsorted: timestamp earlier than the row before")]
    if strict:
        same: BoolArray = (diff == 0) & ~first
        checks.append((same, "duplicate timestamp"))
    return checks


def _validate_candles(t: _Table) -> None:
    v = t.values
    o, h, lo, c, vol = (v[k] for k in (*_PRICE_COLS, "volume"))
    prices = np.stack([o, h, lo, c])
    with np.errstate(invalid="ignore"):
        has_nan = np.asarray(np.isnan(np.vstack([prices, vol])).any(axis=0), dtype=np.bool_)
        non_positive = np.asarray((prices <= 0).any(axis=0), dtype=np.bool_)
        checks: list[tuple[BoolArray, str]] = [
            (~t.ts_ok, "missing or unparseable timestamp"),
            (has_nan, "NaN or non-numeric value"),
            (non_positive, "zero or negative price"),
            (vol < 0, "negative volume"),
            (h < lo, "high below low"),
            ((h < np.maximum(o, c)) | (lo > np.minimum(o, c)), "open/close outside high-low"),
            *_order_checks(t.ts_ns, strict=True),
        ]
    _first_problem(t, checks)


def _validate_trades(t: _Table) -> None:
    price, qty = t.values["price"], t.values["amount"]
    side = t.text["side"]
    ids = t.text.get("id")
    with np.errstate(invalid="ignore"):
        checks: list[tuple[BoolArray, str]] = [
            (~t.ts_ok, "missing or unparseable timestamp"),
            (np.isnan(price) | np.isnan(qty), "NaN or non-numeric price/amount"),
            (price <= 0, "zero or negative price"),
            (qty <= 0, "zero or negative amount"),
            (~np.isin(side, ["buy", "sell"]), "side must be 'buy' or 'sell'"),
            *_order_checks(t.ts_ns, strict=False),
            (_duplicates(t, ids), "duplicate trade"),
        ]
    _first_problem(t, checks)


def _duplicates(t: _Table, ids: npt.NDArray[Any] | None) -> BoolArray:
    if ids is not None:
        return pd.Series(ids).astype(str).duplicated().to_numpy()
    frame = pd.DataFrame(
        {"ts": t.ts_ns, "p": t.values["price"], "q": t.values["amount"], "s": t.text["side"]}
    )
    return frame.eq(frame.shift()).all(axis=1).to_numpy()


# ---------------------------------------------------------------- building events


def _datetimes(ts_ns: npt.NDArray[np.int64]) -> list[datetime]:
    return [_EPOCH + timedelta(microseconds=int(n) // 1000) for n in ts_ns]


def _decimals(values: npt.NDArray[np.float64]) -> list[Any]:
    return [to_decimal(float(x)) for x in values]


def symbol_for(path: Path) -> str:
    """The pair a shared-data file holds, from its name (BASE_QUOTE-... or a known name)."""
    if path.name in KNOWN_SYMBOLS:
        return KNOWN_SYMBOLS[path.name]
    match = _PAIR_NAME.match(path.name)
    if match:
        return f"{match.group(1)}/{match.group(2)}"
    raise ValidationFailed(
        f"{path.name}: cannot tell the symbol from the file name; pass symbol=",
        code="unknown_symbol",
    )


def _timeframe(path: Path, ts_ns: npt.NDArray[np.int64]) -> int:
    match = _TIMEFRAME_NAME.search(path.name)
    if match:
        return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if "daily" in path.name.lower():
        return 86400
    if ts_ns.size > 1:
        return max(1, int(np.median(np.diff(ts_ns)) // 1_000_000_000))
    raise ValidationFailed(
        f"{path.name}: cannot infer the timeframe; pass timeframe=", code="bad_market_data"
    )


def _candle_table(path: Path) -> _Table:
    num = ["open", "high", "low", "close", "volume"]
    if path.suffix == ".feather":
        return _table(path, pd.read_feather(path), "date", num, (), csv=False)
    if path.suffix == ".csv":
        frame = pd.read_csv(path)
        ts_col = "Date" if "Date" in frame.columns else "date"
        return _table(path, frame, ts_col, num, (), csv=True)
    rows = _read_json(path)
    return _table(path, _list_frame(path, rows, ["ts", *num]), "ts", num, (), csv=False)


def _trade_table(path: Path) -> _Table:
    if path.suffix == ".csv":
        frame = pd.read_csv(path, dtype={"id": str, "side": str})
        txt = ["side", "id"] if "id" in frame.columns else ["side"]
        return _table(path, frame, "timestamp", ["price", "amount"], txt, csv=True)
    cols = ["timestamp", "id", "type", "side", "price", "amount"]
    frame = _list_frame(path, _read_json(path), cols)
    return _table(path, frame, "timestamp", ["price", "amount"], ["side", "id"], csv=False)


def load_candles(
    path: Path | str, *, symbol: str | None = None, timeframe: int | None = None
) -> list[Candle]:
    """Validated candles from a daily CSV, a .feather file or a JSON list of [ms,o,h,l,c,v]."""
    path = Path(path)
    table = _candle_table(path)
    _validate_candles(table)
    sym = symbol or symbol_for(path)
    tf = timeframe or _timeframe(path, table.ts_ns)
    cols = [_decimals(table.values[k]) for k in (*_PRICE_COLS, "volume")]
    return [
        Candle(ts, sym, o, h, lo, c, v, tf)
        for ts, o, h, lo, c, v in zip(_datetimes(table.ts_ns), *cols, strict=True)
    ]


def load_trades(path: Path | str, *, symbol: str | None = None) -> list[Trade]:
    """Validated trade prints from a trades CSV or a (gzipped) JSON list of prints."""
    path = Path(path)
    table = _trade_table(path)
    _validate_trades(table)
    return _trades(table, symbol or symbol_for(path))


def _trades(table: _Table, symbol: str) -> list[Trade]:
    """Trade events of a validated trade table."""
    ids = table.text.get("id")
    id_list = [str(i) for i in ids] if ids is not None else [None] * len(table.ts_ns)
    return [
        Trade(ts, symbol, p, q, side, tid)
        for ts, p, q, side, tid in zip(
            _datetimes(table.ts_ns),
            _decimals(table.values["price"]),
            _decimals(table.values["amount"]),
            table.text["side"],
            id_list,
            strict=True,
        )
    ]


_CAPTURE_LINE = re.compile(rb"^\d+ [{]")
_QUOTES = ("USDT", "USDC", "BUSD", "FDUSD", "TUSD", "ZAR", "EUR", "BTC", "ETH", "BNB")


def _is_capture(path: Path) -> bool:
    """A raw exchange WebSocket capture: lines of '<receive time ns> <json message>'."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as handle:
        return bool(_CAPTURE_LINE.match(handle.readline(64)))


def _capture_symbol(raw: str) -> str:
    """'BTCUSDT' -> 'BTC/USDT' (Binance stream symbols carry no separator)."""
    for quote in _QUOTES:
        if raw.endswith(quote) and len(raw) > len(quote):
            return f"{raw[: -len(quote)]}/{quote}"
    raise ValidationFailed(f"cannot split symbol {raw!r} into base/quote", code="bad_market_data")


def load_capture_trades(path: Path | str, *, symbol: str | None = None) -> list[Trade]:
    """Trade prints from a raw Binance WebSocket capture ('<ns> <json>' per line, as
    recorded by hftbacktest's collector; other messages — depth diffs, book tickers, the
    REST snapshot — are skipped). Each `@trade` message is one print at its trade time
    `T`; `m` (buyer is the maker) makes the taker side a sell. Validated like every
    trade file: unsorted times, repeated trade ids, non-positive prices or sizes raise
    naming the file and the line."""
    path = Path(path)
    opener = gzip.open if path.name.endswith(".gz") else open
    rows: list[tuple[int, str, str, str, str, str]] = []  # line, ms, price, qty, side, id
    with opener(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if '"e":"trade"' not in line:
                continue
            try:
                data = json.loads(line.split(" ", 1)[1])["data"]
                rows.append(
                    (number, str(data["T"]), data["p"], data["q"], data["m"], str(data["t"]))
                )
                raw_symbol = data["s"]
            except (IndexError, KeyError, TypeError, json.JSONDecodeError) as exc:
                raise ValidationFailed(
                    f"{path.name} line {number}: not a trade message ({exc})",
                    code="bad_market_data",
                ) from None
    if not rows:
        raise ValidationFailed(f"{path.name}: no trade messages", code="bad_market_data")
    frame = pd.DataFrame(
        {
            "timestamp": [int(r[1]) for r in rows],
            "price": pd.to_numeric([r[2] for r in rows], errors="coerce"),
            "amount": pd.to_numeric([r[3] for r in rows], errors="coerce"),
            "side": ["sell" if r[4] else "buy" for r in rows],
            "id": [r[5] for r in rows],
        }
    )
    table = _table(path, frame, "timestamp", ["price", "amount"], ["side", "id"], csv=False)
    try:
        _validate_trades(table)
    except ValidationFailed as exc:  # name the file line too, not only the n-th print
        row = (exc.details or {}).get("row")
        if not isinstance(row, int):
            raise
        file_line = rows[row - 1][0]
        raise ValidationFailed(
            f"{exc.message} (file line {file_line})",
            code="bad_market_data",
            details={**exc.details, "line": file_line},
        ) from None
    return _trades(table, symbol or _capture_symbol(raw_symbol))


def load_file(path: Path | str, *, symbol: str | None = None) -> list[Candle] | list[Trade]:
    """Candles or trades, whichever the file holds (trade files say so in name or header;
    raw exchange captures by their '<ns> <json>' lines)."""
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"no market data file {path}", code="market_data_missing")
    if _is_capture(path):
        return load_capture_trades(path, symbol=symbol)
    return (
        load_trades(path, symbol=symbol) if _is_trades(path) else load_candles(path, symbol=symbol)
    )


# ---------------------------------------------------------------- the feed


class ReplayMarket:
    """Plays events in event-time order: `speed=None` as fast as possible, else `speed`×.

    Pacing targets wall time from the injected clock (start + elapsed/speed), so slow
    consumers do not make a long replay drift, and a ManualClock plus a fake sleep tests
    it without waiting.
    """

    def __init__(
        self,
        events: Iterable[MarketEvent],
        *,
        instruments: Sequence[Instrument] | None = None,
        speed: float | None = None,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if speed is not None and speed <= 0:
            raise ValidationFailed(f"replay speed must be > 0, got {speed}", code="bad_speed")
        self._events = sorted(events, key=event_time)
        self._instruments = (
            tuple(instruments) if instruments is not None else _instruments_for(self._events)
        )
        self.speed = speed
        self._clock = clock or SystemClock()
        self._sleep = sleep

    @classmethod
    def from_files(
        cls,
        paths: Iterable[Path | str],
        *,
        speed: float | None = None,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> ReplayMarket:
        """Load and validate every file first; merge them into one time-ordered stream."""
        loaded: list[Sequence[MarketEvent]] = [load_file(p) for p in paths]
        merged: Iterator[MarketEvent] = heapq.merge(*loaded, key=event_time)
        return cls(merged, speed=speed, clock=clock, sleep=sleep)

    @classmethod
    def from_series(
        cls,
        names: Iterable[str],
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        speed: float | None = None,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> ReplayMarket:
        """Stored candle series (``binance/BTC-USDT/1h``: the user's store first, then the
        shipped sample), restricted to open times in ``[start, end)``, merged in time."""
        from amarktai.marketdata.sources import locate  # the store loads pyarrow
        from amarktai.marketdata.store import SeriesKey

        loaded: list[Sequence[MarketEvent]] = []
        for name in names:
            key = SeriesKey.parse(name)
            located = locate(key)
            if located is None:
                raise NotFound(f"no stored series {name}; see `amarktai data list`",
                               code="series_missing", details={"series": name})  # fmt: skip
            arrays = located.store.read(
                key,
                start_ms=None if start is None else int(start.timestamp() * 1000),
                end_ms=None if end is None else int(end.timestamp() * 1000),
            )
            loaded.append(arrays.to_candles(key.symbol, key.timeframe_s))
        merged: Iterator[MarketEvent] = heapq.merge(*loaded, key=event_time)
        return cls(merged, speed=speed, clock=clock, sleep=sleep)

    def instruments(self) -> Sequence[Instrument]:
        return self._instruments

    def __len__(self) -> int:
        return len(self._events)

    def events(self) -> Iterator[MarketEvent]:
        return iter(self._events)

    async def __aiter__(self) -> AsyncIterator[MarketEvent]:
        if not self._events:
            return
        first = event_time(self._events[0])
        wall_start = self._clock.now()
        for i, event in enumerate(self._events):
            if self.speed is None:
                if i % 1000 == 0:
                    await asyncio.sleep(0)
            else:
                target = wall_start + (event_time(event) - first) / self.speed
                delay = (target - self._clock.now()).total_seconds()
                if delay > 0:
                    await self._sleep(delay)
            yield event


def _instruments_for(events: Sequence[MarketEvent]) -> tuple[Instrument, ...]:
    registry = default_registry()
    symbols = dict.fromkeys(e.symbol for e in events)
    known = {i.symbol: i for i in registry.for_exchange("replay")}
    return tuple(known.get(s) or generic_instrument(s) for s in symbols)
