"""API key checks: offline format rules per venue, and the warning for a key that can
withdraw.

The format rules catch a pasted secret in the key field, a truncated copy or a key from
another venue *before* anything is stored or sent, with a message naming the venue's
shape. They are deliberately no stricter than what each venue documents for the HMAC keys
this platform signs with: a rule that refused a real key would be worse than none.
VALR and OVEX keep the generic rule here until their connectors land. The accounts
service still runs its own generic check; wiring this one and `check_key_online` (the
venue's own answer on read/trade/withdraw, with the warning) into the API is a later
change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from amarktai.exchanges.client import ExchangeClient, KeyPermissions
from amarktai.kit.errors import ValidationFailed


@dataclass(frozen=True, slots=True)
class KeyFormat:
    key: re.Pattern[str]
    secret: re.Pattern[str]
    key_shape: str
    secret_shape: str
    needs_passphrase: bool = False


_GENERIC = re.compile(r"\S{8,256}")
KEY_FORMATS: dict[str, KeyFormat] = {
    # Binance HMAC keys: 64 letters and digits each
    "binance": KeyFormat(
        re.compile(r"[A-Za-z0-9]{64}"),
        re.compile(r"[A-Za-z0-9]{64}"),
        "64 letters and digits",
        "64 letters and digits",
    ),
    # KuCoin: a 24-hex-digit key id, a UUID secret, and the passphrase chosen at creation
    "kucoin": KeyFormat(
        re.compile(r"[0-9a-f]{24}"),
        re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
        "24 hexadecimal digits",
        "a UUID (8-4-4-4-12 hexadecimal digits)",
        needs_passphrase=True,
    ),
    # Bybit system-generated (HMAC) keys: an 18-character key, a 36-character secret
    "bybit": KeyFormat(
        re.compile(r"[A-Za-z0-9]{18}"),
        re.compile(r"[A-Za-z0-9]{36}"),
        "18 letters and digits",
        "36 letters and digits",
    ),
    # Luno: a short key id and a URL-safe base64 secret; lengths kept loose on purpose
    "luno": KeyFormat(
        re.compile(r"[A-Za-z0-9]{8,32}"),
        re.compile(r"[A-Za-z0-9_-]{32,64}"),
        "8-32 letters and digits",
        "32-64 letters, digits, '-' or '_'",
    ),
}


def check_key_format(venue: str, api_key: str, api_secret: str, passphrase: str | None) -> None:
    """Raise `ValidationFailed` (code `invalid_api_key_format` or `passphrase_required`)
    when a key cannot be one the venue issues; never contacts the venue."""
    fmt = KEY_FORMATS.get(venue)
    if fmt is None:
        for name, value in (("api_key", api_key), ("api_secret", api_secret)):
            if not _GENERIC.fullmatch(value):
                raise ValidationFailed(
                    f"{name} must be 8-256 characters without spaces",
                    code="invalid_api_key_format",
                )
        return
    if not fmt.key.fullmatch(api_key):
        raise ValidationFailed(
            f"a {venue} API key is {fmt.key_shape}", code="invalid_api_key_format"
        )
    if not fmt.secret.fullmatch(api_secret):
        raise ValidationFailed(
            f"a {venue} API secret is {fmt.secret_shape}", code="invalid_api_key_format"
        )
    if fmt.needs_passphrase and not passphrase:
        raise ValidationFailed(f"{venue} keys need a passphrase", code="passphrase_required")


def withdraw_warning(venue: str, permissions: KeyPermissions) -> str | None:
    """The warning to show when a key can move funds off the venue: a trading bot never
    needs that, and a leaked key that can withdraw empties the account. `None` when the
    key cannot withdraw or the venue does not say (Luno)."""
    if permissions.withdraw:
        return (
            f"This {venue} key can WITHDRAW funds. Trading bots never need that permission: "
            "create a key with read and trade access only, and delete this one."
        )
    return None


@dataclass(frozen=True, slots=True)
class KeyCheck:
    """The online answer for a key: what it may do (None where the venue does not say)
    and the warning to show, if any."""

    permissions: KeyPermissions
    warning: str | None


async def check_key_online(client: ExchangeClient) -> KeyCheck:
    """Ask the venue what the client's key may do (one read; a refused key raises
    `ExchangeAuthError`) and flag one that can withdraw."""
    permissions = await client.key_permissions()
    return KeyCheck(permissions, withdraw_warning(client.venue, permissions))
