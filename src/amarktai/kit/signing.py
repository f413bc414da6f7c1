"""The platform's Ed25519 signing key: what makes an exported document authentic.

A hash chain proves that entries were not changed *relative to a hash the reader trusts*;
a reader who sees only part of the chain (a bot's track record shows other users'
entries as bare hashes) cannot recompute the links around an edited entry, so the chain
alone cannot prove a file came from the platform unchanged. A signature over the whole
document can: only the holder of the private key makes one, and anyone holding the
published public key checks it, offline.

Keys travel as text: a private key is the standard base64 of its 32 raw bytes (what
``AMARKTAI_SIGNING_KEY`` and the secrets file hold); a public key is the base64 of its
32 raw bytes too, and is also read from PEM (``SubjectPublicKeyInfo``). A key's id is
the first 16 hex digits of the SHA-256 of its raw public bytes: short enough to read out
loud, long enough that no one finds a second key with the same id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALG = "ed25519"
_RAW = serialization.Encoding.Raw
_KEY_BYTES = 32


def generate_private_text() -> str:
    """A new private key as text (base64 of its 32 raw bytes)."""
    return private_text(Ed25519PrivateKey.generate())


def private_text(key: Ed25519PrivateKey) -> str:
    raw = key.private_bytes(_RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    return base64.b64encode(raw).decode()


def load_private(text: str) -> Ed25519PrivateKey:
    """A private key from its text; ValueError naming what is wrong (never the key)."""
    return Ed25519PrivateKey.from_private_bytes(_raw32(text, "private"))


def public_text(key: Ed25519PublicKey) -> str:
    return base64.b64encode(key.public_bytes(_RAW, serialization.PublicFormat.Raw)).decode()


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public(text: str) -> Ed25519PublicKey:
    """A public key from base64 of its raw bytes (an ``ed25519:`` prefix is allowed) or
    from PEM; ValueError when it is neither."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the PEM key is not an Ed25519 public key")
        return key
    if text.lower().startswith(f"{ALG}:"):
        text = text[len(ALG) + 1 :]
    return Ed25519PublicKey.from_public_bytes(_raw32(text, "public"))


def key_id(key: Ed25519PublicKey) -> str:
    """The key's short fingerprint (see the module docstring)."""
    raw = key.public_bytes(_RAW, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def sign(key: Ed25519PrivateKey, data: bytes) -> str:
    """The signature of `data`, base64."""
    return base64.b64encode(key.sign(data)).decode()


def verify(key: Ed25519PublicKey, data: bytes, signature: str) -> bool:
    """Whether `signature` (base64) is `key`'s signature of exactly `data`."""
    try:
        raw = base64.b64decode(signature, validate=True)
        key.verify(raw, data)
    except (InvalidSignature, binascii.Error, ValueError, TypeError):
        return False
    return True


def _raw32(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"the {what} key is not base64") from exc
    if len(raw) != _KEY_BYTES:
        raise ValueError(f"the {what} key must be {_KEY_BYTES} bytes, got {len(raw)}")
    return raw
