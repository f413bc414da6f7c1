"""Reading venue JSON into our values, strictly.

A field that is missing or not a number raises `BadVenueReply` naming the field and
keeping the venue's record, instead of a `KeyError` deep in a bot or, worse, a default
that books a zero. Money is parsed from the venue's string straight to `Decimal`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from amarktai.exchanges.errors import BadVenueReply
from amarktai.exchanges.http import bad_reply


class Record:
    """One JSON object from a venue, with typed getters that fail loudly."""

    __slots__ = ("raw", "venue", "what")

    def __init__(self, venue: str, raw: Any, what: str) -> None:
        if not isinstance(raw, dict):
            raise bad_reply(venue, f"{what}: expected an object", raw)
        self.venue = venue
        self.raw: dict[str, Any] = raw
        self.what = what

    def _missing(self, key: str, why: str) -> BadVenueReply:
        return bad_reply(self.venue, f"{self.what}: field {key!r} {why}", self.raw)

    def has(self, key: str) -> bool:
        return self.raw.get(key) not in (None, "")

    def text(self, key: str) -> str:
        value = self.raw.get(key)
        if value is None or value == "":
            raise self._missing(key, "is missing")
        return str(value)

    def opt_text(self, key: str) -> str | None:
        value = self.raw.get(key)
        return None if value is None or value == "" else str(value)

    def dec(self, key: str) -> Decimal:
        value = self.raw.get(key)
        if value is None or value == "" or isinstance(value, bool):
            raise self._missing(key, "is missing")
        try:
            result = Decimal(str(value))
        except InvalidOperation as exc:
            raise self._missing(key, "is not a number") from exc
        if not result.is_finite():
            raise self._missing(key, "is not a finite number")
        return result

    def opt_dec(self, key: str) -> Decimal | None:
        return self.dec(key) if self.has(key) else None

    def whole(self, key: str) -> int:
        value = self.dec(key)
        if value != value.to_integral_value():
            raise self._missing(key, "is not a whole number")
        return int(value)

    def ts(self, key: str) -> datetime:
        """ISO 8601 (VALR: `2025-07-17T08:53:00.620Z`) or epoch seconds (Peatio style)."""
        value = self.raw.get(key)
        if value is None or value == "":
            raise self._missing(key, "is missing")
        return parse_time(value, lambda why: self._missing(key, why))

    def opt_ts(self, key: str) -> datetime | None:
        return self.ts(key) if self.has(key) else None


def parse_time(value: Any, fail: Any) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value) / 1000 if value > 10**11 else float(value)
        return datetime.fromtimestamp(seconds, UTC)
    text = str(value)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise fail("is not a time") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def records(venue: str, raw: Any, what: str) -> list[Record]:
    if not isinstance(raw, list):
        raise bad_reply(venue, f"{what}: expected a list", raw)
    return [Record(venue, item, what) for item in raw]


def step_from_places(places: int) -> Decimal:
    """Decimal places → grid step: 8 → 0.00000001, 0 → 1."""
    return Decimal(1).scaleb(-places)


def fmt(value: Decimal) -> str:
    """A Decimal as the plain string venues expect (never exponent notation)."""
    text = f"{value:f}"
    return text
