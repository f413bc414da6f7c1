"""Tables of risk management: limits per level, ledger-derived breaker state, risk events.

* ``risk_limits``: breaker and exposure limits of a user, or of the platform (a bot's
  live in its own ``bots.risk`` settings).
* ``risk_state``: per level, the total PnL at the start of the UTC day and at its peak.
  Both are figures the risk service read from the ledger and keeps so it need not replay
  the whole journal each bar; nothing here comes from a bot's own memory.
* ``risk_events``: every breaker trip, reset and emergency stop, with why and the figures
  behind it. A trip stays ``active`` until it is reset by hand or by its rule.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from amarktai.db.base import Base, Money, UTCDateTime

PLATFORM = "platform"


class RiskLimits(Base):
    __tablename__ = "risk_limits"
    __table_args__ = (UniqueConstraint("scope", "owner_id", name="uq_risk_limits_owner"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))
    owner_id: Mapped[str] = mapped_column(String(26))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RiskState(Base):
    __tablename__ = "risk_state"
    __table_args__ = (UniqueConstraint("scope", "owner_id", name="uq_risk_state_owner"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))
    owner_id: Mapped[str] = mapped_column(String(26))
    day: Mapped[str] = mapped_column(String(10))
    day_start_pnl: Mapped[Decimal] = mapped_column(Money)
    peak_pnl: Mapped[Decimal] = mapped_column(Money)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RiskEvent(Base):
    __tablename__ = "risk_events"
    __table_args__ = (
        Index("ix_risk_events_owner", "scope", "owner_id", "active"),
        Index("ix_risk_events_user", "user_id", "id"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))
    owner_id: Mapped[str] = mapped_column(String(26))
    user_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    kind: Mapped[str] = mapped_column(String(20))
    breaker: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reset_rule: Mapped[str | None] = mapped_column(String(16), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
