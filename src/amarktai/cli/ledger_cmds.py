"""`amarktai ledger ...`: prove the journal (hash chain, replay) and export or check a bot's
verifiable track record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from amarktai.analytics import track_record
from amarktai.analytics.service import AnalyticsService
from amarktai.cli.common import console, fail, run_with_runtime
from amarktai.engine.repository import TradingRepository
from amarktai.kit.hashchain import ChainBreak
from amarktai.ledger.service import LedgerService, ReplayReport
from amarktai.runtime import Runtime

ledger_app = typer.Typer(help="Double-entry ledger: verify, replay, export.", no_args_is_help=True)


@ledger_app.command("verify")
def ledger_verify() -> None:
    """Recompute the journal's hash chain; exit 1 naming the first broken entry."""

    async def work(rt: Runtime) -> tuple[int, ChainBreak | None]:
        async with rt.sessions() as session:
            return await LedgerService(session, rt.clock).verify()

    count, broken = run_with_runtime(work)
    if broken is not None:
        where = f"entry {broken.entry_id} (#{broken.position + 1})"
        fail(f"ledger chain broken at {where}: {broken.reason}")
    console.print(f"ledger chain intact: {count} entries verified")


@ledger_app.command("replay")
def ledger_replay(
    user: str | None = typer.Option(None, help="only this user id"),
) -> None:
    """Recompute every balance from the amounts alone; exit 1 on any mismatch."""

    async def work(rt: Runtime) -> ReplayReport:
        async with rt.sessions() as session:
            return await LedgerService(session, rt.clock).replay(user)

    report = run_with_runtime(work)
    for miss in report.mismatches[:20]:
        console.print(
            f"seq {miss.seq}: {miss.account} {miss.asset} stored {miss.stored} "
            f"replayed {miss.replayed} ({miss.reason})",
            highlight=False,
        )
    if not report.ok:
        fail(f"replay found {len(report.mismatches)} mismatches")
    console.print(f"replay matches: {report.entries} entries, {report.postings} postings")


@ledger_app.command("export")
def ledger_export(
    bot: str = typer.Option(..., "--bot", help="bot id"),
    out: Path = typer.Option(..., "--out", help="file to write (JSON)"),
) -> None:
    """Write a bot's verifiable track record (entries, chain links, fills)."""

    async def work(rt: Runtime) -> dict[str, Any] | None:
        async with rt.sessions() as session:
            row = await TradingRepository(session).bot_any_user(bot)
            if row is None:
                return None
            return await AnalyticsService(session, rt.clock, rt.instruments).export_bot(row)

    doc = run_with_runtime(work)
    if doc is None:
        fail(f"no bot {bot}")
        return
    out.write_text(json.dumps(doc, indent=1))
    console.print(f"exported {len(doc['entries'])} entries and {len(doc['fills'])} fills to {out}")


@ledger_app.command("verify-export")
def ledger_verify_export(file: Path = typer.Argument(..., help="an exported track record")) -> None:
    """Check an exported track record offline (no database): hashes, links, fills."""
    try:
        doc = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        fail(f"cannot read {file}: {exc}")
        return
    report = track_record.verify(doc)
    if not report.ok:
        fail(f"track record NOT verified: {report.problems[0]} ({len(report.problems)} problems)")
    tip = doc["tip"]
    console.print(
        f"track record verified: {report.entries} entries, {report.links} chain links, "
        f"{report.fills} fills; chain tip seq {tip['seq'] if tip else '-'} "
        f"hash {tip['hash'] if tip else '-'} (compare it with the platform's ledger)",
        highlight=False,
    )
