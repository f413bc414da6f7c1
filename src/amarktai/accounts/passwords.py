"""argon2id password hashing; cost is tunable so tests stay fast."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from amarktai.kit.errors import ValidationFailed

MIN_PASSWORD_LEN = 10


class Passwords:
    def __init__(self, time_cost: int = 3, memory_kib: int = 65536) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=1, type=Type.ID
        )
        # A hash of a random string, verified against when the user does not exist so
        # that a login for an unknown e-mail costs the same time as a wrong password.
        self._dummy = self._hasher.hash("dummy-password-for-timing")

    def hash(self, password: str) -> str:
        check_strength(password)
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash or self._dummy, password) and bool(stored_hash)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)


def check_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LEN:
        raise ValidationFailed(
            f"password must be at least {MIN_PASSWORD_LEN} characters", code="weak_password"
        )
    if len(set(password)) < 5:
        raise ValidationFailed("password is too repetitive", code="weak_password")
