"""Ledger tables: an append-only, hash-chained journal and its postings.

Chart of accounts
=================
Every account path names its owner, so a path is unique platform-wide and a balance key
is simply ``(account, asset)`` (``user_id`` is stored too, to scope every query).
Amounts are signed: positive is a debit (value held), negative a credit. Every entry's
postings sum to zero per asset.

User accounts (``user:{user_id}:...``)
  ``cash``      free capital: deposited, not allocated to any bot. Never negative.
  ``external``  the world outside the platform (bank, exchange wallet). Counterpart of
                deposits and withdrawals; its balance is minus the net amount deposited.
  ``fees``      fees not attributable to a bot (e.g. a withdrawal fee). Positive = paid.
  ``equity``    counterpart of manual adjustments (corrections, opening balances).

Bot accounts (``bot:{bot_id}:...``)
  ``cash``      capital allocated to the bot, per asset. Never negative: this is the
                rule that no bot spends capital it was not allocated.
  ``position``  base assets the bot holds after buying. Never negative (no shorting).
  ``trading:{BASE}-{QUOTE}``  the fill counterpart, one per traded pair (a
                multi-currency "trading account"): in the base asset it is minus the
                quantity bought through the pair and still held; in the quote asset it
                is that quantity's open cost basis, so average cost is one ratio of two
                balances, and marking the account to market gives minus the unrealised
                PnL. A bot can only sell through a pair what it bought through it.
  ``fees``      fees the bot paid, per fee asset. Positive = paid.
  ``pnl``       realised profit and loss in the quote asset, credit-normal like all
                income: a negative balance is a profit.

Each posting also stores ``balance``: the running balance of its ``(account, asset)``
after the posting. It makes current and point-in-time balances one indexed lookup, and
``LedgerService.replay`` proves it equals the sum of amounts, so it is derived data that
is checked, not a second source of truth. Appends are serialised by the ledger chain lock,
so ``(seq, line)`` orders postings and ``ts`` never decreases along ``seq``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from amarktai.db.base import Base, Money, UTCDateTime

ENTRY_KINDS = (
    "deposit",
    "withdrawal",
    "allocation",
    "deallocation",
    "fill",
    "fee",
    "transfer",
    "reversal",
    "adjustment",
)
_KIND_LIST = ", ".join(f"'{kind}'" for kind in ENTRY_KINDS)
_SEQ = BigInteger().with_variant(Integer, "sqlite")


class JournalEntry(Base):
    """One immutable journal entry; corrections are new reversing entries, never updates."""

    __tablename__ = "journal_entries"
    __table_args__ = (
        UniqueConstraint("kind", "ref", name="uq_journal_entries_kind_ref"),
        CheckConstraint(f"kind IN ({_KIND_LIST})", name="kind"),
        Index("ix_journal_entries_user_seq", "user_id", "seq"),
        Index("ix_journal_entries_bot_seq", "bot_id", "seq"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    seq: Mapped[int] = mapped_column(_SEQ, unique=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    bot_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(500), default="")
    reverses_id: Mapped[str | None] = mapped_column(
        ForeignKey("journal_entries.id", ondelete="RESTRICT"), nullable=True
    )
    ref: Mapped[str | None] = mapped_column(String(128), nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class PostingRow(Base):
    """One signed movement of one asset on one account, with the running balance after it."""

    __tablename__ = "postings"
    __table_args__ = (
        UniqueConstraint("entry_id", "line", name="uq_postings_entry_line"),
        Index("ix_postings_balance", "user_id", "account", "asset", "seq", "line"),
        Index("ix_postings_bot_seq", "bot_id", "seq"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("journal_entries.id", ondelete="RESTRICT"))
    seq: Mapped[int] = mapped_column(_SEQ)
    line: Mapped[int] = mapped_column(SmallInteger)
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    account: Mapped[str] = mapped_column(String(80))
    bot_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    asset: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Money)
    balance: Mapped[Decimal] = mapped_column(Money)
