"""The signed track-record export: a change to any field of the file is refused.

The chain is built here from the ledger's own pure builders (`journal`, `chain.seal`), as
the ledger would store it: a bot that buys and then sells at a profit, between other
users' entries, so the export holds opaque links on both sides of the bot's entries.
Each tamper is checked twice: `verify` with the platform's public key must refuse it,
and, where the file can tell on its own, the key-less consistency check names it too.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from amarktai.analytics import track_record
from amarktai.analytics.track_record import Link
from amarktai.analytics.trades import mul
from amarktai.kit import signing
from amarktai.kit.hashchain import GENESIS, chain_hash
from amarktai.ledger import journal
from amarktai.ledger.chain import seal
from amarktai.ledger.journal import Entry, EntryDraft, Position, new_posted_line

D = Decimal
T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
BOT = "bot1"
KEY = Ed25519PrivateKey.generate()
PUBLIC = KEY.public_key()
Doc = dict[str, Any]


def _ledger() -> list[Entry]:
    """Seven entries: u1 funds bot1, bot1 buys then sells, u2's deposits in between."""
    trade = journal.Fill(BOT, "buy", "BTC", "ZAR", D("0.01"), D(50000), D(1))
    sale = journal.Fill(BOT, "sell", "BTC", "ZAR", D("0.01"), D(51000), D(1))
    drafts: list[EntryDraft] = [
        journal.deposit("u1", "ZAR", D(5000)),
        journal.allocate("u1", BOT, "ZAR", D(1000)),
        journal.deposit("u2", "ZAR", D(700)),
        journal.fill("u1", journal.Fill(**{**vars(trade), "ref": "f0"})),
        journal.deposit("u2", "ZAR", D(800)),
        journal.fill(
            "u1", journal.Fill(**{**vars(sale), "ref": "f1"}), Position(D("0.01"), D(500))
        ),
        journal.deposit("u2", "ZAR", D(900)),
    ]
    balances: dict[tuple[str, str], Decimal] = {}
    entries, prev = [], GENESIS
    for seq, draft in enumerate(drafts, start=1):
        lines = []
        for p in draft.postings:
            balance = balances.get((p.account, p.asset), D(0)) + p.amount
            balances[p.account, p.asset] = balance
            lines.append(new_posted_line(p.account, p.asset, p.amount, balance))
        entry = seal(draft, tuple(lines), seq=seq, prev_hash=prev, ts=T0 + timedelta(minutes=seq))
        entries.append(entry)
        prev = entry.hash
    return entries


def _fill(fill_id: str, entry: Entry, side: str, price: str) -> dict[str, Any]:
    """A fill as `analytics.service.fill_record` writes it, realised PnL as booked."""
    pnl = sum(
        (p.amount for p in entry.postings if p.account == journal.bot_account(BOT, "pnl")), D(0)
    )
    return {
        "id": fill_id,
        "ts": entry.ts.isoformat(),
        "bot_id": BOT,
        "order_id": "o1",
        "symbol": "BTC/ZAR",
        "side": side,
        "price": price,
        "qty": "0.01",
        "notional": str(mul(D(price), D("0.01"))),
        "fee": "1",
        "fee_asset": "ZAR",
        "liquidity": "taker",
        "realised_pnl": str(-pnl) if side == "sell" else "",
        "ledger_entry_id": entry.id,
    }


def export(key: Ed25519PrivateKey = KEY) -> Doc:
    entries = _ledger()
    ours = [e for e in entries if any(p.bot_id == BOT for p in e.postings)]
    links = [Link(e.seq, e.prev_hash, e.hash) for e in entries if e.seq >= ours[0].seq]
    fills = [_fill("f0", entries[3], "buy", "50000"), _fill("f1", entries[5], "sell", "51000")]
    bot = {
        "id": BOT,
        "name": "steady",
        "strategy": "sma_cross",
        "params": {"fast": 10, "slow": 50},
        "exchange": "sim",
        "symbol": "BTC/ZAR",
        "timeframe_s": 60,
        "mode": "paper_public",
        "created_at": T0.isoformat(),
    }
    doc = track_record.build(bot, ours, links, fills, T0 + timedelta(hours=1), key)
    return json.loads(json.dumps(doc, indent=1))  # as a reader parses the file


GENUINE = export()


def _entry(doc: Doc, seq: int) -> dict[str, Any]:
    return next(e for e in doc["entries"] if e["payload"]["seq"] == seq)


def _posting(doc: Doc, seq: int, account: str) -> dict[str, Any]:
    body = _entry(doc, seq)["payload"]
    return next(p for p in body["postings"] if p["account"] == account)


def _rewrite_sell(doc: Doc) -> None:
    """The forgery the chain alone cannot catch: the bot's sell is rewritten to have
    earned 100 ZAR more (cash +100, pnl -100: still balanced, balances carried), the
    fill agrees with it field by field, the entry's hash is recomputed and the two chain
    links around it edited. The opaque next link keeps its hash, so the tip is the same."""
    body = _entry(doc, 6)["payload"]
    for account, delta in ((f"bot:{BOT}:cash", 100), (f"bot:{BOT}:pnl", -100)):
        p = _posting(doc, 6, account)
        p["amount"] = str(D(p["amount"]) + delta)
        p["balance"] = str(D(p["balance"]) + delta)
    body["description"] = "sell 0.01 BTC @ 61000 ZAR"
    item = _entry(doc, 6)
    item["hash"] = chain_hash(item["prev_hash"], body)
    for link in doc["links"]:
        if link[0] == 6:
            link[2] = item["hash"]
        if link[0] == 7:
            link[1] = item["hash"]
    fill = doc["fills"][1]
    fill.update(price="61000", notional="610", realised_pnl=str(D(fill["realised_pnl"]) + 100))


def _swap_tip(doc: Doc) -> None:
    """Another tip, and the last link made to agree with it."""
    doc["tip"]["hash"] = doc["links"][-1][2] = "ab" * 32


def _resign(key: Ed25519PrivateKey, named: Ed25519PrivateKey) -> Callable[[Doc], None]:
    def tamper(doc: Doc) -> None:
        doc["bot"]["name"] = "star"
        doc["signature"] = {
            "alg": "ed25519",
            "key_id": signing.key_id(named.public_key()),
            "value": signing.sign(key, track_record.signed_bytes(doc)),
        }

    return tamper


def _set(path: tuple[Any, ...], value: Any) -> Callable[[Doc], None]:
    def tamper(doc: Doc) -> None:
        target = doc
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return tamper


def _earlier(doc: Doc) -> None:
    fill = doc["fills"][0]
    fill["ts"] = (datetime.fromisoformat(fill["ts"]) - timedelta(days=1)).isoformat()


OTHER = Ed25519PrivateKey.generate()
# (tamper, what the key-less consistency check says, or None when only the signature can)
TAMPERS: dict[str, tuple[Callable[[Doc], None], str | None]] = {
    "fill price": (_set(("fills", 1, "price"), "52000"), "price differs"),
    "fill notional": (_set(("fills", 1, "notional"), "520"), "notional"),
    "fill fee": (_set(("fills", 0, "fee"), "0.5"), "fee differs"),
    "fill realised pnl": (_set(("fills", 1, "realised_pnl"), "30"), "realised PnL differs"),
    "fill side": (_set(("fills", 0, "side"), "sell"), "side differs"),
    "fill ts later": (_set(("fills", 0, "ts"), "2026-03-02T12:00:00+00:00"), "time is after"),
    "fill ts earlier": (_earlier, None),
    "fill qty": (_set(("fills", 0, "qty"), "0.02"), "quantity differs"),
    "fill bot": (_set(("fills", 0, "bot_id"), "bot2"), "another bot"),
    "deleted fill": (lambda d: d["fills"].pop(0), "does not list"),
    "duplicated fill": (lambda d: d["fills"].append(copy.deepcopy(d["fills"][0])), "more than"),
    "bot name": (_set(("bot", "name"), "star"), None),
    "bot params": (_set(("bot", "params"), {"fast": 5, "slow": 50}), None),
    "exported at": (_set(("exported_at",), "2027-01-01T00:00:00+00:00"), None),
    "entry amount": (
        lambda d: _posting(d, 4, f"bot:{BOT}:cash").update(amount="-400"),
        "hash does not match",
    ),
    "entry description": (
        lambda d: _entry(d, 4)["payload"].update(description="bought cheap"),
        "hash does not match",
    ),
    "duplicated entry": (
        lambda d: d["entries"].append(copy.deepcopy(d["entries"][0])),
        "more than once",
    ),
    "deleted entry and its fill": (
        lambda d: (d["entries"].pop(), d["fills"].pop()),
        None,
    ),
    "rewritten entry, hash and links": (_rewrite_sell, None),
    "swapped tip": (_swap_tip, None),
    "tip only": (_set(("tip", "seq"), 99), "tip does not match"),
    "signed by another key": (_resign(OTHER, OTHER), "signature"),
    "another key, genuine key id": (_resign(OTHER, KEY), "signature"),
    "stripped signature": (lambda d: d.pop("signature"), "no signature"),
    "signature of other bytes": (
        _set(("signature", "value"), signing.sign(KEY, b"another document")),
        "signature",
    ),
}


def test_genuine_export_verifies_and_needs_the_key_to_be_ok() -> None:
    report = track_record.verify(GENUINE, PUBLIC)
    assert report.ok and report.authenticated, report.problems
    assert (report.entries, report.links, report.fills) == (3, 6, 2)
    assert report.key_id == signing.key_id(PUBLIC) == GENUINE["signature"]["key_id"]
    unkeyed = track_record.verify(GENUINE, None)
    assert unkeyed.consistent and not unkeyed.authenticated and not unkeyed.ok
    # The signature covers the parsed document, not the file's bytes: re-indenting or
    # reordering keys in transit changes nothing.
    reordered = json.loads(json.dumps(GENUINE, sort_keys=True))
    assert track_record.verify(reordered, PUBLIC).ok


@pytest.mark.parametrize("name", list(TAMPERS))
def test_every_tamper_is_refused(name: str) -> None:
    tamper, needle = TAMPERS[name]
    doc = copy.deepcopy(GENUINE)
    tamper(doc)
    assert doc != GENUINE
    report = track_record.verify(doc, PUBLIC)
    assert not report.ok and not report.authenticated and report.problems, name
    unkeyed = track_record.verify(doc, None)
    if needle is None:  # only the signature can tell: the file is consistent in itself
        assert unkeyed.consistent and "signature does not match" in report.problems[0]
    else:
        assert any(needle in p for p in unkeyed.problems + report.problems), unkeyed.problems


def test_rewritten_entry_is_consistent_yet_refused_and_keeps_the_tip() -> None:
    """Why the signature: this forgery passes every check the file can make alone."""
    doc = copy.deepcopy(GENUINE)
    _rewrite_sell(doc)
    assert doc["tip"] == GENUINE["tip"]
    assert track_record.verify(doc, None).consistent
    problems = track_record.verify(doc, PUBLIC).problems
    assert problems == [
        "the signature does not match: the file was changed after the platform signed it, "
        "or another key signed it"
    ]


def test_old_unsigned_version_is_refused_with_a_reason() -> None:
    doc = copy.deepcopy(GENUINE)
    doc["version"] = 1
    del doc["signature"]
    report = track_record.verify(doc, PUBLIC)
    assert not report.ok and "version 1 is unsigned" in report.problems[0]


def test_keys_travel_as_text() -> None:
    private = signing.generate_private_text()
    key = signing.load_private(private)
    public = key.public_key()
    for text in (signing.public_text(public), f"ed25519:{signing.public_text(public)}"):
        assert signing.key_id(signing.load_public(text)) == signing.key_id(public)
    assert signing.key_id(signing.load_public(signing.public_pem(public))) == signing.key_id(public)
    assert len(signing.key_id(public)) == 16
    data = b"some bytes"
    sig = signing.sign(key, data)
    assert signing.verify(public, data, sig)
    assert not signing.verify(public, data + b"!", sig)
    assert not signing.verify(public, data, "not base64!")
    for bad in ("", "AAAA", "not base64!", signing.public_text(public) + "AA=="):
        with pytest.raises(ValueError):
            signing.load_public(bad)
        with pytest.raises(ValueError):
            signing.load_private(bad)


@pytest.mark.parametrize(
    "tamper",
    [
        _set(("fills", 1, "price"), "1e999"),
        _set(("fills", 1, "price"), "NaN"),
        _set(("fills", 0, "qty"), 5),
        _set(("fills", 0, "ledger_entry_id"), ["x"]),
        _set(("fills", 0, "ts"), "2026-03-01T12:00:00"),
        _set(("entries", 0, "payload", "seq"), [2]),
        _set(("entries", 0, "payload", "user_id"), {"a": 1}),
        _set(("entries", 1, "payload", "ts"), "2026-03-01T12:00:00"),
        lambda d: _posting(d, 4, f"bot:{BOT}:position").update(amount="NaN"),
        _set(("links", 0), [1, 2]),
        _set(("bot",), None),
        lambda d: d["bot"]["params"].update({1: "int key"}),  # no JSON file parses into this
    ],
)
def test_malformed_values_are_reported_not_raised(tamper: Callable[[Doc], None]) -> None:
    """A verifier that crashes on a crafted file is one a forger can aim at."""
    doc = copy.deepcopy(GENUINE)
    tamper(doc)
    report = track_record.verify(doc, PUBLIC)
    assert not report.ok and report.problems
    assert not track_record.verify(doc, None).ok  # never ok without the key, and no raise
