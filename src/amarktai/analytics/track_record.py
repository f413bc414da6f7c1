"""A bot's verifiable track record: an export file anyone can check offline.

The ledger is one hash chain for the whole platform, so one bot's entries are a
subsequence of it. The export therefore carries:

- ``entries``: every journal entry touching the bot, each as the exact payload the chain
  hashed (``amarktai.ledger.chain.payload``) with its ``prev_hash`` and ``hash``; anyone
  recomputes ``sha256(prev_hash + canonical(payload))`` with ``amarktai.kit.hashchain``;
- ``links``: ``[seq, prev_hash, hash]`` of *every* platform entry from the bot's first
  entry to the chain tip at export time, hashes only (other users' contents stay private).
  They prove that no entry of the range was left out or reordered: each link must point
  at the one before it, and each exported entry must sit in the chain at its seq;
- ``tip``: the chain's last seq and hash when exported. Comparing it with the platform's
  chain (``amarktai ledger verify`` or ``GET /api/v1/ledger/verify`` there) anchors the
  file to the live ledger; offline, the file proves internal consistency only;
- ``fills``: the bot's fills, each pointing at the ledger entry that booked it; the
  verifier checks that entry books exactly that quantity.

What it cannot prove offline: that a wholly fabricated file, chain included, is not
fabricated. That is what the tip anchor is for.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Any

from amarktai.kit.hashchain import chain_hash
from amarktai.ledger.chain import payload, postings_of
from amarktai.ledger.journal import Entry, decimal_text

FORMAT = "amarktai-track-record"
VERSION = 1


@dataclass(frozen=True)
class Link:
    seq: int
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class VerifyReport:
    entries: int
    links: int
    fills: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def build(
    bot: dict[str, Any],
    entries: Sequence[Entry],
    links: Sequence[Link],
    fills: Iterable[dict[str, Any]],
    exported_at: datetime,
) -> dict[str, Any]:
    """The export document (JSON-ready: decimals as text, times as ISO 8601)."""
    tip = links[-1] if links else None
    return {
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


def verify(doc: Any) -> VerifyReport:
    """Check an export without any database; every problem found is listed, first first."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        return VerifyReport(0, 0, 0, ["not an amarktai track-record export"])
    if doc.get("version") != VERSION:
        return VerifyReport(0, 0, 0, [f"unsupported export version {doc.get('version')!r}"])
    try:
        entries = list(doc["entries"])
        links = [Link(int(s), str(p), str(h)) for s, p, h in doc["links"]]
        fills = list(doc["fills"])
    except (KeyError, TypeError, ValueError):
        return VerifyReport(0, 0, 0, ["export is missing entries, links or fills"])
    problems = _check_entries(entries)
    problems += _check_links(links, doc.get("tip"))
    problems += _check_membership(entries, links)
    problems += _check_fills(fills, entries, doc.get("bot"))
    return VerifyReport(len(entries), len(links), len(fills), problems)


def _check_entries(entries: list[Any]) -> list[str]:
    problems = []
    for item in entries:
        try:
            body, prev, stored = item["payload"], item["prev_hash"], item["hash"]
            label = f"entry seq {body['seq']} ({body['id']})"
        except (KeyError, TypeError):
            problems.append("an entry is malformed")
            continue
        if chain_hash(prev, body) != stored:
            problems.append(f"{label}: hash does not match its contents")
    return problems


def _check_links(links: list[Link], tip: Any) -> list[str]:
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
    return problems


def _check_membership(entries: list[Any], links: list[Link]) -> list[str]:
    by_seq = {link.seq: link for link in links}
    problems = []
    for item in entries:
        try:
            seq = item["payload"]["seq"]
        except (KeyError, TypeError):
            continue
        link = by_seq.get(seq)
        if link is None:
            problems.append(f"entry seq {seq} is not in the exported chain")
        elif (link.prev_hash, link.hash) != (item.get("prev_hash"), item.get("hash")):
            problems.append(f"entry seq {seq} differs from the chain at that seq")
    return problems


def _check_fills(fills: list[Any], entries: list[Any], bot: Any) -> list[str]:
    """Each fill is booked by an exported entry moving exactly its quantity."""
    bot_id = bot.get("id") if isinstance(bot, dict) else None
    booked = {
        e["payload"]["id"]: e["payload"]
        for e in entries
        if isinstance(e, dict) and isinstance(e.get("payload"), dict) and "id" in e["payload"]
    }
    problems = []
    for fill in fills:
        entry = booked.get(fill.get("ledger_entry_id")) if isinstance(fill, dict) else None
        if entry is None:
            problems.append(f"fill {_fill_id(fill)} has no exported ledger entry")
        elif _booked_qty(entry, f"bot:{bot_id}:position") != _abs_qty(fill.get("qty")):
            problems.append(f"fill {_fill_id(fill)} quantity differs from its ledger entry")
    return problems


def _fill_id(fill: Any) -> str:
    return str(fill.get("id")) if isinstance(fill, dict) else "?"


def _booked_qty(entry: dict[str, Any], account: str) -> str | None:
    total = Decimal(0)
    for posting in entry.get("postings", []):
        if posting.get("account") == account:
            total += Decimal(posting["amount"])
    return decimal_text(abs(total))


def _abs_qty(value: Any) -> str | None:
    try:
        return decimal_text(abs(Decimal(str(value))))
    except InvalidOperation:
        return None
