"""`amarktai ledger ...`: prove the journal (hash chain, replay), export or check a bot's
verifiable track record, and print the public key that authenticates those exports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from amarktai.analytics import track_record
from amarktai.analytics.service import AnalyticsService
from amarktai.cli.common import console, fail, run_with_runtime
from amarktai.config import Settings, resolve_secrets
from amarktai.engine.repository import TradingRepository
from amarktai.kit import signing
from amarktai.kit.errors import ConfigError
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
    """Write a bot's verifiable track record (entries, chain links, fills), signed with
    the platform's key."""

    async def work(rt: Runtime) -> dict[str, Any] | None:
        async with rt.sessions() as session:
            row = await TradingRepository(session).bot_any_user(bot)
            if row is None:
                return None
            service = AnalyticsService(session, rt.clock, rt.instruments)
            return await service.export_bot(row, rt.signing_key)

    doc = run_with_runtime(work)
    if doc is None:
        fail(f"no bot {bot}")
        return
    out.write_text(json.dumps(doc, indent=1))
    console.print(
        f"exported {len(doc['entries'])} entries and {len(doc['fills'])} fills to {out}, "
        f"signed by key {doc['signature']['key_id']}",
        highlight=False,
    )


@ledger_app.command("public-key")
def ledger_public_key(
    pem: bool = typer.Option(False, "--pem", help="print the key as PEM only (for a file)"),
) -> None:
    """Print the platform's public signing key: publish it, so that anyone can
    authenticate a track-record export (`verify-export FILE --public-key KEY`)."""
    try:
        secrets = resolve_secrets(Settings())
    except ConfigError as exc:
        fail(str(exc), 2)
        return
    key = signing.load_private(secrets.signing_key).public_key()
    if pem:
        print(signing.public_pem(key), end="")
        return
    console.print(f"public key: {signing.public_text(key)}", highlight=False)
    console.print(f"key id: {signing.key_id(key)} ({signing.ALG})", highlight=False)


@ledger_app.command("verify-export")
def ledger_verify_export(
    file: Path = typer.Argument(..., help="an exported track record"),
    public_key: str | None = typer.Option(
        None,
        "--public-key",
        help="the platform's public key (base64 or PEM), or a file holding it (PEM, base64 "
        "or the JSON of GET /api/v1/ledger/public-key); take it from the platform, never "
        "from the export",
    ),
) -> None:
    """Check an exported track record offline (no database): signature, hashes, links and
    every fill against its ledger entry.

    Exit 0: consistent and signed by the given key. Exit 1: changed, forged or unreadable.
    Exit 2: the key given is not a key. Exit 3: consistent, but not authenticated because
    no --public-key was given (a consistent file alone proves nothing about its origin)."""
    key = None
    if public_key is not None:
        try:
            key = _public_key(public_key)
        except (OSError, ValueError) as exc:
            fail(f"--public-key: {exc}", 2)
            return
    try:
        doc = json.loads(file.read_text(), object_pairs_hook=_unique_keys)
    except (OSError, ValueError) as exc:
        fail(f"cannot read {file}: {exc}")
        return
    report = track_record.verify(doc, key)
    if not report.consistent:
        fail(f"track record NOT verified: {report.problems[0]} ({len(report.problems)} problems)")
    tip = doc.get("tip")
    summary = (
        f"{report.entries} entries, {report.links} chain links, {report.fills} fills; "
        f"chain tip seq {tip['seq'] if tip else '-'} hash {tip['hash'] if tip else '-'}"
    )
    if not report.authenticated:
        console.print(f"track record consistent: {summary}", highlight=False)
        fail(
            f"consistent but NOT authenticated: the file says key {report.key_id} signed it; "
            "pass --public-key with the platform's key (amarktai ledger public-key, "
            "GET /api/v1/ledger/public-key) to check that",
            3,
        )
    console.print(
        f"track record verified: {summary}; signed by the platform key {report.key_id}",
        highlight=False,
    )


def _public_key(value: str) -> Ed25519PublicKey:
    """The key itself, or a file holding it (PEM, base64, or the public-key endpoint's
    JSON answer saved as is)."""
    text = value
    if not value.lstrip().startswith(("-----BEGIN", "{")):
        try:
            if Path(value).is_file():
                text = Path(value).read_text()
        except OSError:
            pass  # not a usable file name: the key itself, checked below
    if text.lstrip().startswith("{"):
        published = json.loads(text)
        if not isinstance(published, dict) or not isinstance(published.get("public_key"), str):
            raise ValueError("the JSON holds no public_key")
        text = published["public_key"]
    try:
        return signing.load_public(text)
    except ValueError as exc:
        raise ValueError(f"{exc} (give the key itself or a file holding it)") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object that names a key twice is refused: parsers disagree on which value
    wins, so a forger could show one reader one value and the verifier another."""
    obj: dict[str, Any] = {}
    for k, v in pairs:
        if k in obj:
            raise ValueError(f"key {k!r} appears twice in one object")
        obj[k] = v
    return obj
