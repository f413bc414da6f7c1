"""RFC 6238 TOTP enrolment and checks, QR images and one-time recovery codes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import secrets
from datetime import datetime

import pyotp
import segno

ISSUER = "Amarktai Network"
RECOVERY_CODES = 10


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_png_base64(uri: str) -> str:
    buf = io.BytesIO()
    segno.make(uri, error="m").save(buf, kind="png", scale=5, border=2)
    return base64.b64encode(buf.getvalue()).decode()


def verify_code(secret: str, code: str, at: datetime, *, after: int | None = None) -> int | None:
    """The time step `code` is the code of, or None: the step at `at` or one either side
    (clock drift), and only a step later than `after`, the last one accepted for this
    secret. The caller records the step it accepts (conditionally: see
    `AccountsRepository.accept_totp_step`), so that a code, or an older one, never
    passes twice (RFC 6238 §5.2); that is why this answers the step, not a yes."""
    code = code.strip().replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return None
    otp = pyotp.TOTP(secret)
    current = otp.timecode(at)
    for step in (current - 1, current, current + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(otp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes(count: int = RECOVERY_CODES) -> list[str]:
    return [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(count)]


def hash_recovery_code(code: str) -> str:
    return hashlib.sha256(code.strip().lower().encode()).hexdigest()
