"""``cardholder.verify`` (the page's RFC 9162 verifier) against trees built here from the RFC's
recursive definitions of MTH and PATH (§2.1.1, §2.1.3.1)."""
from __future__ import annotations

import base64
import hashlib

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from cardholder.verify import root_from_inclusion_path, verify_receipt


def _leaf(b: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + b).digest()


def _node(a: bytes, b: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + a + b).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: list[bytes]) -> bytes:
    if len(d) == 1:
        return _leaf(d[0])
    k = _k(len(d))
    return _node(mth(d[:k]), mth(d[k:]))


def path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


@given(st.integers(min_value=1, max_value=70), st.data())
def test_accepts_every_valid_proof_and_rejects_neighbours(n, data):
    leaves = [f"leaf-{i}".encode() for i in range(n)]
    m = data.draw(st.integers(min_value=0, max_value=n - 1))
    root = mth(leaves)
    p = path(m, leaves)
    assert root_from_inclusion_path(leaves[m], m, n, p) == root
    assert root_from_inclusion_path(leaves[m] + b"x", m, n, p) != root
    if n > 1:
        other = (m + 1) % n
        assert root_from_inclusion_path(leaves[m], other, n, p) != root
        assert root_from_inclusion_path(leaves[m], m, n, p[:-1]) != root
    assert root_from_inclusion_path(leaves[m], m, n, p + [root]) is None
    assert root_from_inclusion_path(leaves[m], n, n, p) is None


def _receipt(leaves: list[bytes], m: int, key: Ed25519PrivateKey) -> dict:
    root = mth(leaves).hex()
    head = {"clr_date": "2026-11-27", "tree_size": len(leaves), "merkle_root": root, "item_cnt": len(leaves)}
    return {"leaf": leaves[m].decode(), "leaf_index": m, "tree_size": len(leaves),
            "audit_path": [h.hex() for h in path(m, leaves)], "merkle_root": root, "head": head,
            "head_signature": base64.b64encode(key.sign(rfc8785.dumps(head))).decode(), "key_id": "k1"}


def test_receipt_steps():
    key = Ed25519PrivateKey.generate()
    leaves = [rfc8785.dumps({"clr_amt": f"{i}.00", "setl_id": f"S{i:03d}"}) for i in range(5)]
    good = _receipt(leaves, 3, key)
    check = verify_receipt(good, key.public_key(), {"setl_id": "S003", "clr_amt": "3.00"})
    assert check.ok and check.steps == {"inclusion": True, "head_matches": True, "signature": True,
                                        "record_matches": True}
    assert not verify_receipt(good, key.public_key(), {"clr_amt": "3.01"}).ok
    assert not verify_receipt(good, Ed25519PrivateKey.generate().public_key()).ok
    forged_head = {**good, "head": {**good["head"], "item_cnt": 99}}
    assert verify_receipt(forged_head, key.public_key()).steps["signature"] is False
    other_root = {**good, "merkle_root": "00" * 32}
    assert verify_receipt(other_root, key.public_key()).steps["head_matches"] is False
    malformed = verify_receipt({**good, "audit_path": ["zz"]}, key.public_key())
    assert not malformed.ok and malformed.reason.startswith("malformed")
