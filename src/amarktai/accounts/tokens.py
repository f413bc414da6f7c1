"""Access tokens (short-lived HS256 JWT) and opaque refresh tokens (only their hash is stored)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from amarktai.kit.errors import Unauthorized

ALGORITHM = "HS256"
ISSUER = "amarktai"


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    session_id: str
    role: str
    expires_at: datetime


class TokenCodec:
    def __init__(self, secret_key: str, access_ttl_s: int) -> None:
        self._key = secret_key
        self.access_ttl = timedelta(seconds=access_ttl_s)

    def issue_access(self, user_id: str, session_id: str, role: str, now: datetime) -> str:
        payload = {
            "sub": user_id,
            "sid": session_id,
            "role": role,
            "iat": int(now.timestamp()),
            "exp": int((now + self.access_ttl).timestamp()),
            "iss": ISSUER,
            "typ": "access",
        }
        return jwt.encode(payload, self._key, algorithm=ALGORITHM)

    def decode_access(self, token: str, now: datetime) -> AccessClaims:
        """Any failure is the same 401: the caller must not learn which part was wrong."""
        try:
            data = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "sub", "sid", "iat"], "verify_exp": False},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized() from exc
        if data.get("typ") != "access" or int(data["exp"]) <= int(now.timestamp()):
            raise Unauthorized()
        return AccessClaims(
            user_id=str(data["sub"]),
            session_id=str(data["sid"]),
            role=str(data.get("role", "viewer")),
            expires_at=datetime.fromtimestamp(int(data["exp"]), tz=now.tzinfo),
        )


def new_refresh_token() -> str:
    return secrets.token_urlsafe(40)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
