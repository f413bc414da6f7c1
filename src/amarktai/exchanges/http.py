"""The one HTTP path every hand-written venue connector (VALR, OVEX) sends through.

It owns what must be the same for every venue so no connector can forget it: the
venue's shared request budget is taken *before* anything leaves us, a timeout becomes
`VenueTimeout` (the venue may still have acted on it), a refused or dropped connection
becomes `VenueUnavailable`, a 2xx reply that is not JSON becomes `BadVenueReply` with the
venue's own text, and every non-2xx reply goes to the venue's mapper, which turns the
venue's status and words into one of our typed errors. The `httpx.AsyncClient` is
injected, so tests swap only the network (`httpx.MockTransport`), never this code.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from amarktai.exchanges.budget import RequestBudget
from amarktai.exchanges.errors import (
    BadVenueReply,
    ExchangeAuthError,
    ExchangeError,
    VenueRateLimited,
    VenueTimeout,
    VenueUnavailable,
)

# How much of a venue's reply we keep in an error: enough to read, never a whole page.
VENUE_TEXT_LIMIT = 500


@dataclass(frozen=True, slots=True)
class VenueReply:
    """A non-2xx reply handed to a venue's error mapper."""

    status: int
    text: str
    body: Any  # the parsed JSON, or None when the reply was not JSON
    headers: Mapping[str, str]
    method: str
    path: str


ErrorMapper = Callable[[VenueReply], ExchangeError]


def retry_after_s(headers: Mapping[str, str]) -> float | None:
    """A `Retry-After` in seconds, when the venue sent one we can read."""
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if value > 0 else None


def default_error(venue: str, reply: VenueReply, message: str | None) -> ExchangeError:
    """The status-only mapping used when a venue's words did not decide the type."""
    if reply.status in (401, 403):
        return ExchangeAuthError(
            "the venue refused the API key", venue=venue, venue_message=message
        )
    if reply.status == 429:
        return VenueRateLimited(
            "the venue is throttling us",
            venue=venue,
            venue_message=message,
            retry_after_s=retry_after_s(reply.headers),
        )
    if reply.status >= 500:
        return VenueUnavailable(
            f"the venue answered HTTP {reply.status}", venue=venue, venue_message=message
        )
    return ExchangeError(
        f"the venue refused the request (HTTP {reply.status})", venue=venue, venue_message=message
    )


@dataclass
class VenueHttp:
    """Send one request to a venue: budget first, then the network, then the mapping."""

    venue: str
    base_url: str
    client: httpx.AsyncClient
    budgets: Sequence[RequestBudget]
    map_error: ErrorMapper
    timeout_s: float = 10.0
    default_headers: Mapping[str, str] = field(default_factory=dict)

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: str | None = None,
        headers: Mapping[str, str] | None = None,
        extra_budgets: Sequence[RequestBudget] = (),
    ) -> Any:
        """`path` starts with `/`; `query` keeps its order (a venue may sign it as sent);
        `body` is already serialised because some venues sign its exact bytes."""
        for budget in (*self.budgets, *extra_budgets):
            await budget.acquire()
        url = self.base_url + path
        send_headers = {**self.default_headers, **(headers or {})}
        try:
            response = await self.client.request(
                method,
                url,
                params=list(query) or None,
                content=body.encode() if body is not None else None,
                headers=send_headers,
                timeout=self.timeout_s,
            )
        except httpx.TimeoutException as exc:
            raise VenueTimeout(
                f"no answer to {method} {path} within {self.timeout_s:g} s",
                venue=self.venue,
                venue_message=str(exc) or type(exc).__name__,
            ) from exc
        except httpx.TransportError as exc:
            raise VenueUnavailable(
                f"could not reach the venue for {method} {path}",
                venue=self.venue,
                venue_message=str(exc) or type(exc).__name__,
            ) from exc
        text = response.text
        parsed: Any = None
        parse_failed = False
        if text.strip():
            try:
                parsed = json.loads(text)
            except ValueError:
                parse_failed = True
        if 200 <= response.status_code < 300:
            if parse_failed:
                raise BadVenueReply(
                    f"{method} {path} answered with something that is not JSON",
                    venue=self.venue,
                    venue_message=text[:VENUE_TEXT_LIMIT],
                )
            return parsed
        raise self.map_error(
            VenueReply(
                status=response.status_code,
                text=text[:VENUE_TEXT_LIMIT],
                body=parsed,
                headers=response.headers,
                method=method,
                path=path,
            )
        )


def bad_reply(venue: str, what: str, payload: Any) -> BadVenueReply:
    """A reply whose shape we cannot book from, keeping (a bounded copy of) the venue's text."""
    try:
        text = json.dumps(payload, default=str)
    except (TypeError, ValueError):
        text = repr(payload)
    return BadVenueReply(what, venue=venue, venue_message=text[:VENUE_TEXT_LIMIT])
