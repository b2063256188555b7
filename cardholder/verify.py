"""Receipt verifier, written from RFC 9162 §2.1 and RFC 8032 alone (no Django, no clearing code), so
the page checks the clearing house's proof independently of the code that produced it.

A receipt (spec/clearing.md §Receipts) is ``{"leaf", "leaf_index", "tree_size", "audit_path",
"merkle_root", "head", "head_signature", "key_id"}``. :func:`verify_receipt` accepts it only when

1. the leaf (canonical JSON text) hashes, with its audit path, to ``merkle_root`` (RFC 9162 §2.1.3.2);
2. ``merkle_root`` and ``tree_size`` are the ones in the signed head;
3. the Ed25519 signature verifies over the head's RFC 8785 canonical bytes;
4. the leaf names the expected record (``setl_id``, ``clr_amt``, … when given).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 §2.1.1: SHA-256(0x00 ‖ leaf)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: SHA-256(0x01 ‖ left ‖ right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion_path(leaf: bytes, index: int, size: int, path: list[bytes]) -> bytes | None:
    """RFC 9162 §2.1.3.2 steps 1–6: the root the path leads to, or ``None`` when the path cannot
    belong to leaf ``index`` of a tree of ``size`` leaves (wrong length or index, or a path element
    that is not a 32-byte SHA-256 hash)."""
    if not 0 <= index < size or any(len(p) != 32 for p in path):
        return None
    fn, sn, r = index, size - 1, leaf_hash(leaf)
    for p in path:
        if sn == 0:
            return None
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            if fn % 2 == 0:  # right-shift until fn's lowest bit is set or fn is 0
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


@dataclass
class ReceiptCheck:
    """Outcome of :func:`verify_receipt`: ``ok`` only when every step passed; ``steps`` maps each
    step (``inclusion``, ``head_matches``, ``signature``, ``record_matches``) to True/False;
    ``reason`` names the first failure; ``leaf`` is the parsed leaf document (or ``None``)."""

    ok: bool = False
    steps: dict[str, bool] = field(default_factory=dict)
    reason: str = ""
    leaf: dict[str, Any] | None = None


def _fail(check: ReceiptCheck, step: str, reason: str) -> ReceiptCheck:
    check.steps[step] = False
    check.reason = check.reason or reason
    return check


def verify_receipt(receipt: dict[str, Any], public_key: Ed25519PublicKey,
                   expected: dict[str, str] | None = None) -> ReceiptCheck:
    """Check a receipt against the clearing house's public key and, optionally, the record it should
    prove (``expected``: leaf fields such as ``setl_id`` and ``clr_amt``, compared as strings)."""
    check = ReceiptCheck()
    try:
        leaf_text = receipt["leaf"]
        leaf_bytes = leaf_text.encode("utf-8")
        check.leaf = json.loads(leaf_text, parse_float=Decimal)  # amounts are strings; never float
        path = [bytes.fromhex(h) for h in receipt["audit_path"]]
        root = bytes.fromhex(receipt["merkle_root"])
        index, size = int(receipt["leaf_index"]), int(receipt["tree_size"])
        head = receipt["head"]
        signature = base64.b64decode(receipt["head_signature"], validate=True)
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        return _fail(check, "inclusion", f"malformed receipt: {exc}")

    computed = root_from_inclusion_path(leaf_bytes, index, size, path)
    check.steps["inclusion"] = computed is not None and len(root) == 32 and computed == root
    if not check.steps["inclusion"]:
        _fail(check, "inclusion", "the audit path does not lead from this leaf to the Merkle root")

    head_ok = (isinstance(head, dict) and str(head.get("merkle_root", "")).lower() == root.hex()
               and head.get("tree_size") == size)
    check.steps["head_matches"] = head_ok
    if not head_ok:
        _fail(check, "head_matches", "the signed head names another root or tree size")

    try:
        public_key.verify(signature, rfc8785.dumps(head))
        check.steps["signature"] = True
    except (InvalidSignature, TypeError, ValueError, rfc8785.CanonicalizationError):
        _fail(check, "signature", "the head's Ed25519 signature does not verify")

    if expected:
        matches = isinstance(check.leaf, dict) and all(
            str(check.leaf.get(k)) == str(v) for k, v in expected.items())
        check.steps["record_matches"] = matches
        if not matches:
            _fail(check, "record_matches", "the leaf does not describe this record")
    check.ok = all(check.steps.values())
    return check
