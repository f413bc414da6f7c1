"""`amarktai ledger ...` and `amarktai bots list` as an operator runs them.

The tampering check runs a real process on the SQLite file; the rest run in-process
through Typer's runner (same commands, same settings from the environment), which keeps
the file fast.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks.analytics import order_row
from tests.cli.test_cli import run
from typer.testing import CliRunner

from amarktai.cli.main import app
from amarktai.db.engine import make_engine, make_sessionmaker, transaction
from amarktai.engine.models import Bot, FillRow
from amarktai.kit import signing
from amarktai.kit.hashchain import chain_hash
from amarktai.ledger import journal
from amarktai.ledger.service import LedgerService

D = Decimal


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def cli(data: Path, *args: str) -> Result:
    """In-process run with the data dir in the environment; output unwrapped to one line."""
    env = {"AMARKTAI_DATA_DIR": str(data), "AMARKTAI_DATABASE_URL": None, "COLUMNS": "400"}
    r = CliRunner().invoke(app, list(args), env=env)
    return Result(r.exit_code, r.stdout, r.stderr)


async def _seed(db: Path) -> None:
    """A user with a bot that bought once and sold once, booked in the ledger."""
    engine = make_engine(f"sqlite+aiosqlite:///{db}")
    now = datetime.now(UTC)
    async with transaction(make_sessionmaker(engine)) as s:
        s.add(Bot(id="bot1", user_id="u1", name="flip", strategy="dca", params={},
                  exchange="sim", symbol="BTC/ZAR", timeframe_s=60, mode="paper_public",
                  status="stopped", risk={}, created_at=now, updated_at=now))  # fmt: skip
        s.add(order_row("u1", "bot1"))
        await s.flush()  # no ORM relationships: the order must exist before its fills
        ledger = LedgerService(s)
        await ledger.post(journal.deposit("u1", "ZAR", D(5000)))
        await ledger.post(journal.allocate("u1", "bot1", "ZAR", D(1000)))
        for n, (side, price) in enumerate((("buy", "50000"), ("sell", "51000"))):
            trade = journal.Fill("bot1", side, "BTC", "ZAR", D("0.01"), D(price), D(1))  # type: ignore[arg-type]
            entry = await ledger.post_fill("u1", trade)
            pnl = [p.amount for p in entry.postings if p.account == "bot:bot1:pnl"]
            s.add(FillRow(id=f"f{n}", order_id="bench-order", user_id="u1", bot_id="bot1", ts=now,
                          symbol="BTC/ZAR", side=side, price=D(price), qty=D("0.01"), fee=D(1),
                          fee_asset="ZAR", liquidity="taker",
                          realised_pnl=-sum(pnl, D(0)) if side == "sell" else None,
                          ledger_entry_id=entry.id))  # fmt: skip
        # u1's own deposit, after the bot's last entry: an opaque link in the export
        await ledger.post(journal.deposit("u1", "ZAR", D(250)))
    await engine.dispose()


def _prepare(data: Path) -> Path:
    assert cli(data, "db", "upgrade").returncode == 0
    db = data / "amarktai.db"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO users (id, email, password_hash, role, is_active, totp_enabled, "
            "created_at) VALUES ('u1', 'k@example.com', 'x', 'trader', 1, 0, '2026-01-01')"
        )
    asyncio.run(_seed(db))
    return db


def test_ledger_verify_replay_and_a_tampered_row(tmp_path: Path) -> None:
    data = tmp_path / "var"
    db = _prepare(data)
    ok = cli(data, "ledger", "verify")
    assert ok.returncode == 0 and "5 entries verified" in ok.stdout, ok.stderr
    assert cli(data, "ledger", "replay").returncode == 0
    listed = cli(data, "bots", "list")
    assert listed.returncode == 0 and "bot1" in listed.stdout
    with sqlite3.connect(db) as conn:
        entry_id = conn.execute("SELECT id FROM journal_entries WHERE seq = 2").fetchone()[0]
        conn.execute("UPDATE postings SET amount = '900' WHERE seq = 2 AND line = 0")
    bad = run(data, "ledger", "verify")
    assert bad.returncode == 1 and f"broken at entry {entry_id}" in " ".join(bad.stderr.split())
    assert cli(data, "ledger", "replay").returncode == 1


def _published_key(data: Path) -> tuple[str, str]:
    """(public key, key id) as `amarktai ledger public-key` prints them for publishing."""
    shown = cli(data, "ledger", "public-key")
    assert shown.returncode == 0, shown.stderr
    public = re.search(r"public key: (\S+)", shown.stdout)
    key_id = re.search(r"key id: ([0-9a-f]{16})", shown.stdout)
    assert public and key_id, shown.stdout
    return public.group(1), key_id.group(1)


def test_export_verifies_offline_and_tampering_is_reported(tmp_path: Path) -> None:
    data = tmp_path / "var"
    _prepare(data)
    out = tmp_path / "record.json"
    r = cli(data, "ledger", "export", "--bot", "bot1", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert cli(data, "ledger", "export", "--bot", "nope", "--out", str(out)).returncode == 1
    public, key_id = _published_key(data)
    assert f"signed by key {key_id}" in r.stdout
    pem = tmp_path / "platform.pem"
    pem.write_text(cli(data, "ledger", "public-key", "--pem").stdout)
    # verify-export needs no database at all: point it at an empty data dir
    offline = tmp_path / "elsewhere"
    for key in (public, str(pem)):
        good = cli(offline, "ledger", "verify-export", str(out), "--public-key", key)
        assert good.returncode == 0 and "verified: 3 entries" in good.stdout, good.stderr
        assert f"signed by the platform key {key_id}" in good.stdout
    # Without the platform's key a consistent file is never reported verified.
    unkeyed = cli(offline, "ledger", "verify-export", str(out))
    assert unkeyed.returncode == 3 and "NOT authenticated" in unkeyed.stderr, unkeyed.stderr
    assert "verified" not in unkeyed.stdout
    # Another platform's key (the empty data dir generated its own) does not vouch for it.
    stranger, _ = _published_key(offline)
    other = cli(offline, "ledger", "verify-export", str(out), "--public-key", stranger)
    assert other.returncode == 1 and f"names signing key {key_id}" in other.stderr
    doc = json.loads(out.read_text())
    doc["fills"][0]["qty"] = "0.02"
    doc["entries"][1]["payload"]["description"] = "sold at a much better price"
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc))
    bad = cli(offline, "ledger", "verify-export", str(forged), "--public-key", public)
    assert bad.returncode == 1 and "signature does not match" in bad.stderr
    assert cli(offline, "ledger", "verify-export", str(forged)).returncode == 1
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    assert (
        cli(offline, "ledger", "verify-export", str(garbage), "--public-key", public).returncode
        == 1
    )
    twice = tmp_path / "twice.json"  # a key named twice: parsers disagree on which wins
    twice.write_text(out.read_text().replace('"version": 2,', '"version": 2, "version": 2,', 1))
    dup = cli(offline, "ledger", "verify-export", str(twice), "--public-key", public)
    assert dup.returncode == 1 and "appears twice" in dup.stderr
    nonsense = cli(offline, "ledger", "verify-export", str(out), "--public-key", "nonsense")
    assert nonsense.returncode == 2 and "--public-key" in nonsense.stderr


def _rewrite_last_sell(doc: dict[str, Any], gain: int) -> None:
    """Rewrite the bot's last sell to have earned `gain` more (cash +gain, pnl -gain: still
    balanced, running balances carried), make its fill agree field by field, recompute the
    entry's hash and edit the two chain links that name it. The link after it is another
    entry, hashes only: nobody holding the file can recompute it, and the tip is unchanged."""
    item = doc["entries"][-1]
    body = item["payload"]
    fill = next(f for f in doc["fills"] if f["ledger_entry_id"] == body["id"])
    for p in body["postings"]:
        if p["account"] in ("bot:bot1:cash", "bot:bot1:pnl") and D(p["amount"]) != -1:
            delta = gain if p["account"] == "bot:bot1:cash" else -gain
            p["amount"] = str(D(p["amount"]) + delta)
            p["balance"] = str(D(p["balance"]) + delta)
    notional = D(fill["notional"]) + gain
    price = notional / D(fill["qty"])
    body["description"] = f"sell {fill['qty']} BTC @ {price.normalize():f} ZAR"
    fill.update(
        price=str(price),
        notional=str(notional),
        realised_pnl=str(D(fill["realised_pnl"]) + gain),
    )
    item["hash"] = chain_hash(item["prev_hash"], body)
    for link in doc["links"]:
        if link[0] == body["seq"]:
            link[2] = item["hash"]
        elif link[0] == body["seq"] + 1:
            link[1] = item["hash"]


def test_a_rewritten_entry_with_recomputed_links_is_refused(tmp_path: Path) -> None:
    """The forgery the hash chain alone let through, as a real process sees it."""
    data = tmp_path / "var"
    _prepare(data)
    out = tmp_path / "record.json"
    assert cli(data, "ledger", "export", "--bot", "bot1", "--out", str(out)).returncode == 0
    public, _ = _published_key(data)
    doc = json.loads(out.read_text())
    _rewrite_last_sell(doc, 100)
    assert doc["tip"] == json.loads(out.read_text())["tip"]
    assert doc["links"][-1][0] == doc["entries"][-1]["payload"]["seq"] + 1
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc, indent=1))
    offline = tmp_path / "elsewhere"
    bad = run(offline, "ledger", "verify-export", str(forged), "--public-key", public)
    assert bad.returncode == 1 and "signature does not match" in bad.stderr, bad.stderr
    # Consistent in itself, so without the key it is "NOT authenticated", never verified.
    unkeyed = run(offline, "ledger", "verify-export", str(forged))
    assert unkeyed.returncode == 3 and "NOT authenticated" in " ".join(unkeyed.stderr.split())
    stripped = {k: v for k, v in doc.items() if k != "signature"}
    forged.write_text(json.dumps(stripped))
    bare = run(offline, "ledger", "verify-export", str(forged), "--public-key", public)
    assert bare.returncode == 1 and "no signature" in bare.stderr


def test_keys_new_signing_key_prints_a_usable_key(tmp_path: Path) -> None:
    r = cli(tmp_path / "var", "keys", "new-signing-key")
    assert r.returncode == 0, r.stderr
    key = signing.load_private(r.stdout.strip())
    assert signing.key_id(key.public_key()) in r.stderr
    assert not (tmp_path / "var").exists()  # nothing stored: the operator sets it
