"""Write the ccxt connector fixtures: `python -m tests.unit.exchanges.record_ccxt_fixtures`.

The replies (`venue_replies.py`) are built from each venue's documented API examples.
Recording runs our client against them on the replay transport with the fixed clock
and nonce, and stores the requests it sent and what it parsed; the tests
then require both, exactly. Re-record only on purpose (a ccxt upgrade), and review the
diff: a changed URL, body or signature is a behaviour change.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from tests.unit.exchanges.ccxt_harness import (
    FIXTURES,
    fixed_client,
    run_fixture,
    to_json,
    with_markets,
)
from tests.unit.exchanges.venue_replies import REPLIES


async def record(venue: str, name: str, spec: dict[str, Any]) -> None:
    client = fixed_client(venue)
    if name != "instruments":
        await with_markets(client)
    fixture = {
        "call": spec["call"],
        "calls": [{"request": None, "response": r} for r in spec["responses"]],
    }
    try:
        result, session = await run_fixture(client, fixture, record=True)
        fixture["expected"] = to_json(result)
    except Exception as exc:  # an error fixture records which of our errors it raised
        session = client.exchange.session
        fixture["expected"] = {
            "error": type(exc).__name__,
            "code": getattr(exc, "code", None),
            "retry_after_s": getattr(exc, "retry_after_s", None),
        }
        if spec.get("expect_error") is None:
            raise
    if len(session.seen) != len(session.calls):
        raise SystemExit(
            f"{venue}/{name}: {len(session.seen)} requests, {len(session.calls)} replies"
        )
    await client.close()
    for call, seen in zip(fixture["calls"], session.seen, strict=True):
        call["request"] = seen
    path = FIXTURES / venue / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(fixture, indent=1, sort_keys=True) + "\n")
    outcome = fixture["expected"] if "error" in str(fixture["expected"])[:9] else "ok"
    print(f"{venue}/{name}: {len(session.seen)} request(s) -> {outcome}")


async def main(only: list[str]) -> None:
    for venue, fixtures in REPLIES.items():
        if only and venue not in only:
            continue
        for name, spec in fixtures.items():
            await record(venue, name, spec)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
