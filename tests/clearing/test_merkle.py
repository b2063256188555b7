"""Merkle roots and inclusion proofs against an independent RFC 9162 computation (§2.1.1 MTH by
recursion, §2.1.3.1 PATH by recursion) and the verifier of §2.1.3.2."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

import pytest

from clearing import merkle
from clearing.leaf import leaf_bytes
from clearing.selectors import item_inclusion_proof
from clearing.services.close import cycle_close
from clearing.services.cycles import open_cycle_date
from clearing.verify import rfc9162_verify
from core.errors import DomainError
from tests.clearing.helpers import record


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1, literally: leaves are the entries' bytes."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1 << ((n - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n])."""
    n = len(leaves)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 8, 1000])
def test_root_and_every_proof_match_rfc9162(n):
    leaves = [f"leaf-{i}".encode() for i in range(n)]
    hashes = [merkle.hash_leaf(x) for x in leaves]
    root = mth(leaves)
    assert merkle.root_of(iter(hashes)) == root
    step = 1 if n <= 8 else 37
    for m in range(0, n, step):
        proof = merkle.inclusion_proof(iter(hashes), m, n)
        assert proof == path(m, leaves)
        assert rfc9162_verify(leaves[m], m, n, proof, root)
        assert merkle.verify_inclusion(hashes[m], m, n, proof, root)
        assert not rfc9162_verify(leaves[m] + b" ", m, n, proof, root)


def test_empty_tree_root_is_sha256_of_nothing():
    assert merkle.root_of([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_streaming_root_memory_is_logarithmic():
    acc = merkle.StreamingRoot()
    for i in range(100_000):
        acc.add(i.to_bytes(32, "big"))
        assert len(acc._stack) <= 17


@pytest.mark.django_db
@pytest.mark.parametrize("n", [0, 1, 3, 5, 8])
def test_closed_cycle_root_and_receipts(n):
    items = [record("340000", "310000", f"{i + 1}.25", "H31010400001") for i in range(n)]
    day = open_cycle_date()
    if items:
        with pytest.raises(DomainError) as exc:
            item_inclusion_proof(items[0].setl_id)
        assert exc.value.code == "not_yet_cleared"
    cycle = cycle_close(clr_date=day, actor="test")
    ordered = sorted(items, key=lambda i: i.setl_id.encode())
    leaves = [
        leaf_bytes(
            setl_id=i.setl_id,
            kind=i.kind,
            payer=i.payer,
            payee=i.payee,
            clr_amt=i.clr_amt,
            fixmedins_code=i.fixmedins_code,
            clr_date=day,
        )
        for i in ordered
    ]
    head = json.loads(bytes(cycle.head.canonical))
    assert head["merkle_root"] == mth(leaves).hex() and head["tree_size"] == n
    for idx, item in enumerate(ordered):
        r = item_inclusion_proof(item.setl_id)
        assert r["leaf_index"] == idx and r["leaf"].encode() == leaves[idx]
        assert rfc9162_verify(
            r["leaf"].encode(),
            idx,
            n,
            [bytes.fromhex(h) for h in r["audit_path"]],
            bytes.fromhex(r["merkle_root"]),
        )
        changed = json.loads(r["leaf"])
        changed["clr_amt"] = str(Decimal(changed["clr_amt"]) + Decimal("0.01"))
        forged = json.dumps(changed, separators=(",", ":"), sort_keys=True).encode()
        assert not rfc9162_verify(
            forged, idx, n, [bytes.fromhex(h) for h in r["audit_path"]], bytes.fromhex(r["merkle_root"])
        )
