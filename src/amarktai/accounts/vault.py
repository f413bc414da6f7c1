"""Encryption at rest for API secrets and TOTP seeds (Fernet; rotatable via MultiFernet)."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from amarktai.kit.errors import DomainError


class DecryptionFailed(DomainError):
    status = 500
    code = "decryption_failed"


class Vault:
    """The first key encrypts; all keys decrypt, so old ciphertext stays readable mid-rotation."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is required")
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise DecryptionFailed(
                "stored secret cannot be decrypted with the configured keys"
            ) from exc

    def rotate(self, token: str) -> str:
        """Re-encrypt under the primary key."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken as exc:
            raise DecryptionFailed(
                "stored secret cannot be decrypted with the configured keys"
            ) from exc


def mask(secret: str) -> str:
    """A hint that identifies a key to its owner without revealing it."""
    if len(secret) <= 8:
        return "****"
    return f"{secret[:4]}…{secret[-4:]}"
