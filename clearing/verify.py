"""Independent verifiers of signed heads, statements and receipts, written from the RFCs alone
(RFC 8032 Ed25519 via ``cryptography``, RFC 8785 canonical JSON, RFC 9162 §2.1.3.2 inclusion).
No Django imports and nothing from the close: they re-derive every hash themselves.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def rfc9162_verify(leaf: bytes, index: int, size: int, path: list[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2 with the leaf hash SHA-256(0x00 ‖ leaf). False unless the root and every
    path element are 32 bytes (SHA-256)."""
    if not 0 <= index < size:
        return False
    if len(root) != 32 or any(len(p) != 32 for p in path):
        return False
    fn, sn, r = index, size - 1, hashlib.sha256(b"\x00" + leaf).digest()
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    key = load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def signature_valid(data: bytes, signature: bytes, keys: list[Ed25519PublicKey]) -> bool:
    """True when ``signature`` (raw 64 bytes) is a valid Ed25519 signature of ``data`` by any key."""
    for key in keys:
        try:
            key.verify(signature, data)
            return True
        except InvalidSignature:
            continue
    return False


def verify_signed_document(data: bytes, signature: bytes, keys: list[Ed25519PublicKey]) -> list[str]:
    """Problems with a signed document (empty when valid): the bytes must be RFC 8785 canonical
    JSON and carry a valid signature."""
    problems = []
    try:
        doc = json.loads(data)
        if rfc8785.dumps(doc) != data:
            problems.append("the document is not in RFC 8785 canonical form")
    except (ValueError, UnicodeDecodeError):
        problems.append("the document is not JSON")
    if len(signature) != 64:
        problems.append("the signature is not 64 bytes")
    elif not signature_valid(data, signature, keys):
        problems.append("the signature does not verify")
    return problems


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError("not an object")
    return value


def verify_receipt(receipt: dict[str, Any], keys: list[Ed25519PublicKey]) -> list[str]:
    """Problems with a receipt (empty when valid): inclusion of the leaf under ``merkle_root``, the
    root and size matching the signed head, and the head's signature."""
    problems = []
    fields = (
        ("leaf", "a JSON string", lambda v: v.encode()),
        ("head", "a JSON object", _object),
        ("audit_path", "a list of hex SHA-256 hashes", lambda v: [bytes.fromhex(h) for h in v]),
        ("merkle_root", "a hex SHA-256 hash", bytes.fromhex),
        ("head_signature", "base64 of the 64-byte signature", lambda v: base64.b64decode(v, validate=True)),
        ("leaf_index", "an integer", int),
        ("tree_size", "an integer", int),
    )
    parsed: dict[str, Any] = {}
    for name, shape, parse in fields:
        if name not in receipt:
            return [f"malformed receipt: {name} is missing"]
        try:
            parsed[name] = parse(receipt[name])
        except (TypeError, ValueError, AttributeError):
            return [f"malformed receipt: {name} is not {shape}"]
    leaf, head, path, root = parsed["leaf"], parsed["head"], parsed["audit_path"], parsed["merkle_root"]
    signature, index, size = parsed["head_signature"], parsed["leaf_index"], parsed["tree_size"]
    if not rfc9162_verify(leaf, index, size, path, root):
        problems.append("the inclusion proof does not verify")
    if head.get("merkle_root") != receipt["merkle_root"] or head.get("tree_size") != size:
        problems.append("merkle_root or tree_size differ from the signed head")
    try:
        if json.loads(leaf).get("clr_date") != head.get("clr_date"):
            problems.append("the leaf's clr_date is not the head's")
    except ValueError:
        problems.append("the leaf is not JSON")
    if not signature_valid(rfc8785.dumps(head), signature, keys):
        problems.append("the head signature does not verify")
    return problems
