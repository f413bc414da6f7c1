"""Refusals a new user meets speak the user's language, not the ledger's (issue 15 item
4): no account paths, money in the app's format, and the way out named."""

from __future__ import annotations

import re

import pytest
from tests.api.conftest import Api, auth

from amarktai.db.engine import transaction
from amarktai.engine.models import Bot

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

BOT = {"name": "b", "strategy": "dca", "symbol": "BTC/ZAR", "timeframe_s": 60}


async def test_allocating_without_free_cash_names_the_balance_and_what_to_do(api: Api) -> None:
    h = await api.user("poor@example.com")
    r = await api.client.post("/api/v1/bots", json={**BOT, "allocation": "5000"}, headers=auth(h))
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert error["code"] == "insufficient_free_capital"
    assert error["message"] == (
        "Your free balance is R 0,00 and this needs R 5 000,00: deposit, or free capital "
        "from a bot, first."
    )
    assert not re.search(r"user:|bot:|:cash", error["message"])
    assert error["details"]["required"] == "5000"  # exact figures stay for programs


async def test_starting_a_bot_without_capital_says_to_allocate(api: Api) -> None:
    h = await api.user("nocap@example.com")
    bot = (await api.client.post("/api/v1/bots", json=BOT, headers=auth(h))).json()
    r = await api.client.post(f"/api/v1/bots/{bot['id']}/start", headers=auth(h))
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "no_allocated_capital"
    assert r.json()["error"]["message"].startswith("Allocate capital to the bot")


async def test_a_halted_bot_names_the_breaker_reset(api: Api) -> None:
    h = await api.user("halted@example.com")
    bot = (await api.client.post("/api/v1/bots", json=BOT, headers=auth(h))).json()
    async with transaction(api.runtime.sessions) as s:
        row = await s.get(Bot, bot["id"])
        assert row is not None
        row.status = "halted"
    r = await api.client.post(f"/api/v1/bots/{bot['id']}/start", headers=auth(h))
    assert r.status_code == 409
    error = r.json()["error"]
    assert "POST /api/v1/risk/breakers/reset" in error["message"]
    assert (
        error["details"]["allowed"] == ["stop"] and "reset the breaker" in error["details"]["hint"]
    )
