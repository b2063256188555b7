"""Personal data at rest and signing keys (spec/security.md, spec/clearing.md §Signed cycle head).

- :func:`encrypt` / :func:`decrypt`: AES-256-GCM (``cryptography``) with the key id stored beside
  the value: the stored text is ``"<kid>:<base64(nonce ‖ ciphertext ‖ tag)>"``. The key id is also
  bound as associated data, so a value cannot be moved to another key id.
- :func:`blind_index`: HMAC-SHA256 with a separate key, hex; used for lookups by ``certno`` /
  ``card_no`` and for request fingerprints.
- :func:`signing_keys` / :func:`current_signing_key`: Ed25519 keys for cycle heads and statements.

Keys come from settings (environment or the local key file), never from code or ``SECRET_KEY``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import overload

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings


class KeyError_(Exception):
    """A value names a key id that is not configured."""


def _parse_keyring(spec: str) -> list[tuple[str, bytes]]:
    ring = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        kid, _, b64 = part.partition(":")
        key = base64.b64decode(b64)
        ring.append((kid, key))
    if not ring:
        raise ValueError("empty keyring")
    return ring


@lru_cache(maxsize=8)
def _aes_ring(spec: str) -> tuple[str, dict[str, AESGCM]]:
    ring = _parse_keyring(spec)
    for kid, key in ring:
        if len(key) != 32:
            raise ValueError(f"encryption key {kid} must be 32 bytes (AES-256)")
    return ring[-1][0], {kid: AESGCM(key) for kid, key in ring}


def encryption_key_ids() -> list[str]:
    """Configured encryption key ids, oldest first; the last one encrypts."""
    return [kid for kid, _ in _parse_keyring(settings.SETTLEMENT_ENCRYPTION_KEYS)]


def current_key_id() -> str:
    return _aes_ring(settings.SETTLEMENT_ENCRYPTION_KEYS)[0]


@overload
def encrypt(plaintext: str) -> str: ...
@overload
def encrypt(plaintext: None) -> None: ...
def encrypt(plaintext: str | None) -> str | None:
    """Encrypt under the newest key. ``None`` stays ``None``."""
    if plaintext is None:
        return None
    kid, ring = _aes_ring(settings.SETTLEMENT_ENCRYPTION_KEYS)
    nonce = os.urandom(12)
    ct = ring[kid].encrypt(nonce, plaintext.encode(), kid.encode())
    return f"{kid}:{base64.b64encode(nonce + ct).decode()}"


def key_id_of(stored: str | None) -> str | None:
    return None if stored is None else stored.partition(":")[0]


@overload
def decrypt(stored: str) -> str: ...
@overload
def decrypt(stored: None) -> None: ...
def decrypt(stored: str | None) -> str | None:
    """Decrypt a stored value; raises :class:`KeyError_` when its key id is not configured."""
    if stored is None:
        return None
    kid, _, b64 = stored.partition(":")
    _, ring = _aes_ring(settings.SETTLEMENT_ENCRYPTION_KEYS)
    if kid not in ring:
        raise KeyError_(f"encryption key {kid!r} is not configured")
    raw = base64.b64decode(b64)
    return ring[kid].decrypt(raw[:12], raw[12:], kid.encode()).decode()


def blind_index(value: str, *, purpose: str = "") -> str:
    """HMAC-SHA256(blind-index key, purpose ‖ 0x00 ‖ value) as hex (64 chars)."""
    key = base64.b64decode(settings.SETTLEMENT_BLIND_INDEX_KEY)
    msg = (purpose + "\x00" + value).encode() if purpose else value.encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    def public_pem(self) -> str:
        return self.public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def sign(self, data: bytes) -> bytes:
        """Raw 64-byte Ed25519 signature over ``data``."""
        return self.private.sign(data)


@lru_cache(maxsize=8)
def _signing_ring(spec: str) -> tuple[SigningKey, ...]:
    keys = []
    for kid, seed in _parse_keyring(spec):
        if len(seed) != 32:
            raise ValueError(f"signing key {kid} must be a 32-byte Ed25519 seed")
        keys.append(SigningKey(kid, Ed25519PrivateKey.from_private_bytes(seed)))
    return tuple(keys)


def signing_keys() -> tuple[SigningKey, ...]:
    """All configured signing keys, oldest first (all are published)."""
    return _signing_ring(settings.CLEARING_SIGNING_KEY)


def current_signing_key() -> SigningKey:
    return signing_keys()[-1]


def signing_key(key_id: str) -> SigningKey:
    for k in signing_keys():
        if k.key_id == key_id:
            return k
    raise KeyError_(f"signing key {key_id!r} is not configured")
