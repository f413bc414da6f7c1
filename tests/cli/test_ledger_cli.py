"""`amarktai ledger ...` and `amarktai bots list` as an operator runs them.

The tampering check runs a real process on the SQLite file; the rest run in-process
through Typer's runner (same commands, same settings from the environment), which keeps
the file fast.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from benchmarks.analytics import order_row
from tests.cli.test_cli import run
from typer.testing import CliRunner

from amarktai.cli.main import app
from amarktai.db.engine import make_engine, make_sessionmaker, transaction
from amarktai.engine.models import Bot, FillRow
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
            s.add(FillRow(id=f"f{n}", order_id="bench-order", user_id="u1", bot_id="bot1", ts=now,
                          symbol="BTC/ZAR", side=side, price=D(price), qty=D("0.01"), fee=D(1),
                          fee_asset="ZAR", liquidity="taker",
                          ledger_entry_id=entry.id))  # fmt: skip
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
    assert ok.returncode == 0 and "4 entries verified" in ok.stdout, ok.stderr
    assert cli(data, "ledger", "replay").returncode == 0
    listed = cli(data, "bots", "list")
    assert listed.returncode == 0 and "bot1" in listed.stdout
    with sqlite3.connect(db) as conn:
        entry_id = conn.execute("SELECT id FROM journal_entries WHERE seq = 2").fetchone()[0]
        conn.execute("UPDATE postings SET amount = '900' WHERE seq = 2 AND line = 0")
    bad = run(data, "ledger", "verify")
    assert bad.returncode == 1 and f"broken at entry {entry_id}" in " ".join(bad.stderr.split())
    assert cli(data, "ledger", "replay").returncode == 1


def test_export_verifies_offline_and_tampering_is_reported(tmp_path: Path) -> None:
    data = tmp_path / "var"
    _prepare(data)
    out = tmp_path / "record.json"
    r = cli(data, "ledger", "export", "--bot", "bot1", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert cli(data, "ledger", "export", "--bot", "nope", "--out", str(out)).returncode == 1
    # verify-export needs no database at all: point it at an empty data dir
    offline = tmp_path / "elsewhere"
    good = cli(offline, "ledger", "verify-export", str(out))
    assert good.returncode == 0 and "3 entries" in good.stdout, good.stderr
    doc = json.loads(out.read_text())
    doc["fills"][0]["qty"] = "0.02"
    doc["entries"][1]["payload"]["description"] = "sold at a much better price"
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc))
    bad = cli(offline, "ledger", "verify-export", str(forged))
    assert bad.returncode == 1 and "hash does not match" in bad.stderr
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    assert cli(offline, "ledger", "verify-export", str(garbage)).returncode == 1
