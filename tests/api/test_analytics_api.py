"""Analytics and exports through the real API, on the real engine and a stepped sim market."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.api.conftest import Api, auth
from tests.api.test_trading import Stepper, act, create_bot, funded_trader
from typer.testing import CliRunner

from amarktai.analytics import track_record
from amarktai.analytics.service import AnalyticsService
from amarktai.cli.main import app
from amarktai.kit import signing
from amarktai.ledger.service import LedgerService
from amarktai.strategies.base import Decision, Strategy, StrategyContext, StrategyParams
from amarktai.strategies.registry import register, unregister


class Flip(Strategy):
    """Holds half its capital for two bars, then nothing for two: many round trips."""

    name = "test_flip"
    description = "test strategy that enters and exits every two bars"
    Params = StrategyParams

    @property
    def warmup_bars(self) -> int:
        return 1

    def on_bar(self, ctx: StrategyContext) -> Decision:
        target = 0.5 if (ctx.bar_index // 2) % 2 == 0 else 0.0
        return Decision(rule="flip", signal=0.0, target=target)


@pytest.fixture(autouse=True)
def flip_strategy() -> Iterator[None]:
    register(Flip)
    yield
    unregister(Flip.name)


async def traded(api: Api, email: str) -> tuple[dict[str, str], dict[str, Any], Stepper]:
    h = await funded_trader(api, email)
    bot = await create_bot(api, h, strategy="test_flip", params={}, allocation="20000")
    stepper = Stepper(api)
    await act(api, h, bot["id"], "start")
    await stepper.engine.sync_bot(bot["id"])
    await stepper.run(150)
    return h, bot, stepper


async def get(api: Api, h: dict[str, str], path: str, **params: Any) -> Any:
    r = await api.client.get(path, params=params, headers=auth(h))
    assert r.status_code == 200, r.text
    return r.json() if "json" in r.headers["content-type"] else r.text


async def test_equity_performance_trades_and_positions(api: Api) -> None:
    h, bot, stepper = await traded(api, "a1@example.com")
    base = f"/api/v1/bots/{bot['id']}"
    curve = await get(api, h, f"{base}/equity", points=50)
    pts = curve["points"]
    assert 2 <= len(pts) <= 50 and Decimal(pts[0]["flow"]) == 20000
    assert pts[0]["index"] == 1.0 and any(p["in_market"] for p in pts)
    async with api.runtime.sessions() as s:  # the one-pass curve equals the ledger's own marks
        service = AnalyticsService(
            s, api.clock, api.runtime.instruments, history=stepper.engine.history
        )
        built = await service.bot_curve(h["id"], bot["id"], 50)
        fills = await service.trading.all_fills(h["id"], bot["id"])
        from amarktai.analytics.service import PriceBook

        book = PriceBook({"BTC": "BTC/ZAR"}, fills, stepper.engine.history, {})
        marks = await LedgerService(s, api.clock).equity_curve(
            h["id"], [p.ts for p in built.points], book, bot_id=bot["id"]
        )
    assert [m.equity for m in marks] == [p.equity for p in built.points]
    assert [m.unrealised_pnl for m in marks] == [p.unrealised_pnl for p in built.points]

    perf = await get(api, h, f"{base}/performance")
    m = perf["metrics"]
    for key in ("total_return", "cagr", "sharpe", "sortino", "max_drawdown", "exposure"):
        assert key in m
    assert m["n_trades"] >= 5 and 0 < m["exposure"] < 1
    # a bot minutes old: annualised figures are null with the reason, never -497 Sharpes
    for key in ("cagr", "sharpe", "sortino", "calmar", "volatility"):
        assert m[key] is None and m["unavailable"][key].startswith("not enough history")
    assert perf["n_fills"] == len(fills) and perf["n_fills"] >= m["n_trades"]
    pnl = (await get(api, h, "/api/v1/wallet/balances", bot_id=bot["id"]))["balances"]
    fees = Decimal(pnl[f"bot:{bot['id']}:fees"]["ZAR"])
    assert Decimal(perf["fees"]) == fees

    trades = await get(api, h, f"{base}/trades", limit=2)
    assert len(trades["items"]) == 2 and trades["next_cursor"]
    rest = await get(api, h, f"{base}/trades", limit=500, cursor=trades["next_cursor"])
    every = trades["items"] + rest["items"]
    assert len(every) == m["n_trades"] and rest["next_cursor"] is None
    assert sum(Decimal(t["pnl"]) for t in every) == Decimal(perf["realised_pnl"])

    user = await get(api, h, "/api/v1/performance")
    assert user["bots"][0]["bot_id"] == bot["id"] and Decimal(user["user"]["equity"]) > 0
    positions = await get(api, h, "/api/v1/positions")
    detail = await get(api, h, base)
    held = Decimal(detail["position_qty"])
    assert sum(Decimal(p["qty"]) for p in positions) == held
    candles = await get(api, h, "/api/v1/markets/BTC-ZAR/candles", timeframe_s=10, limit=5)
    assert len(candles) == 5 and all(Decimal(c["high"]) >= Decimal(c["low"]) for c in candles)


async def test_csv_exports_total_to_the_ledger(api: Api) -> None:
    h, bot, _ = await traded(api, "a2@example.com")
    text = await get(api, h, "/api/v1/exports/trades.csv", bot_id=bot["id"])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and rows[0]["symbol"] == "BTC/ZAR"
    bal = (await get(api, h, "/api/v1/wallet/balances", bot_id=bot["id"]))["balances"]
    assert sum(Decimal(r["fee"]) for r in rows) == Decimal(bal[f"bot:{bot['id']}:fees"]["ZAR"])
    realised = sum(Decimal(r["realised_pnl"]) for r in rows if r["realised_pnl"])
    assert realised == -Decimal(bal.get(f"bot:{bot['id']}:pnl", {}).get("ZAR", "0"))
    ledger = list(csv.DictReader(io.StringIO(await get(api, h, "/api/v1/exports/ledger.csv"))))
    sums: dict[tuple[str, str], Decimal] = {}
    for r in ledger:
        key = (r["account"], r["asset"])
        sums[key] = sums.get(key, Decimal(0)) + Decimal(r["amount"])
        assert Decimal(r["balance"]) == sums[key]
    everything = (await get(api, h, "/api/v1/wallet/balances"))["balances"]
    for account, assets in everything.items():
        for asset, value in assets.items():
            assert sums[(account, asset)] == Decimal(value)
    late = await get(api, h, "/api/v1/exports/trades.csv", **{"from": "2999-01-01T00:00:00Z"})
    assert late.strip().count("\n") == 0  # header only


async def test_track_record_verifies_offline_and_tampering_is_found(
    api: Api, tmp_path: Path
) -> None:
    h, bot, _ = await traded(api, "a3@example.com")
    doc = await get(api, h, "/api/v1/exports/track-record", bot_id=bot["id"])
    r = await api.client.get("/api/v1/ledger/public-key")  # published: no login needed
    assert r.status_code == 200, r.text
    published = r.json()
    key = signing.load_public(published["public_key"])
    assert signing.key_id(signing.load_public(published["pem"])) == published["key_id"]
    assert doc["signature"]["key_id"] == published["key_id"] == signing.key_id(key)
    report = track_record.verify(doc, key)
    assert report.ok, report.problems
    assert report.fills >= 5 and report.entries > report.fills
    assert any(f["side"] == "sell" and f["realised_pnl"] for f in doc["fills"])
    # The same file, saved, through the CLI with the endpoint's answer as the key file.
    saved, key_file = tmp_path / "record.json", tmp_path / "key.json"
    saved.write_text(json.dumps(doc))
    key_file.write_text(json.dumps(published))
    runner = CliRunner()
    ok = runner.invoke(app, ["ledger", "verify-export", str(saved), "--public-key", str(key_file)])
    assert ok.exit_code == 0 and "track record verified" in ok.stdout, ok.output
    tampered = {**doc, "entries": [dict(e) for e in doc["entries"]]}
    body = dict(tampered["entries"][3]["payload"])
    body["postings"] = [
        {**p, "amount": "1"} if i == 0 else p for i, p in enumerate(body["postings"])
    ]
    tampered["entries"][3] = {**tampered["entries"][3], "payload": body}
    bad = track_record.verify(tampered, key)
    assert not bad.ok and any("hash does not match" in p for p in bad.problems)
    assert "signature does not match" in bad.problems[0]
    dropped = {**doc, "links": doc["links"][:2] + doc["links"][3:]}
    assert any("skips" in p for p in track_record.verify(dropped, key).problems)
    sell = next(i for i, f in enumerate(doc["fills"]) if f["side"] == "sell")
    richer = {**doc, "fills": list(doc["fills"])}
    richer["fills"][sell] = {**doc["fills"][sell], "price": "1000000"}
    saved.write_text(json.dumps(richer))
    bad_cli = runner.invoke(
        app, ["ledger", "verify-export", str(saved), "--public-key", published["public_key"]]
    )
    assert bad_cli.exit_code == 1 and "NOT verified" in bad_cli.stderr, bad_cli.output


async def test_isolation_and_bad_input(api: Api) -> None:
    other = await api.user("a5@example.com")  # logged in before the sim clock runs ahead
    h, bot, _ = await traded(api, "a4@example.com")
    for path in ("equity", "performance", "trades"):
        r = await api.client.get(f"/api/v1/bots/{bot['id']}/{path}", headers=auth(other))
        assert r.status_code == 404 and r.json()["error"]["code"] == "bot_not_found"
    r = await api.client.get(
        "/api/v1/exports/track-record", params={"bot_id": bot["id"]}, headers=auth(other)
    )
    assert r.status_code == 404
    r = await api.client.get(
        "/api/v1/exports/trades.csv", params={"bot_id": bot["id"]}, headers=auth(other)
    )
    assert r.status_code == 404
    assert await get(api, other, "/api/v1/positions") == []
    cases = [
        ("/api/v1/bots/nope/equity", {}, 404),
        (f"/api/v1/bots/{bot['id']}/trades", {"cursor": "!!!"}, 422),
        (f"/api/v1/bots/{bot['id']}/trades", {"cursor": "MTIz"}, 422),
        (f"/api/v1/bots/{bot['id']}/trades", {"limit": 0}, 422),
        (f"/api/v1/bots/{bot['id']}/trades", {"limit": 501}, 422),
        (f"/api/v1/bots/{bot['id']}/equity", {"points": 1}, 422),
        ("/api/v1/exports/ledger.csv", {"from": "yesterday"}, 422),
        ("/api/v1/exports/ledger.csv", {"from": "2026-01-01T00:00:00"}, 422),
        ("/api/v1/exports/ledger.csv", {"from": "2026-02-01T00:00:00Z", "to": "2026-01-01Z"}, 422),
        ("/api/v1/markets/DOGE-ZAR/candles", {}, 404),
        ("/api/v1/markets/BTC-ZAR/candles", {"timeframe_s": 0}, 422),
    ]
    for path, params, code in cases:
        r = await api.client.get(path, params=params, headers=auth(h))
        assert r.status_code == code, (path, params, r.text)
    assert (await api.client.get("/api/v1/performance")).status_code == 401
