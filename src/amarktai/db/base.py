"""Declarative base and portable column types shared by every domain's tables."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, MetaData, Numeric, String, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

from amarktai.kit.money import EXACT

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend (SQLite stores naive, we re-attach UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Money(TypeDecorator[Decimal]):
    """Exact decimals: NUMERIC(38,18) on PostgreSQL, text on SQLite (whose NUMERIC is float)."""

    impl = Numeric(38, 18)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(64))
        return dialect.type_descriptor(Numeric(38, 18, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            value = Decimal(str(value))
        if dialect.name == "sqlite":
            return format(value, "f")
        return value

    def bind_processor(self, dialect: Dialect) -> Any:
        """On SQLite, one plain function per value: the same text as
        `process_bind_param` (the String impl adds no processing of its own) without the
        generic wrapper, which cost more than the formatting on the engine's bulk
        inserts (about ten money values per fill)."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def to_text(value: Any) -> Any:
            if value is None:
                return None
            if not isinstance(value, Decimal):
                value = Decimal(str(value))
            return format(value, "f")

        return to_text

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return canonical_decimal(Decimal(str(value)))


def canonical_decimal(value: Decimal) -> Decimal:
    """Same number, same text on every backend: no trailing zeros, no exponent form.

    Exact for every value a money column holds (38 significant digits): `normalize` and
    `quantize` round to their context's precision, and the thread's default context keeps
    only 28, which once turned a stored 30-digit deposit into a different number on read.
    """
    value = value.normalize(EXACT)
    if value.as_tuple().exponent > 0:  # type: ignore[operator]
        return value.quantize(Decimal(1), context=EXACT)
    return value
