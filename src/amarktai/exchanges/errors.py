"""Typed venue errors: every connector maps its venue's replies onto these, so callers
(the order manager, the API, the key check) decide by type, never by parsing a venue's
text. Each keeps the venue's own words in `venue_message` for the person reading it.

Status codes are those *our* API answers when the error reaches a request: a venue that
refuses a key is the caller's problem to fix (422), not our authentication (401).
"""

from __future__ import annotations

from typing import Any

from amarktai.kit.errors import DomainError


class ExchangeError(DomainError):
    status = 502
    code = "exchange_error"
    retryable = False  # a read may be retried after it; see `retry.py`

    def __init__(
        self,
        message: str,
        *,
        venue: str,
        venue_message: str | None = None,
        code: str | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        body = {"venue": venue, "venue_message": venue_message}
        if isinstance(details, dict):
            body.update(details)
        super().__init__(f"{venue}: {message}", code=code, details=body, headers=headers)
        self.venue = venue
        self.venue_message = venue_message


class ExchangeAuthError(ExchangeError):
    """The key is wrong, expired, lacks a permission, or the signature was refused."""

    status = 422
    code = "exchange_auth_failed"


class InsufficientFunds(ExchangeError):
    status = 409
    code = "exchange_insufficient_funds"


class InvalidOrder(ExchangeError):
    """The venue refused the order's shape (precision, minimum, price band, post-only)."""

    status = 422
    code = "exchange_invalid_order"


class OrderNotFound(ExchangeError):
    status = 404
    code = "exchange_order_not_found"


class UnknownSymbol(ExchangeError):
    status = 404
    code = "exchange_unknown_symbol"


class VenueRateLimited(ExchangeError):
    """The venue throttled us (HTTP 429/418 or its own code); `retry_after_s` if given."""

    status = 429
    code = "exchange_rate_limited"
    retryable = True

    def __init__(self, message: str, *, retry_after_s: float | None = None, **kw: Any) -> None:
        headers = {"Retry-After": str(max(1, round(retry_after_s)))} if retry_after_s else None
        super().__init__(message, headers=headers, **kw)
        self.retry_after_s = retry_after_s


class NonceError(ExchangeError):
    """The venue refused our nonce or timestamp (clock skew, reused nonce)."""

    code = "exchange_nonce"
    retryable = True


class VenueUnavailable(ExchangeError):
    """5xx, maintenance, connection refused or reset."""

    status = 503
    code = "exchange_unavailable"
    retryable = True


class VenueTimeout(ExchangeError):
    """No answer in time. For an order this does NOT mean it was not placed: look it up
    by its client order id before anything else (`retry.py`)."""

    status = 504
    code = "exchange_timeout"
    retryable = True


class BadVenueReply(ExchangeError):
    """A reply we cannot parse: nothing is booked from it."""

    code = "exchange_bad_reply"
