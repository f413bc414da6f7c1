"""One venue's instruments and the mapping between our symbols (`BTC/ZAR`) and its market
ids (`BTCZAR`, `btczar`), shared by our own connectors: each loads the venue's list once
and asks this book, so a symbol the venue does not list fails the same way everywhere."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from amarktai.exchanges.errors import UnknownSymbol
from amarktai.exchanges.http import bad_reply
from amarktai.markets.types import Instrument


class SymbolBook:
    def __init__(self, venue: str, label: str, spell: Callable[[Instrument], str]) -> None:
        """``spell`` writes a venue id for an instrument the venue's list did not name."""
        self.venue = venue
        self.label = label
        self._spell = spell
        self._instruments: dict[str, Instrument] | None = None
        self._ids: dict[str, str] = {}

    @property
    def loaded(self) -> bool:
        return self._instruments is not None

    def remember(
        self, instruments: Sequence[Instrument], ids: Mapping[str, str] | None = None
    ) -> None:
        given = ids or {}
        self._instruments = {i.symbol: i for i in instruments}
        self._ids = {i.symbol: given.get(i.symbol, self._spell(i)) for i in instruments}

    def instrument(self, symbol: str) -> Instrument:
        """The venue's rules for ``symbol``; `UnknownSymbol` naming it when not listed
        (the book must be loaded)."""
        assert self._instruments is not None, "load the venue's instruments first"
        found = self._instruments.get(symbol)
        if found is None:
            raise UnknownSymbol(
                f"{self.label} does not list {symbol!r}",
                venue=self.venue,
                details={"symbol": symbol},
            )
        return found

    def venue_id(self, symbol: str) -> str:
        self.instrument(symbol)
        return self._ids[symbol]

    def symbol_of(self, venue_id: str, what: str, raw: Any) -> str:
        """Our symbol for a venue id in a reply; a reply naming a market the venue never
        listed is not parsed into anything."""
        for ours, theirs in self._ids.items():
            if theirs == venue_id:
                return ours
        raise bad_reply(self.venue, f"{what}: market {venue_id!r} is not among {self.label}'s", raw)
