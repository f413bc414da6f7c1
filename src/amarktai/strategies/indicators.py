"""Technical indicators as pure NumPy functions, plus O(1) streaming twins for live use.

Conventions (chosen to match TA-Lib and Wilder's book, the definitions traders quote):

- Inputs are 1-D float64 arrays; outputs have the same length with NaN during warm-up.
  Leading NaNs in an input are skipped (so indicators can be chained, e.g. the MACD
  signal is an EMA of the MACD line); NaNs after the first finite value are not supported
  and make the result undefined from that point.
- ``ema`` is seeded with the SMA of the first ``n`` values (first output at index
  ``n - 1``). ``seed="first"`` starts the recursion at the first value instead, which is
  what pandas ``ewm(span=n, adjust=False)`` and the ``ta`` library do; both converge.
- ``rsi`` and ``atr`` use Wilder smoothing (alpha = 1/n) seeded with the plain mean of
  the first ``n`` changes / true ranges, so the first RSI is at index ``n`` and the first
  ATR at index ``n`` (the first bar has no previous close, hence no true range).
- ``rolling_std`` defaults to the population deviation (``ddof=0``), as Bollinger
  defined his bands; pass ``ddof=1`` for the sample deviation.

Every batch function is O(n) and loop-free apart from a short loop over blocks; each
``*Stream`` class gives the same numbers one bar at a time (tests hold them to 1e-9).

The ``*_last`` functions return only the final element of their batch twin, bit for bit
(the same float operations in the same order; tests compare the bits), for a strategy's
``on_bar``, which needs nothing else. They skip the arrays of intermediate values the
batch builds, so a decision on a few hundred bars costs a handful of NumPy calls
instead of dozens. They are not streaming updates: the engine hands a strategy a
trailing window whose first bar moves every close, and both the SMA's centring value
and the EMA/Wilder seed depend on that first bar, so an O(1) running update would
drift from the batch value in the last bits and change decision traces.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from amarktai.kit.errors import ValidationFailed

FloatArray = npt.NDArray[np.float64]
EmaSeed = Literal["sma", "first"]

# Largest growth factor allowed inside one block of the closed-form EMA; keeps the
# scaled partial sums far from overflow while leaving ~1e-13 relative accuracy.
_MAX_BLOCK_GROWTH = 1e60


class BollingerBands(NamedTuple):
    middle: FloatArray
    upper: FloatArray
    lower: FloatArray


class MACDResult(NamedTuple):
    line: FloatArray
    signal: FloatArray
    histogram: FloatArray


# ---------------------------------------------------------------------------- helpers


def _series(values: npt.ArrayLike, name: str = "values") -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValidationFailed(f"{name} must be one-dimensional", code="invalid_series")
    return arr


def _window(n: int, name: str = "window") -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValidationFailed(
            f"{name} must be an integer >= 1, got {n!r}", code="invalid_parameter"
        )
    return int(n)


def _first_finite(x: FloatArray) -> int:
    """Index of the first finite value, or len(x) when there is none."""
    if len(x) == 0 or math.isfinite(x[0]):
        return 0
    finite = np.isfinite(x)
    first = int(np.argmax(finite))
    return first if finite[first] else len(x)


def _nans(length: int) -> FloatArray:
    return np.full(length, np.nan, dtype=np.float64)


def _ewma_from(x: FloatArray, alpha: float, carry: float) -> FloatArray:
    """y[t] = (1-alpha)·y[t-1] + alpha·x[t] with y[-1] = carry, without a per-item loop.

    The series is cut into blocks of length L. Inside a block, with d = 1-alpha,
    y[j] = d^(j+1)·c + alpha·d^j·Σ_{k<=j} x[k]·d^(-k), where c is the value before the
    block: all blocks are computed at once as a 2-D cumulative sum assuming c = 0, then
    the block carries (one scalar recursion per block) are added back. L keeps d^(-k)
    below 1e60, so nothing overflows, and since each term is rescaled by d^j the rounding
    error stays proportional to |x| (about 1e-13 relative).
    """
    size = len(x)
    decay = 1.0 - alpha
    if decay <= 0.0 or size == 0:
        return np.array(x, dtype=np.float64)
    block = _block(size, decay)
    powers, scaled = _powers(alpha, block)
    if block == size:  # one block, the usual case: the same sums without grid or carries
        one = np.cumsum(x / powers[:block])
        one *= scaled
        one += carry * powers[1:]
        return one
    rows = -(-size // block)
    grid = np.zeros(rows * block)
    grid[:size] = x
    within = np.cumsum(grid.reshape(rows, block) / powers[:block], axis=1)
    within *= scaled
    carries = [carry]
    for end in within[:-1, -1].tolist():
        carries.append(powers[block] * carries[-1] + end)
    within += np.multiply.outer(np.array(carries), powers[1:])
    return within.ravel()[:size]


def _block(size: int, decay: float) -> int:
    """Block length of ``_ewma_from`` for a series of ``size`` values (0 < decay < 1)."""
    return min(size, max(1, int(math.log(_MAX_BLOCK_GROWTH) / -math.log(decay))))


# (d ** arange(block + 1), alpha · d ** arange(block)) by (alpha, block), d = 1 - alpha:
# a window of fixed length asks for the same powers on every bar, and computing them is
# the costliest part of a short EMA. Keyed by the exact length, since a vectorised pow
# need not round element j alike in arrays of different lengths; bounded so that the
# many lengths of backtests cannot grow it.
_POWERS: dict[tuple[float, int], tuple[FloatArray, FloatArray]] = {}
_POWERS_MAX_ENTRIES = 128
_POWERS_MAX_BLOCK = 8192


def _powers(alpha: float, block: int) -> tuple[FloatArray, FloatArray]:
    key = (alpha, block)
    cached = _POWERS.get(key)
    if cached is None:
        powers = (1.0 - alpha) ** np.arange(block + 1, dtype=np.float64)
        cached = powers, alpha * powers[:block]
        if block <= _POWERS_MAX_BLOCK:
            for array in cached:
                array.flags.writeable = False
            if len(_POWERS) >= _POWERS_MAX_ENTRIES:
                _POWERS.clear()
            _POWERS[key] = cached
    return cached


def _ewma_last(x: FloatArray, alpha: float, carry: float) -> float:
    """``_ewma_from(x, alpha, carry)[-1]`` for a non-empty ``x``, bit for bit.

    In one block the last value is ``cumsum(x / d^k)[-1]·(alpha·d^(m-1)) + carry·d^m``,
    exactly the operations the batch applies to its last element; longer series (more
    than one block) take the batch path.
    """
    size = len(x)
    decay = 1.0 - alpha
    if decay <= 0.0:
        return float(x[-1])
    block = _block(size, decay)
    if block < size:
        return float(_ewma_from(x, alpha, carry)[-1])
    powers, scaled = _powers(alpha, block)
    total = float(np.cumsum(x / powers[:block])[-1])
    return total * float(scaled[block - 1]) + carry * float(powers[block])


def _mean(x: FloatArray) -> float:
    """``float(np.mean(x))`` for a float64 array, without np.mean's Python wrapper
    (it is the same pairwise ``add.reduce`` divided by the count)."""
    return float(np.add.reduce(x)) / len(x)


def _seeded_last(x: FloatArray, n: int, alpha: float, seed: EmaSeed) -> float:
    """``_seeded_smoothing(x, n, alpha, seed)[-1]``, bit for bit."""
    start = _first_finite(x)
    if len(x) - start < n:
        return math.nan
    if seed == "sma":
        first = start + n - 1
        seeded = _mean(x[start : first + 1])
        return seeded if first == len(x) - 1 else _ewma_last(x[first + 1 :], alpha, seeded)
    if len(x) - start == 1:
        return float(x[start])
    return _ewma_last(x[start + 1 :], alpha, float(x[start]))


def _seeded_smoothing(x: FloatArray, n: int, alpha: float, seed: EmaSeed) -> FloatArray:
    """Exponential smoothing that starts at the first finite value of ``x``."""
    out = _nans(len(x))
    start = _first_finite(x)
    if len(x) - start < n:
        return out
    if seed == "sma":
        first = start + n - 1
        out[first] = _mean(x[start : first + 1])
        out[first + 1 :] = _ewma_from(x[first + 1 :], alpha, float(out[first]))
    else:
        smoothed = _ewma_from(x[start + 1 :], alpha, float(x[start]))
        out[start + n - 1 :] = np.concatenate(([x[start]], smoothed))[n - 1 :]
    return out


# ---------------------------------------------------------------------- batch indicators


def sma(values: npt.ArrayLike, n: int) -> FloatArray:
    """Simple moving average via one cumulative sum.

    The sum runs on values minus the first finite value, which keeps the running total
    small on trending prices and the rounding error near 1e-12 of the price level.
    """
    x, n = _series(values), _window(n)
    out = _nans(len(x))
    start = _first_finite(x)
    if len(x) - start < n:
        return out
    base = x[start]
    csum = np.empty(len(x) - start + 1)
    csum[0] = 0.0
    np.cumsum(x[start:] - base, out=csum[1:])
    tail = out[start + n - 1 :]
    np.subtract(csum[n:], csum[:-n], out=tail)
    tail /= n
    tail += base
    return out


def ema(values: npt.ArrayLike, n: int, *, seed: EmaSeed = "sma") -> FloatArray:
    """Exponential moving average with alpha = 2/(n+1); see the module notes on seeding."""
    x, n = _series(values), _window(n)
    return _seeded_smoothing(x, n, 2.0 / (n + 1.0), seed)


def wilder(values: npt.ArrayLike, n: int) -> FloatArray:
    """Wilder's smoothing (alpha = 1/n) seeded with the mean of the first n values."""
    x, n = _series(values), _window(n)
    return _seeded_smoothing(x, n, 1.0 / n, "sma")


def rolling_std(values: npt.ArrayLike, n: int, *, ddof: int = 0) -> FloatArray:
    """Rolling standard deviation in O(n) that stays accurate on large price levels.

    A single cumulative sum of squares cancels catastrophically on prices (1e5 squared,
    summed over a million bars). Windows are therefore processed in chunks: each chunk
    of ``n`` consecutive windows is centred on its own first value before summing, so the
    error scales with the local price range, not with the whole history.
    """
    x, n = _series(values), _window(n)
    if ddof < 0 or ddof >= n:
        raise ValidationFailed("ddof must be in [0, window)", code="invalid_parameter")
    out = _nans(len(x))
    start = _first_finite(x)
    data = x[start:]
    count = len(data) - n + 1
    if count <= 0:
        return out
    chunks = -(-count // n)
    padded = np.concatenate((data, np.full(chunks * n - count, data[-1])))
    rows = np.lib.stride_tricks.sliding_window_view(padded, 2 * n - 1)[::n]
    centred = rows - rows[:, :1]
    zeros = np.zeros((chunks, 1))
    s1 = np.concatenate((zeros, np.cumsum(centred, axis=1)), axis=1)
    s2 = np.concatenate((zeros, np.cumsum(centred * centred, axis=1)), axis=1)
    win1 = s1[:, n : 2 * n] - s1[:, :n]
    win2 = s2[:, n : 2 * n] - s2[:, :n]
    var = np.maximum(win2 - win1 * win1 / n, 0.0) / (n - ddof)
    out[start + n - 1 :] = np.sqrt(var.ravel()[:count])
    return out


def bollinger(
    values: npt.ArrayLike, n: int = 20, k: float = 2.0, *, ddof: int = 0
) -> BollingerBands:
    """Bollinger bands: SMA(n) ± k·σ(n)."""
    middle = sma(values, n)
    width = k * rolling_std(values, n, ddof=ddof)
    return BollingerBands(middle, middle + width, middle - width)


def rsi(values: npt.ArrayLike, n: int = 14) -> FloatArray:
    """Wilder's RSI in [0, 100]; 100 when there were no losses, 50 when nothing moved."""
    x, n = _series(values), _window(n)
    out = _nans(len(x))
    start = _first_finite(x)
    if len(x) - start <= n:
        return out
    change = np.diff(x[start:])
    gain = wilder(np.maximum(change, 0.0), n)
    loss = wilder(np.maximum(-change, 0.0), n)
    out[start + 1 :] = _rsi_from_averages(gain, loss)
    return out


def _rsi_from_averages(gain: FloatArray, loss: FloatArray) -> FloatArray:
    total = gain + loss
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(total > 0, 100.0 * gain / total, 50.0)
    return np.where(np.isnan(total), np.nan, value)


def macd(
    values: npt.ArrayLike, fast: int = 12, slow: int = 26, signal: int = 9, *, seed: EmaSeed = "sma"
) -> MACDResult:
    """MACD line = EMA(fast) − EMA(slow); signal = EMA(signal) of the line."""
    fast, slow, signal = _window(fast, "fast"), _window(slow, "slow"), _window(signal, "signal")
    x = _series(values)
    line = ema(x, fast, seed=seed) - ema(x, slow, seed=seed)
    sig = ema(line, signal, seed=seed)
    return MACDResult(line, sig, line - sig)


def true_range(high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike) -> FloatArray:
    """max(high−low, |high−prev close|, |low−prev close|); NaN on the first bar (no prev close)."""
    h, lo, c = _series(high, "high"), _series(low, "low"), _series(close, "close")
    if not len(h) == len(lo) == len(c):
        raise ValidationFailed("high, low and close differ in length", code="invalid_series")
    out = _nans(len(c))
    prev = c[:-1]
    out[1:] = np.maximum(h[1:] - lo[1:], np.maximum(np.abs(h[1:] - prev), np.abs(lo[1:] - prev)))
    return out


def atr(high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike, n: int = 14) -> FloatArray:
    """Wilder's average true range, TA-Lib seeding (mean of true ranges 1..n)."""
    return wilder(true_range(high, low, close), _window(n))


# ----------------------------------------------------------------- last values only


def sma_last(values: npt.ArrayLike, n: int) -> float:
    """``sma(values, n)[-1]``, bit for bit: one cumulative sum, no output array."""
    x, n = _series(values), _window(n)
    start = _first_finite(x)
    size = len(x) - start
    if size < n:
        return math.nan
    base = x[start]
    csum = np.cumsum(x[start:] - base)
    earlier = float(csum[size - n - 1]) if size > n else 0.0
    return (float(csum[-1]) - earlier) / n + float(base)


def ema_last(values: npt.ArrayLike, n: int, *, seed: EmaSeed = "sma") -> float:
    """``ema(values, n, seed=seed)[-1]``, bit for bit."""
    x, n = _series(values), _window(n)
    return _seeded_last(x, n, 2.0 / (n + 1.0), seed)


def wilder_last(values: npt.ArrayLike, n: int) -> float:
    """``wilder(values, n)[-1]``, bit for bit."""
    x, n = _series(values), _window(n)
    return _seeded_last(x, n, 1.0 / n, "sma")


def rolling_std_last(values: npt.ArrayLike, n: int, *, ddof: int = 0) -> float:
    """``rolling_std(values, n, ddof=ddof)[-1]``, bit for bit.

    The batch centres each chunk of ``n`` windows on the chunk's first value; the last
    window's chunk starts at a multiple of ``n`` and reaches the end of the data, so its
    sums are two cumulative sums over that tail, centred the same way.
    """
    x, n = _series(values), _window(n)
    if ddof < 0 or ddof >= n:
        raise ValidationFailed("ddof must be in [0, window)", code="invalid_parameter")
    start = _first_finite(x)
    count = len(x) - start - n + 1
    if count <= 0:
        return math.nan
    chunk, col = divmod(count - 1, n)
    tail = x[start + chunk * n :]
    centred = tail - tail[0]
    s1 = np.cumsum(centred)
    s2 = np.cumsum(centred * centred)
    win1 = float(s1[-1]) - (float(s1[col - 1]) if col else 0.0)
    win2 = float(s2[-1]) - (float(s2[col - 1]) if col else 0.0)
    spread = win2 - win1 * win1 / n
    if not (spread > 0.0 or spread != spread):  # np.maximum(spread, 0.0), NaN kept
        spread = 0.0
    return math.sqrt(spread / (n - ddof))


def bollinger_last(
    values: npt.ArrayLike, n: int = 20, k: float = 2.0, *, ddof: int = 0
) -> tuple[float, float, float]:
    """The last (middle, upper, lower) of ``bollinger``, bit for bit."""
    x = _series(values)
    middle = sma_last(x, n)
    width = k * rolling_std_last(x, n, ddof=ddof)
    return middle, middle + width, middle - width


def rsi_last(values: npt.ArrayLike, n: int = 14) -> float:
    """``rsi(values, n)[-1]``, bit for bit."""
    x, n = _series(values), _window(n)
    start = _first_finite(x)
    if len(x) - start <= n:
        return math.nan
    change = np.diff(x[start:])
    alpha = 1.0 / n
    gain = _seeded_last(np.maximum(change, 0.0), n, alpha, "sma")
    loss = _seeded_last(np.maximum(-change, 0.0), n, alpha, "sma")
    total = gain + loss
    if math.isnan(total):
        return math.nan
    return 100.0 * gain / total if total > 0 else 50.0


def macd_last(
    values: npt.ArrayLike, fast: int = 12, slow: int = 26, signal: int = 9, *, seed: EmaSeed = "sma"
) -> tuple[float, float, float]:
    """The last (line, signal, histogram) of ``macd``, bit for bit. The signal line is
    an EMA over the whole MACD line, so the two EMAs stay batch; only the signal and
    histogram are reduced to their last value."""
    fast, slow, signal = _window(fast, "fast"), _window(slow, "slow"), _window(signal, "signal")
    x = _series(values)
    line = ema(x, fast, seed=seed) - ema(x, slow, seed=seed)
    sig = _seeded_last(line, signal, 2.0 / (signal + 1.0), seed)
    last = float(line[-1]) if len(line) else math.nan
    return last, sig, last - sig


# --------------------------------------------------------------------- streaming twins


class SMAStream:
    """Running mean over the last n values; the sum is rebuilt every n updates so
    floating-point drift cannot accumulate over months of live bars."""

    def __init__(self, n: int) -> None:
        self.n = _window(n)
        self._buf: deque[float] = deque(maxlen=self.n)
        self._sum = 0.0
        self._since_rebuild = 0
        self.value = math.nan

    def update(self, x: float) -> float:
        if len(self._buf) == self.n:
            self._sum -= self._buf[0]
        self._buf.append(x)
        self._sum += x
        self._since_rebuild += 1
        if self._since_rebuild >= self.n:
            self._sum = math.fsum(self._buf)
            self._since_rebuild = 0
        self.value = self._sum / self.n if len(self._buf) == self.n else math.nan
        return self.value


class _SmoothingStream:
    """y = (1-alpha)·y + alpha·x after an SMA seed of n values (the batch ``_seeded_smoothing``)."""

    def __init__(self, n: int, alpha: float, seed: EmaSeed = "sma") -> None:
        self.n = _window(n)
        self.alpha = alpha
        self.seed = seed
        self._count = 0
        self._acc = 0.0
        self._state = math.nan
        self.value = math.nan

    def update(self, x: float) -> float:
        if math.isnan(x) and self._count == 0:
            return self.value
        self._count += 1
        if self.seed == "first":
            self._state = x if self._count == 1 else self._state + self.alpha * (x - self._state)
            self.value = self._state if self._count >= self.n else math.nan
        elif self._count < self.n:
            self._acc += x
        elif self._count == self.n:
            self.value = self._state = (self._acc + x) / self.n
        else:
            self.value = self._state = (1.0 - self.alpha) * self._state + self.alpha * x
        return self.value


class EMAStream(_SmoothingStream):
    def __init__(self, n: int, *, seed: EmaSeed = "sma") -> None:
        super().__init__(n, 2.0 / (_window(n) + 1.0), seed)


class WilderStream(_SmoothingStream):
    def __init__(self, n: int) -> None:
        super().__init__(n, 1.0 / _window(n), "sma")


class RollingStdStream:
    """Welford-style add/remove over a ring buffer, rebuilt every n updates against drift."""

    def __init__(self, n: int, *, ddof: int = 0) -> None:
        self.n = _window(n)
        if ddof < 0 or ddof >= self.n:
            raise ValidationFailed("ddof must be in [0, window)", code="invalid_parameter")
        self.ddof = ddof
        self._buf: deque[float] = deque(maxlen=self.n)
        self._mean = 0.0
        self._m2 = 0.0
        self._since_rebuild = 0
        self.value = math.nan

    def update(self, x: float) -> float:
        if len(self._buf) == self.n:
            self._replace(self._buf[0], x)
        else:
            self._add(x)
        self._buf.append(x)
        self._since_rebuild += 1
        if self._since_rebuild >= self.n:
            self._rebuild()
        full = len(self._buf) == self.n
        self.value = math.sqrt(max(self._m2, 0.0) / (self.n - self.ddof)) if full else math.nan
        return self.value

    def _add(self, x: float) -> None:
        count = len(self._buf) + 1
        delta = x - self._mean
        self._mean += delta / count
        self._m2 += delta * (x - self._mean)

    def _replace(self, old: float, new: float) -> None:
        old_mean = self._mean
        self._mean += (new - old) / self.n
        self._m2 += (new - old) * (new - self._mean + old - old_mean)

    def _rebuild(self) -> None:
        data = np.fromiter(self._buf, dtype=np.float64)
        self._mean = float(data.mean())
        self._m2 = float(np.sum((data - self._mean) ** 2))
        self._since_rebuild = 0


class BollingerStream:
    def __init__(self, n: int = 20, k: float = 2.0, *, ddof: int = 0) -> None:
        self.k = k
        self._mean = SMAStream(n)
        self._std = RollingStdStream(n, ddof=ddof)
        self.middle = self.upper = self.lower = math.nan

    def update(self, x: float) -> tuple[float, float, float]:
        self.middle = self._mean.update(x)
        width = self.k * self._std.update(x)
        self.upper, self.lower = self.middle + width, self.middle - width
        return self.middle, self.upper, self.lower


class RSIStream:
    def __init__(self, n: int = 14) -> None:
        self._gain = WilderStream(n)
        self._loss = WilderStream(n)
        self._prev = math.nan
        self.value = math.nan

    def update(self, x: float) -> float:
        if not math.isnan(self._prev):
            change = x - self._prev
            gain = self._gain.update(max(change, 0.0))
            loss = self._loss.update(max(-change, 0.0))
            total = gain + loss
            self.value = (
                math.nan if math.isnan(total) else (100.0 * gain / total if total > 0 else 50.0)
            )
        self._prev = x
        return self.value


class MACDStream:
    def __init__(
        self, fast: int = 12, slow: int = 26, signal: int = 9, *, seed: EmaSeed = "sma"
    ) -> None:
        self._fast = EMAStream(fast, seed=seed)
        self._slow = EMAStream(slow, seed=seed)
        self._signal = EMAStream(signal, seed=seed)
        self.line = self.signal = self.histogram = math.nan

    def update(self, x: float) -> tuple[float, float, float]:
        self.line = self._fast.update(x) - self._slow.update(x)
        self.signal = self._signal.update(self.line)
        self.histogram = self.line - self.signal
        return self.line, self.signal, self.histogram


class ATRStream:
    def __init__(self, n: int = 14) -> None:
        self._smooth = WilderStream(n)
        self._prev_close = math.nan
        self.value = math.nan

    def update(self, high: float, low: float, close: float) -> float:
        if not math.isnan(self._prev_close):
            prev = self._prev_close
            tr = max(high - low, abs(high - prev), abs(low - prev))
            self.value = self._smooth.update(tr)
        self._prev_close = close
        return self.value
