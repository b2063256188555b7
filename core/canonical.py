"""RFC 8785 canonical JSON (JCS) via the ``rfc8785`` library, and hashing helpers."""
from __future__ import annotations

import hashlib
from typing import Any

import rfc8785


def canonical_bytes(obj: Any) -> bytes:
    """RFC 8785 canonical UTF-8 bytes. Money must already be strings; no floats."""
    return rfc8785.dumps(obj)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
