"""Every RFC 9162 verifier refuses hashes that are not 32 bytes (issue 10 item 9): the clearing
house's own (``clearing.merkle.verify_inclusion``), the independent one of ``manage.py
verify_receipt`` (``clearing.verify``) and the cardholder page's (``cardholder.verify``). Before,
each accepted the inputs below."""
from __future__ import annotations

import hashlib

import pytest

from cardholder.verify import root_from_inclusion_path
from clearing import merkle
from clearing.verify import rfc9162_verify

LEAF = b'{"clr_date":"2026-11-27","n":1}'
LEAF_HASH = hashlib.sha256(b"\x00" + LEAF).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def test_transparency_dev_empty_root_and_leaf_vector_is_refused():
    # transparency-dev/merkle testdata: leafIdx 0, treeSize 1, root "", leafHash "", proof [] → error
    assert merkle.verify_inclusion(b"", 0, 1, [], b"") is False


@pytest.mark.parametrize("length", [0, 1, 31, 33, 64])
def test_a_path_element_of_another_length_is_refused_by_every_verifier(length):  # noqa: ANN001
    sibling = bytes(range(length))
    root = _node(LEAF_HASH, sibling)  # the root such a path leads to: "verified" before the check
    assert merkle.verify_inclusion(LEAF_HASH, 0, 2, [sibling], root) is False
    assert rfc9162_verify(LEAF, 0, 2, [sibling], root) is False
    assert root_from_inclusion_path(LEAF, 0, 2, [sibling]) is None


@pytest.mark.parametrize("length", [0, 31, 33])
def test_a_leaf_hash_or_root_of_another_length_is_refused(length):  # noqa: ANN001
    odd = bytes(length)
    assert merkle.verify_inclusion(odd, 0, 1, [], odd) is False
    assert merkle.verify_inclusion(LEAF_HASH, 0, 1, [], odd) is False
    assert rfc9162_verify(LEAF, 0, 1, [], odd) is False


def test_well_formed_proofs_still_verify():
    sibling = hashlib.sha256(b"\x00other").digest()
    root = _node(LEAF_HASH, sibling)
    assert merkle.verify_inclusion(LEAF_HASH, 0, 2, [sibling], root) is True
    assert rfc9162_verify(LEAF, 0, 2, [sibling], root) is True
    assert root_from_inclusion_path(LEAF, 0, 2, [sibling]) == root
    assert merkle.verify_inclusion(LEAF_HASH, 0, 1, [], LEAF_HASH) is True
