"""`amarktai data ...`: the local candle store (download, import, list).

The store lives under the data dir (``var/market`` by default, ``$AMARKTAI_MARKET_DIR``
to move it); backtests, VaR/Monte Carlo history, stress tests and the replay market read
it before the sample shipped with the package.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from amarktai.cli.common import console, fail
from amarktai.kit.errors import DomainError
from amarktai.marketdata import sources
from amarktai.marketdata.download import PAGE_LIMIT, download, make_client
from amarktai.marketdata.importer import import_path
from amarktai.marketdata.store import SeriesKey, WriteReport

data_app = typer.Typer(
    help="Market-data store: download, import and list candles.", no_args_is_help=True
)


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _print_report(report: WriteReport) -> None:
    for line in report.lines():
        console.print(f"  [yellow]{line}[/yellow]", highlight=False)


@data_app.command("download")
def data_download(
    exchange: str = typer.Option(..., help="venue, e.g. binance"),
    symbol: str = typer.Option(..., help="BASE/QUOTE, e.g. BTC/USDT"),
    timeframe: str = typer.Option("1h", help="1m, 5m, 1h, 1d, ..."),
    since: datetime = typer.Option(..., help="first candle open time (UTC)"),
    until: datetime | None = typer.Option(None, help="end, exclusive (UTC; default now)"),
    page_limit: int = typer.Option(PAGE_LIMIT, min=1, help="candles per request"),
) -> None:
    """Download candles into the store: incremental, resumable, gaps reported."""
    try:
        key = SeriesKey.of(exchange, symbol, timeframe)
        store = sources.user_store()
        client = make_client(key.venue)
    except DomainError as exc:
        fail(f"{exc.message} ({exc.code})")
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )

    async def run() -> None:
        with Progress(*columns, console=console) as bar:
            task = bar.add_task(key.name, total=1.0)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done / total if total else 1.0)

            try:
                result = await download(
                    client,
                    store,
                    key,
                    since=_utc(since) or since,
                    until=_utc(until),
                    page_limit=page_limit,
                    progress=progress,
                )
            finally:
                await client.close()
        report = result.report
        last = result.resumed_from_ms
        resumed = f", continued after {_iso(last)}" if last is not None else ""
        console.print(
            f"{key.name}: {result.fetched} candles in {result.requests} requests, "
            f"{report.stored} new, {report.rows} stored{resumed}",
            highlight=False,
        )
        _print_report(report)

    try:
        asyncio.run(run())
    except DomainError as exc:
        fail(f"{exc.message} ({exc.code}); what was fetched is stored, run again to resume")


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


@data_app.command("import")
def data_import(
    path: Path = typer.Argument(..., help="a candle file, or a folder of them"),
    exchange: str | None = typer.Option(None, help="venue (default: from the path)"),
    symbol: str | None = typer.Option(None, help="BASE/QUOTE (default: from the name)"),
    timeframe: str | None = typer.Option(None, help="1m, 1h, 1d... (default: from the data)"),
) -> None:
    """Import candle files (CSV, feather, Parquet, JSON) into the store."""
    try:
        results = import_path(
            sources.user_store(), path, venue=exchange, symbol=symbol, timeframe=timeframe
        )
    except DomainError as exc:
        fail(f"{exc.message} ({exc.code})")
        return
    failed = 0
    for result in results:
        if result.error is not None or result.report is None:
            failed += 1
            console.print(f"[red]skipped[/red] {result.path}: {result.error}", highlight=False)
            continue
        report = result.report
        console.print(
            f"{result.path} -> {result.key}: {report.received} rows, {report.stored} new, "
            f"{report.rows} stored",
            highlight=False,
        )
        _print_report(report)
    if not results:
        fail(f"no candle files in {path}")
    if failed == len(results):
        fail("nothing imported")


@data_app.command("list")
def data_list() -> None:
    """List stored series (your store, then the shipped sample)."""
    table = Table(title=f"candle store: {sources.store_dir()}")
    for column in ("series", "source", "rows", "from", "to", "gaps", "missing", "size"):
        table.add_column(column, justify="right" if column in {"rows", "gaps", "missing",
                                                               "size"} else "left")  # fmt: skip
    for store, info in sources.all_series():
        table.add_row(
            info.key.name,
            store.label,
            str(info.rows),
            _iso(info.start_ms) if info.start_ms is not None else "",
            _iso(info.end_ms) if info.end_ms is not None else "",
            str(info.gaps),
            str(info.missing),
            f"{info.bytes / 1024:,.0f} KiB",
        )
    console.print(table)
