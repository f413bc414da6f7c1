"""Typed domain errors.

Each error carries its own HTTP status and stable machine code, so one API handler can
render every failure the same way and the domain never imports the web framework.
"""

from __future__ import annotations

from typing import Any, Self


class DomainError(Exception):
    """`keep_writes` marks errors whose side records (a failed-login counter, a revoked
    token family) must be committed even though the request itself fails."""

    status: int = 400
    code: str = "bad_request"
    keep_writes: bool = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details
        self.headers = headers or {}

    def keeping_writes(self) -> Self:
        self.keep_writes = True
        return self

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class ValidationFailed(DomainError):
    status = 422
    code = "validation_error"


class InvalidNumber(ValidationFailed, ValueError):
    """A value that is not a finite number where one is needed. Also a `ValueError`, so
    parsers that catch that keep working, while one that lets it escape from a request
    still answers 422 with a stable code instead of a 500."""

    code = "invalid_number"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"

    def __init__(self, message: str = "Authentication failed", **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(message, **kw)


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, **kw: Any) -> None:
        kw.setdefault("headers", {"Retry-After": str(max(1, int(retry_after)))})
        kw.setdefault("details", {"retry_after": max(1, int(retry_after))})
        super().__init__(message, **kw)


class ConfigError(Exception):
    """Raised at start-up when the configuration is unsafe or incomplete."""
