"""The independent verifiers refuse malformed or altered inputs."""

from __future__ import annotations

import base64

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clearing import merkle
from clearing.verify import rfc9162_verify, verify_receipt, verify_signed_document


def test_signed_document_checks():
    key = Ed25519PrivateKey.generate()
    data = rfc8785.dumps({"b": "1.00", "a": 1})
    assert verify_signed_document(data, key.sign(data), [key.public_key()]) == []
    assert verify_signed_document(b'{"b":"1.00", "a":1}', key.sign(data), [key.public_key()]) == [
        "the document is not in RFC 8785 canonical form",
        "the signature does not verify",
    ]
    assert verify_signed_document(b"not json", b"x", [key.public_key()]) == [
        "the document is not JSON",
        "the signature is not 64 bytes",
    ]
    other = Ed25519PrivateKey.generate()
    assert verify_signed_document(data, other.sign(data), [key.public_key()]) == [
        "the signature does not verify"
    ]
    assert verify_signed_document(data, other.sign(data), [key.public_key(), other.public_key()]) == []


def test_receipt_checks():
    key = Ed25519PrivateKey.generate()
    leaves = [rfc8785.dumps({"clr_date": "2026-11-29", "n": i}) for i in range(3)]
    root = merkle.root_of(merkle.hash_leaf(x) for x in leaves)
    head = {"clr_date": "2026-11-29", "merkle_root": root.hex(), "tree_size": 3}
    proof = merkle.inclusion_proof((merkle.hash_leaf(x) for x in leaves), 2, 3)
    receipt = {
        "leaf": leaves[2].decode(),
        "leaf_index": 2,
        "tree_size": 3,
        "audit_path": [p.hex() for p in proof],
        "merkle_root": root.hex(),
        "head": head,
        "head_signature": base64.b64encode(key.sign(rfc8785.dumps(head))).decode(),
    }
    assert verify_receipt(receipt, [key.public_key()]) == []
    assert verify_receipt({**receipt, "leaf_index": 1}, [key.public_key()]) == [
        "the inclusion proof does not verify"
    ]
    assert verify_receipt({**receipt, "head": {**head, "tree_size": 4}}, [key.public_key()]) == [
        "merkle_root or tree_size differ from the signed head",
        "the head signature does not verify",
    ]
    assert verify_receipt({**receipt, "audit_path": ["zz"]}, [key.public_key()]) == [
        "malformed receipt: audit_path is not a list of hex SHA-256 hashes"
    ]
    assert verify_receipt({k: v for k, v in receipt.items() if k != "leaf"}, [key.public_key()]) == [
        "malformed receipt: leaf is missing"
    ]
    assert verify_receipt({**receipt, "leaf": '{"clr_date":"2026-11-30","n":2}'}, [key.public_key()]) == [
        "the inclusion proof does not verify",
        "the leaf's clr_date is not the head's",
    ]
    assert not rfc9162_verify(leaves[0], 3, 3, proof, root)
    assert not rfc9162_verify(leaves[2], 2, 3, proof + [root], root)
