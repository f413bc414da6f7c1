"""The bus contract on both backends: gap-free seq, retention, replay, live fan-out."""

from __future__ import annotations

import asyncio
import json

import pytest
from pydantic import ValidationError
from tests.unit.bus.conftest import BusFactory

from amarktai.bus.interface import Retention
from amarktai.bus.messages import Envelope, Revocation, make_body, with_seq
from amarktai.bus.schema import protocol_document

ALERT = {"level": "info", "code": "c", "message": "m"}
KEEP = Retention(10_000, 3600)


async def test_seq_is_gap_free_across_concurrent_publishers(make_bus: BusFactory) -> None:
    one, two = make_bus(KEEP), make_bus(KEEP)  # on Redis: two "processes"
    await one.start()
    await two.start()
    seqs = await asyncio.gather(
        *(bus.publish_user("u", "alert", ALERT) for _ in range(100) for bus in (one, two))
    )
    assert sorted(seqs) == list(range(1, 201))
    replay = await one.read_after("u", 0, 1000)
    assert [m.seq for m in replay.messages] == list(range(1, 201))
    assert (await two.info("other")).head == 0


async def test_read_after_pages_and_renders_seq(make_bus: BusFactory) -> None:
    bus = make_bus(KEEP)
    await bus.start()
    for _ in range(30):
        await bus.publish_user("u", "alert", {**ALERT, "bot_id": "b1"})
    page = await bus.read_after("u", 10, 5)
    assert [m.seq for m in page.messages] == [11, 12, 13, 14, 15]
    first = json.loads(page.messages[0].text)
    assert first["seq"] == 11 and first["v"] == 1 and first["type"] == "alert"
    assert page.messages[0].bot_id == "b1" and page.info.head == 30
    assert (await bus.read_after("u", 30, 5)).messages == []


async def test_count_retention_moves_oldest(make_bus: BusFactory) -> None:
    bus = make_bus(Retention(20, 3600))
    await bus.start()
    for _ in range(500):
        await bus.publish_user("u", "alert", ALERT)
    info = await bus.info("u")
    assert info.head == 500 and 1 < info.oldest <= 481  # Redis trims lazily (MAXLEN ~)
    replay = await bus.read_after("u", 0, 10_000)
    assert [m.seq for m in replay.messages] == list(range(info.oldest, 501))


async def test_age_retention_drops_old_messages(make_bus: BusFactory) -> None:
    bus = make_bus(Retention(100_000, 0.5))
    await bus.start()
    for _ in range(300):
        await bus.publish_user("u", "alert", ALERT)
    await asyncio.sleep(0.7)
    await bus.publish_user("u", "alert", ALERT)
    info = await bus.info("u")
    assert info.head == 301 and info.oldest > 100


async def test_live_subscribers_get_user_and_public_messages(make_bus: BusFactory) -> None:
    writer, reader = make_bus(KEEP), make_bus(KEEP)
    await writer.start()
    await reader.start()
    mine: list[Envelope] = []
    public: list[Envelope] = []
    unsubscribe = await reader.subscribe_user("u", mine.append)
    await reader.subscribe_public(public.append)
    await asyncio.sleep(0.1)  # the pub/sub subscription is asynchronous on Redis
    await writer.publish_user("u", "alert", ALERT)
    await writer.publish_user("someone-else", "alert", ALERT)
    await writer.publish_public("price", {"symbol": "BTC/ZAR", "price": "1.5"})
    for _ in range(100):
        if mine and public:
            break
        await asyncio.sleep(0.02)
    assert [m.seq for m in mine] == [1]
    assert public[0].seq is None and public[0].symbol == "BTC/ZAR"
    await unsubscribe()
    await writer.publish_user("u", "alert", ALERT)
    await asyncio.sleep(0.2)
    assert len(mine) == 1


async def test_revocations_reach_every_process_and_never_a_user_stream(
    make_bus: BusFactory,
) -> None:
    writer, reader = make_bus(KEEP), make_bus(KEEP)
    await writer.start()
    await reader.start()  # waits for its subscriptions: nothing published now is missed
    heard: list[Revocation] = []
    public: list[Envelope] = []
    await reader.subscribe_revocations(heard.append)
    await reader.subscribe_public(public.append)
    ended = [Revocation("u", "s1", "logout"), Revocation("u", None, "deactivated")]
    for revocation in ended:
        await writer.publish_revocation(revocation)
    for _ in range(100):
        if len(heard) == 2:
            break
        await asyncio.sleep(0.02)
    assert heard == ended
    assert public == [] and (await reader.info("u")).head == 0


def test_payloads_are_validated_and_seq_is_prefixed() -> None:
    from datetime import UTC, datetime

    with pytest.raises(ValidationError):
        make_body("fill", {"id": "x"}, datetime.now(UTC))
    with pytest.raises(ValueError, match="unknown message type"):
        make_body("nope", {}, datetime.now(UTC))
    assert json.loads(with_seq('{"a":1}', 7)) == {"seq": 7, "a": 1}
    assert json.loads(with_seq('{"a":1}', None)) == {"seq": None, "a": 1}


def test_protocol_document_lists_every_required_type() -> None:
    doc = protocol_document()
    names = set(doc["server_messages"]["discriminator"]["mapping"])
    assert {"price", "candle", "order_book", "trade", "order", "fill", "position",
            "bot_status", "metrics", "risk", "alert", "insight", "chat", "heartbeat",
            "resume"} <= names  # fmt: skip
    assert "order" in doc["durable_types"] and "price" in doc["public_types"]
