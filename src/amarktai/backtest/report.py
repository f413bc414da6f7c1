"""Self-contained HTML report of a backtest: inline SVG charts, no scripts, no CDN, so
it opens offline and can be stored or e-mailed as one file."""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np

from amarktai.backtest.models import BacktestResult, FloatArray

__all__ = ["render_html"]

_W, _H, _PAD = 900, 220, 36
_MAX_POINTS = 2000
_MAX_TRADE_ROWS = 500


def _downsample(values: FloatArray) -> FloatArray:
    """Keep charts light: at most ``_MAX_POINTS`` evenly spaced points (ends kept)."""
    if len(values) <= _MAX_POINTS:
        return values
    idx = np.linspace(0, len(values) - 1, _MAX_POINTS).round().astype(int)
    return values[idx]


def _svg_line(values: FloatArray, colour: str, label: str) -> str:
    pts = _downsample(values)
    lo, hi = float(np.min(pts)), float(np.max(pts))
    span = hi - lo or 1.0
    xs = _PAD + np.linspace(0, _W - 2 * _PAD, len(pts))
    ys = _H - _PAD - (pts - lo) / span * (_H - 2 * _PAD)
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    return (
        f'<svg viewBox="0 0 {_W} {_H}" width="100%" role="img" aria-label="{label}">'
        f'<rect width="{_W}" height="{_H}" fill="#fafafa"/>'
        f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{path}"/>'
        f'<text x="4" y="{_PAD - 8}" font-size="12">{html.escape(label)}</text>'
        f'<text x="4" y="{_PAD + 4}" font-size="10">{hi:,.4g}</text>'
        f'<text x="4" y="{_H - _PAD}" font-size="10">{lo:,.4g}</text></svg>'
    )


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _metric_rows(result: BacktestResult) -> list[tuple[str, str]]:
    def fmt(v: object) -> str:
        return f"{v:.6g}" if isinstance(v, float) else "—" if v is None else str(v)

    metrics = result.metrics.to_dict()
    why = metrics.pop("unavailable", {})
    rows = [
        (k, fmt(v) if v is not None or k not in why else f"— ({why[k]})")
        for k, v in metrics.items()
    ]
    extra = [("final_equity", fmt(result.final_equity)), ("fills", str(len(result.fills))),
             ("decisions", str(result.decisions)), ("denied", str(result.denied))]  # fmt: skip
    return extra + rows


def render_html(result: BacktestResult, *, title: str | None = None) -> str:
    """The whole report as one HTML string (equity, drawdown, metrics, trades)."""
    name = title or f"Backtest: {result.strategy} {result.params}"
    drawdown = result.equity / np.maximum.accumulate(result.equity) - 1.0
    trades = [
        (t.symbol, t.entry_bar, t.entry_time.isoformat(), t.entry_price, t.qty,
         t.exit_bar if t.exit_bar is not None else "open",
         t.exit_time.isoformat() if t.exit_time else "", t.exit_price or "",
         f"{t.pnl:.2f}", f"{t.fees:.2f}")
        for t in result.trades[:_MAX_TRADE_ROWS]
    ]  # fmt: skip
    more = len(result.trades) - len(trades)
    note = f"<p>{more} more trades not shown.</p>" if more > 0 else ""
    style = (
        "body{font-family:system-ui,sans-serif;margin:24px;color:#222}"
        "table{border-collapse:collapse;font-size:12px;margin:12px 0}"
        "td,th{border:1px solid #ddd;padding:3px 6px;text-align:right}"
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(name)}</title>"
        f"<style>{style}</style></head><body><h1>{html.escape(name)}</h1>"
        f"<p>{result.path} path; {len(result.equity)} bars from {result.times[0]} to "
        f"{result.times[-1]}</p>"
        + _svg_line(result.equity, "#1f77b4", "Equity")
        + _svg_line(drawdown, "#d62728", "Drawdown")
        + "<h2>Metrics</h2>"
        + _table(("metric", "value"), _metric_rows(result))
        + "<h2>Trades</h2>"
        + _table(
            (
                "symbol",
                "entry bar",
                "entry time",
                "entry price",
                "qty",
                "exit bar",
                "exit time",
                "exit price",
                "pnl",
                "fees",
            ),
            trades,
        )
        + note
        + "</body></html>"
    )
