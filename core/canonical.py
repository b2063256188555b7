"""RFC 8785 canonical JSON (JCS) via the ``rfc8785`` library, and hashing helpers.

For the common documents (objects with ASCII keys, arrays, strings, safe integers, booleans and
null: every fingerprint, signed statement and leaf the house writes) the bytes are produced by the
standard library's C encoder instead: sorted ASCII keys are in UTF-16 order, and ``json.dumps``
with ``ensure_ascii=False`` escapes exactly what RFC 8785 §3.2.2.2 escapes (``"``, ``\\``, the
controls U+0000–U+001F, with ``\\b \\f \\n \\r \\t`` short forms and lowercase ``\\u00xx``), so the
bytes are identical (``tests/core/test_canonical.py`` compares both on generated documents).
Anything else (floats, non-ASCII keys, subclasses, huge integers, lone surrogates) goes through
``rfc8785`` as before.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

import rfc8785

_SAFE_INT = 2**53 - 1
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True,
                           check_circular=False, allow_nan=False).encode


def _plain(obj: Any) -> bool:
    t = type(obj)
    if t is str or obj is None or t is bool:
        return True
    if t is int:
        return -_SAFE_INT <= obj <= _SAFE_INT
    if t is dict:
        return all(type(k) is str and k.isascii() and _plain(v) for k, v in obj.items())
    if t is list or t is tuple:
        return all(_plain(v) for v in obj)
    return False


def canonical_bytes(obj: Any) -> bytes:
    """RFC 8785 canonical UTF-8 bytes. Money must already be strings; no floats."""
    if _plain(obj):
        try:
            return _ENCODE(obj).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: the library raises its own error
            pass
    return rfc8785.dumps(obj)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
