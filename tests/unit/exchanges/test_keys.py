"""Offline key format checks per venue, and the warning for a key that can withdraw."""

from __future__ import annotations

import pytest
from tests.unit.exchanges.ccxt_harness import CREDENTIALS, attach, fixed_client, load

from amarktai.exchanges.client import KeyPermissions
from amarktai.exchanges.keys import (
    KeyCheck,
    check_key_format,
    check_key_online,
    withdraw_warning,
)
from amarktai.kit.errors import ValidationFailed


@pytest.mark.parametrize("venue", ["luno", "binance", "kucoin", "bybit"])
def test_keys_of_each_venues_shape_pass(venue: str) -> None:
    c = CREDENTIALS[venue]
    check_key_format(venue, c.api_key, c.api_secret, c.passphrase)


@pytest.mark.parametrize(
    ("venue", "key", "secret", "passphrase", "code"),
    [
        ("binance", "A" * 63, "S" * 64, None, "invalid_api_key_format"),  # truncated
        ("binance", "A" * 64, "S" * 63 + "!", None, "invalid_api_key_format"),
        (
            "kucoin",
            "0123456789abcdef0123456Z",
            "12345678-abcd-4ef0-8123-456789abcdef",
            "p",
            "invalid_api_key_format",
        ),
        (
            "kucoin",
            "0123456789abcdef01234567",
            "not-a-uuid-at-all-0000000000000000000",
            "p",
            "invalid_api_key_format",
        ),
        (
            "kucoin",
            "0123456789abcdef01234567",
            "12345678-abcd-4ef0-8123-456789abcdef",
            None,
            "passphrase_required",
        ),
        ("bybit", "BYBITKEY0123456789", "short", None, "invalid_api_key_format"),
        # a secret pasted into the key field
        (
            "bybit",
            "BYBITSECRET0123456789abcdefghijklmno",
            "BYBITSECRET0123456789abcdefghijklmno",
            None,
            "invalid_api_key_format",
        ),
        ("luno", "abc def12", "s" * 40, None, "invalid_api_key_format"),
        ("valr", "short", "s" * 64, None, "invalid_api_key_format"),  # generic rule
    ],
)
def test_malformed_keys_are_refused_with_a_stable_code(
    venue: str, key: str, secret: str, passphrase: str | None, code: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_key_format(venue, key, secret, passphrase)
    assert caught.value.code == code


def test_venues_without_rules_take_the_generic_check() -> None:
    check_key_format("ovex", "k" * 20, "s" * 40, None)


def test_a_key_that_can_withdraw_is_flagged() -> None:
    warning = withdraw_warning("binance", KeyPermissions(read=True, trade=True, withdraw=True))
    assert warning is not None and "WITHDRAW" in warning
    assert withdraw_warning("bybit", KeyPermissions(True, True, False)) is None
    assert withdraw_warning("luno", KeyPermissions(None, None, None)) is None  # unknown


async def test_online_check_flags_a_withdraw_key_from_the_venues_answer() -> None:
    client = fixed_client("binance")  # its recorded apiRestrictions allow withdrawals
    attach(client, load("binance", "key_permissions")["calls"])
    found = await check_key_online(client)
    assert found.permissions == KeyPermissions(read=True, trade=True, withdraw=True)
    assert found.warning is not None
    await client.close()


async def test_online_check_on_luno_is_unknown_and_sends_nothing() -> None:
    client = fixed_client("luno")
    attach(client, [])
    found = await check_key_online(client)
    assert found == KeyCheck(KeyPermissions(None, None, None), None)
    await client.close()
