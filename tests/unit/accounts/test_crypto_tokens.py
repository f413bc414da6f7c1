from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from cryptography.fernet import Fernet
from hypothesis import given
from hypothesis import strategies as st

from amarktai.accounts import totp
from amarktai.accounts.passwords import Passwords
from amarktai.accounts.tokens import TokenCodec
from amarktai.accounts.vault import DecryptionFailed, Vault, mask
from amarktai.kit.errors import Unauthorized, ValidationFailed

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def test_vault_rotation_keeps_old_ciphertext_readable() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = Vault([old]).encrypt("s3cret")
    both = Vault([new, old])
    assert both.decrypt(token) == "s3cret"
    rotated = both.rotate(token)
    assert Vault([new]).decrypt(rotated) == "s3cret"
    with pytest.raises(DecryptionFailed):
        Vault([new]).decrypt(token)


def test_mask_never_reveals_short_keys() -> None:
    assert mask("abc") == "****"
    assert mask("ABCDEFGHIJ") == "ABCD…GHIJ"


def test_argon2id_hashes_verify_and_reject() -> None:
    pw = Passwords(time_cost=1, memory_kib=1024)
    h = pw.hash("a long passphrase")
    assert h.startswith("$argon2id$")
    assert pw.verify(h, "a long passphrase")
    assert not pw.verify(h, "a long passphrasE")
    assert not pw.verify(None, "a long passphrase")
    with pytest.raises(ValidationFailed):
        pw.hash("short")


def test_access_token_expiry_and_tamper() -> None:
    codec = TokenCodec("k" * 20 + "0123456789abcdef", 60)
    tok = codec.issue_access("u1", "s1", "trader", NOW)
    claims = codec.decode_access(tok, NOW + timedelta(seconds=59))
    assert (claims.user_id, claims.session_id, claims.role) == ("u1", "s1", "trader")
    with pytest.raises(Unauthorized):
        codec.decode_access(tok, NOW + timedelta(seconds=60))
    with pytest.raises(Unauthorized):
        TokenCodec("z" * 36, 60).decode_access(tok, NOW)


def test_totp_window_and_format() -> None:
    secret = totp.new_secret()
    code = pyotp.TOTP(secret).at(NOW)
    step = pyotp.TOTP(secret).timecode(NOW)
    assert totp.verify_code(secret, code, NOW) == step
    assert totp.verify_code(secret, code, NOW + timedelta(seconds=30)) == step  # one step drift
    assert totp.verify_code(secret, code, NOW - timedelta(seconds=30)) == step
    assert totp.verify_code(secret, code, NOW + timedelta(seconds=95)) is None
    assert totp.verify_code(secret, "abcdef", NOW) is None
    codes = totp.new_recovery_codes()
    assert len(set(codes)) == 10
    assert totp.hash_recovery_code(codes[0].upper()) == totp.hash_recovery_code(codes[0])


@given(offset=st.integers(min_value=-45, max_value=75), last=st.integers(min_value=-3, max_value=3))
def test_totp_code_only_for_a_step_after_the_last_accepted(offset: int, last: int) -> None:
    """RFC 6238 §5.2: a step at or before the last accepted one never passes again, inside
    the drift window or not."""
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    otp = pyotp.TOTP(secret)
    at = NOW + timedelta(seconds=offset)
    step = otp.timecode(NOW)
    after = step + last
    got = totp.verify_code(secret, otp.at(NOW), at, after=after)
    in_window = abs(otp.timecode(at) - step) <= 1
    assert got == (step if in_window and step > after else None)
