"""A bot's verifiable track record: an export file anyone can check offline.

Copy trading rests on these files, so a reader holding only the file and the platform's
public key must be able to detect a change to *any* field. The export carries:

- ``bot``: the bot's id, name, strategy, parameters, market and mode;
- ``entries``: every journal entry touching the bot, each as the exact payload the chain
  hashed (``amarktai.ledger.chain.payload``) with its ``prev_hash`` and ``hash``;
- ``links``: ``[seq, prev_hash, hash]`` of *every* platform entry from the bot's first
  entry to the chain tip at export time, hashes only (other users' contents stay private);
- ``tip``: the chain's last seq and hash when exported;
- ``fills``: the bot's fills, each pointing at the ledger entry that booked it;
- ``signature``: ``{alg: "ed25519", key_id, value}``, the platform's Ed25519 signature
  (``amarktai.kit.signing``) of `signed_bytes`: ``kit.hashchain.canonical`` of the whole
  document less ``signature`` (keys sorted, no spaces, ASCII), UTF-8.

Why a signature and not the chain alone: ``hash = sha256(prev_hash + canonical(payload))``
can only be recomputed where the payload is known. The links around the bot's entries
are opaque, so whoever rewrites one of the bot's own entries (still balanced), recomputes
its hash and edits the ``prev_hash`` of the next (opaque) link leaves a file whose every
checkable hash matches and whose tip is the genuine one. Fill prices, fees and the bot's
name are not in the chain at all. Only a signature by a key the forger does not hold
covers all of it; the reader gets the public key from the platform (``GET
/api/v1/ledger/public-key``, ``amarktai ledger public-key``), never from the file.

`verify` also checks, without the key, everything the file can prove about itself, as
defence in depth and to name *what* was changed: the entry hashes and links; no entry or
fill twice; every entry touching the bot; every fill's side, quantity, price, notional,
fee and realised PnL against the postings of the entry that booked it (the entry's
description, which the chain covers, states the price); every fill entry having its
fill. A fill's time is the venue's, which the chain does not cover; offline it is only
bounded (not after its booking, give or take `MAX_CLOCK_SKEW`); the signature covers it
exactly. A file that passes these checks but is not authenticated proves nothing about
its origin: a forger can write a consistent file from scratch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from amarktai.analytics.trades import mul
from amarktai.kit import signing
from amarktai.kit.hashchain import canonical, chain_hash
from amarktai.ledger.chain import payload, postings_of
from amarktai.ledger.journal import CONTEXT, MAX_ABS, Entry, bot_account, decimal_text

FORMAT = "amarktai-track-record"
VERSION = 2
SIGNATURE = "signature"
# Venue clocks run a little ahead of ours at times; a fill may not be later than this past
# the entry that booked it.
MAX_CLOCK_SKEW = timedelta(minutes=5)
_ZERO = Decimal(0)


@dataclass(frozen=True)
class Link:
    seq: int
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class VerifyReport:
    """What `verify` found. `ok` only when the file is both consistent and signed by the
    key the reader passed: a consistent file alone could have been written by anyone."""

    entries: int
    links: int
    fills: int
    problems: list[str] = field(default_factory=list)
    authenticated: bool = False
    key_id: str | None = None  # the key the file says signed it (unchecked without a key)

    @property
    def consistent(self) -> bool:
        return not self.problems

    @property
    def ok(self) -> bool:
        return self.consistent and self.authenticated


def build(
    bot: dict[str, Any],
    entries: Sequence[Entry],
    links: Sequence[Link],
    fills: Iterable[dict[str, Any]],
    exported_at: datetime,
    key: Ed25519PrivateKey,
) -> dict[str, Any]:
    """The signed export document (JSON-ready: decimals as text, times as ISO 8601).

    The document is made JSON-native (through `canonical` and back) before it is signed,
    so the signed bytes are exactly what a reader re-serialises from the parsed file."""
    tip = links[-1] if links else None
    body = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": exported_at.isoformat(),
        "bot": bot,
        "tip": None if tip is None else {"seq": tip.seq, "hash": tip.hash},
        "entries": [
            {
                "payload": payload(e, postings_of(e)),
                "prev_hash": e.prev_hash,
                "hash": e.hash,
            }
            for e in sorted(entries, key=lambda e: e.seq)
        ],
        "links": [[link.seq, link.prev_hash, link.hash] for link in links],
        "fills": list(fills),
    }
    doc: dict[str, Any] = json.loads(canonical(body))
    doc[SIGNATURE] = {
        "alg": signing.ALG,
        "key_id": signing.key_id(key.public_key()),
        "value": signing.sign(key, signed_bytes(doc)),
    }
    return doc


def signed_bytes(doc: Mapping[str, Any]) -> bytes:
    """What the signature covers: the whole document less its signature, canonical."""
    return canonical({k: v for k, v in doc.items() if k != SIGNATURE}).encode()


def verify(doc: Any, public_key: Ed25519PublicKey | None) -> VerifyReport:
    """Check an export without any database; every problem found is listed, first first.

    With `public_key` (the platform's, obtained from the platform, never from the file)
    the signature is checked and the report can be `ok`; without it the report says
    whether the file is internally consistent, and `authenticated` stays False."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        return VerifyReport(0, 0, 0, ["not an amarktai track-record export"])
    if doc.get("version") == 1:
        return VerifyReport(
            0,
            0,
            0,
            [
                "export version 1 is unsigned and cannot be authenticated: "
                "export the track record again from the platform"
            ],
        )
    if doc.get("version") != VERSION:
        return VerifyReport(0, 0, 0, [f"unsupported export version {doc.get('version')!r}"])
    try:
        entries = list(doc["entries"])
        links = [Link(int(s), str(p), str(h)) for s, p, h in doc["links"]]
        fills = list(doc["fills"])
    except (KeyError, TypeError, ValueError):
        return VerifyReport(0, 0, 0, ["export is missing entries, links or fills"])
    problems, authenticated, signer = _check_signature(doc, public_key)
    bot = doc.get("bot")
    bot_id = bot.get("id") if isinstance(bot, dict) else None
    if not isinstance(bot_id, str) or not bot_id:
        problems.append("the export names no bot")
        bot_id = None
    problems += _check_entries(entries, bot_id)
    problems += _check_links(links, doc.get("tip"), entries)
    problems += _check_membership(entries, links)
    problems += _check_fills(fills, entries, bot_id)
    return VerifyReport(
        len(entries), len(links), len(fills), problems, authenticated and not problems, signer
    )


def _check_signature(
    doc: dict[str, Any], key: Ed25519PublicKey | None
) -> tuple[list[str], bool, str | None]:
    """(problems, authenticated, the key id the file names)."""
    sig = doc.get(SIGNATURE)
    if not isinstance(sig, dict) or not isinstance(sig.get("value"), str):
        return ["the export carries no signature"], False, None
    named = sig.get("key_id") if isinstance(sig.get("key_id"), str) else None
    if sig.get("alg") != signing.ALG:
        return [f"unsupported signature algorithm {sig.get('alg')!r}"], False, named
    if key is None:
        return [], False, named
    problems = []
    expected = signing.key_id(key)
    if named != expected:
        problems.append(f"the export names signing key {named}, not the given key {expected}")
    try:
        data = signed_bytes(doc)
    except (TypeError, ValueError):  # not JSON-native: no file parses into this
        return ["the export is not plain JSON"], False, named
    if not signing.verify(key, data, sig["value"]):
        problems.append(
            "the signature does not match: the file was changed after the platform signed "
            "it, or another key signed it"
        )
    return problems, not problems, named


def _check_entries(entries: list[Any], bot_id: str | None) -> list[str]:
    problems = []
    ids: set[Any] = set()
    users: set[Any] = set()
    last_seq: int | None = None
    for item in entries:
        try:
            body, prev, stored = item["payload"], item["prev_hash"], item["hash"]
            seq, entry_id = body["seq"], body["id"]
            if not isinstance(entry_id, str) or not _is_int(seq):
                raise TypeError("entry id or seq")
            label = f"entry seq {seq} ({entry_id})"
            hashed = chain_hash(prev, body)
        except (KeyError, TypeError, ValueError):
            problems.append("an entry is malformed")
            continue
        if hashed != stored:
            problems.append(f"{label}: hash does not match its contents")
        if entry_id in ids:
            problems.append(f"{label} appears more than once")
        ids.add(entry_id)
        if last_seq is not None and seq <= last_seq:
            problems.append(f"{label} is out of seq order (repeated or moved)")
        else:
            last_seq = seq
        if bot_id is not None and not _touches(body, bot_id):
            problems.append(f"{label} does not touch bot {bot_id}")
        users.add(str(body.get("user_id")))
    if len(users) > 1:
        problems.append("the entries belong to more than one user")
    return problems


def _touches(body: Mapping[str, Any], bot_id: str) -> bool:
    """The exporter's own rule: an entry with a posting on one of the bot's accounts."""
    postings = body.get("postings")
    return isinstance(postings, list) and any(
        isinstance(p, dict) and p.get("bot_id") == bot_id for p in postings
    )


def _check_links(links: list[Link], tip: Any, entries: list[Any]) -> list[str]:
    problems = []
    for before, after in pairwise(links):
        if after.seq != before.seq + 1:
            problems.append(f"chain skips from seq {before.seq} to seq {after.seq}")
        elif after.prev_hash != before.hash:
            problems.append(f"seq {after.seq}: prev_hash does not match seq {before.seq}")
    if links and (
        not isinstance(tip, dict)
        or tip.get("seq") != links[-1].seq
        or tip.get("hash") != links[-1].hash
    ):
        problems.append("the tip does not match the last link")
    first = _seq(entries[0]) if entries else None
    if bool(links) != bool(entries) or (links and first is not None and links[0].seq != first):
        problems.append("the chain links do not start at the bot's first entry")
    return problems


def _seq(item: Any) -> int | None:
    try:
        seq = item["payload"]["seq"]
    except (KeyError, TypeError):
        return None
    return seq if _is_int(seq) else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_membership(entries: list[Any], links: list[Link]) -> list[str]:
    by_seq = {link.seq: link for link in links}
    problems = []
    for item in entries:
        seq = _seq(item)
        if seq is None:
            continue
        link = by_seq.get(seq)
        if link is None:
            problems.append(f"entry seq {seq} is not in the exported chain")
        elif (link.prev_hash, link.hash) != (item.get("prev_hash"), item.get("hash")):
            problems.append(f"entry seq {seq} differs from the chain at that seq")
    return problems


def _check_fills(fills: list[Any], entries: list[Any], bot_id: str | None) -> list[str]:
    """Each fill is booked by its own exported entry, field by field, and every fill entry
    of the bot has its fill: no fill added, removed, repeated or altered."""
    booked: dict[Any, dict[str, Any]] = {}
    for item in entries:
        body = item.get("payload") if isinstance(item, dict) else None
        if isinstance(body, dict) and isinstance(body.get("id"), str):
            booked.setdefault(body["id"], body)
    problems = []
    seen: set[Any] = set()
    claimed: dict[str, Any] = {}  # entry id -> the fill that points at it
    for fill in fills:
        if not isinstance(fill, dict) or not isinstance(fill.get("id"), str):
            problems.append("a fill is malformed")
            continue
        fill_id = fill["id"]
        if fill_id in seen:
            problems.append(f"fill {fill_id} appears more than once")
            continue
        seen.add(fill_id)
        entry_id = fill.get("ledger_entry_id")
        entry = booked.get(entry_id) if isinstance(entry_id, str) else None
        if entry is None or not isinstance(entry_id, str):
            problems.append(f"fill {fill_id} has no exported ledger entry")
            continue
        if entry_id in claimed:
            problems.append(f"fill {fill_id} and fill {claimed[entry_id]} share a ledger entry")
            continue
        claimed[entry_id] = fill_id
        if bot_id is not None:
            problems += [f"fill {fill_id}: {p}" for p in _fill_problems(fill, entry, bot_id)]
    for entry_id, body in booked.items():
        if body.get("kind") == "fill" and body.get("bot_id") == bot_id and entry_id not in claimed:
            problems.append(f"entry seq {body.get('seq')} books a fill the export does not list")
    return problems


def _fill_problems(fill: dict[str, Any], entry: dict[str, Any], bot_id: str) -> list[str]:
    """Every field of one fill against the postings of the entry that booked it
    (`amarktai.ledger.journal.fill` wrote them)."""
    try:
        base, quote = _text(fill, "symbol").split("/")
        side = _text(fill, "side")
        price, qty = _number(fill, "price"), _number(fill, "qty")
        notional, fee = _number(fill, "notional"), _number(fill, "fee")
        fee_asset, realised_text = _text(fill, "fee_asset"), _text(fill, "realised_pnl")
        realised = _number(fill, "realised_pnl") if realised_text else None
        when = datetime.fromisoformat(_text(fill, "ts"))
        booked_at = datetime.fromisoformat(entry["ts"])
        sums = _sums(entry["postings"])
        if when.tzinfo is None or booked_at.tzinfo is None:
            raise ValueError("naive time")
    except (KeyError, TypeError, ValueError, InvalidOperation):
        return ["its fields are missing or malformed"]
    if fill.get("bot_id") != bot_id:
        return ["it belongs to another bot"]
    # The engine books a fill with its id as the entry's ref (idempotency); a null ref is
    # allowed so a fill booked without one still verifies on its other fields.
    ref = entry.get("ref")
    if (entry.get("kind"), entry.get("bot_id")) != ("fill", bot_id) or ref not in (
        None,
        fill["id"],
    ):
        return ["its ledger entry is not this bot's booking of this fill"]
    problems = []
    moved = sums.get((bot_account(bot_id, "position"), base), _ZERO)
    booked_side = "buy" if moved > 0 else "sell" if moved < 0 else None
    if side != booked_side:
        problems.append("side differs from its ledger entry")
    if qty != moved.copy_abs():
        problems.append("quantity differs from its ledger entry")
    size = decimal_text(moved.copy_abs())
    stated = f"{booked_side} {size} {base} @ {decimal_text(price)} {quote}"
    if entry.get("description") != stated:
        problems.append("price differs from its ledger entry")
    cash, fees = bot_account(bot_id, "cash"), bot_account(bot_id, "fees")
    if notional != mul(price, qty):
        problems.append("notional is not price × quantity")
    paid = CONTEXT.add(sums.get((cash, quote), _ZERO), sums.get((fees, quote), _ZERO))
    if notional != paid.copy_abs():
        problems.append("notional differs from its ledger entry")
    charged = {asset: v for (account, asset), v in sums.items() if account == fees and v}
    if charged != ({fee_asset: fee} if fee else {}):
        problems.append("fee differs from its ledger entry")
    if booked_side == "sell":
        pnl = sums.get((bot_account(bot_id, "pnl"), quote), _ZERO).copy_negate()
        if realised is None or realised != pnl:
            problems.append("realised PnL differs from its ledger entry")
    elif realised is not None:
        problems.append("realised PnL differs from its ledger entry (a buy realises none)")
    if when > booked_at + MAX_CLOCK_SKEW:
        problems.append("time is after its ledger entry booked it")
    return problems


def _text(fill: Mapping[str, Any], key: str) -> str:
    value = fill[key]
    if not isinstance(value, str):
        raise TypeError(key)
    return value


def _number(fill: Mapping[str, Any], key: str) -> Decimal:
    return _finite(Decimal(_text(fill, key)))


def _finite(value: Decimal) -> Decimal:
    """Only what the ledger could store (finite, under `MAX_ABS`) is compared: anything
    else would make the arithmetic below raise instead of report."""
    if not value.is_finite() or value.copy_abs() >= MAX_ABS:
        raise ValueError("not a storable amount")
    return value


def _sums(postings: Any) -> dict[tuple[str, str], Decimal]:
    """Signed total per (account, asset) of an entry's postings."""
    sums: dict[tuple[str, str], Decimal] = {}
    for p in postings:
        key = (str(p["account"]), str(p["asset"]))
        amount = _finite(Decimal(str(p["amount"])))
        sums[key] = CONTEXT.add(sums.get(key, _ZERO), amount)
    return sums
