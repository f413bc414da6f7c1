"""Append-only, hash-chained audit log of security events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from amarktai.accounts.models import AuditEntry
from amarktai.db.locks import chain_lock
from amarktai.kit.hashchain import GENESIS, ChainBreak, chain_hash, verify_chain

LOCK = "audit_log"


def _payload(
    seq: int,
    ts: datetime,
    event: str,
    user_id: str | None,
    actor_id: str | None,
    ip: str | None,
    details: dict[str, Any],
) -> dict[str, Any]:
    return {
        "seq": seq,
        "ts": ts.isoformat(),
        "event": event,
        "user_id": user_id,
        "actor_id": actor_id,
        "ip": ip,
        "details": details,
    }


def payload_of(entry: AuditEntry) -> dict[str, Any]:
    return _payload(
        entry.seq, entry.ts, entry.event, entry.user_id, entry.actor_id, entry.ip, entry.details
    )


async def append(
    session: AsyncSession,
    event: str,
    *,
    now: datetime,
    user_id: str | None = None,
    actor_id: str | None = None,
    ip: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    await chain_lock(session, LOCK)
    last = (
        await session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))
    ).scalar_one_or_none()
    seq = (last.seq + 1) if last else 1
    prev = last.hash if last else GENESIS
    details = details or {}
    ts = now.replace(microsecond=now.microsecond)
    entry = AuditEntry(
        seq=seq,
        ts=ts,
        event=event,
        user_id=user_id,
        actor_id=actor_id or user_id,
        ip=ip,
        details=details,
        prev_hash=prev,
        hash=chain_hash(prev, _payload(seq, ts, event, user_id, actor_id or user_id, ip, details)),
    )
    session.add(entry)
    await session.flush()
    return entry


async def _stream(session: AsyncSession, batch: int = 1000) -> AsyncIterator[AuditEntry]:
    after = 0
    while True:
        rows = (
            (
                await session.execute(
                    select(AuditEntry)
                    .where(AuditEntry.seq > after)
                    .order_by(AuditEntry.seq)
                    .limit(batch)
                )
            )
            .scalars()
            .all()
        )
        if not rows:
            return
        for row in rows:
            yield row
        after = rows[-1].seq


async def verify(session: AsyncSession) -> tuple[int, ChainBreak | None]:
    """Walk the whole chain in order; return (entries checked, first break or None)."""
    entries = [(e.seq, payload_of(e), e.prev_hash, e.hash) async for e in _stream(session)]
    return len(entries), verify_chain(entries)
