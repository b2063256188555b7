"""Inclusion proofs from the head's block index (clearing.merkle.range_hash): the same audit path
as a full pass over the leaves, for every item of trees around block boundaries, without streaming
the cycle's leaves; heads without the index still answer by streaming."""

from __future__ import annotations

import datetime as dt

import pytest

from clearing import merkle
from clearing import selectors as sel
from clearing.models import CycleHead
from clearing.services import figures
from clearing.services.close import cycle_close
from clearing.services.cycles import open_cycle_date
from tests.clearing.helpers import record

pytestmark = pytest.mark.django_db


def _close_with(n: int) -> tuple[dt.date, list[str]]:
    day = open_cycle_date()
    ids = [record("340000", "310000", f"{i + 1}.00", "H31010400001").setl_id for i in range(n)]
    cycle_close(clr_date=day, actor="test")
    return day, sorted(ids)


def _streamed(day: dt.date, index: int, size: int) -> list[str]:
    return [h.hex() for h in merkle.inclusion_proof(figures.leaf_hashes(day), index, size)]


@pytest.mark.parametrize("n", [1, 3, 4, 5, 8, 11])
def test_block_proofs_equal_streamed_proofs(monkeypatch, n):
    monkeypatch.setattr(figures, "PROOF_BLOCK", 4)
    day, ids = _close_with(n)
    head = CycleHead.objects.get(cycle__clr_date=day)
    assert head.block_size == 4 and len(bytes(head.block_hashes)) == 32 * ((n + 3) // 4)
    expected = {sid: _streamed(day, i, n) for i, sid in enumerate(ids)}

    def no_stream(_day):
        raise AssertionError("the proof streamed every leaf")

    monkeypatch.setattr(sel, "leaf_hashes", no_stream)
    for i, sid in enumerate(ids):
        proof = sel.item_inclusion_proof(sid)
        assert (proof["leaf_index"], proof["tree_size"]) == (i, n)
        assert proof["audit_path"] == expected[sid]
        leaf = merkle.hash_leaf(proof["leaf"].encode())
        path = [bytes.fromhex(h) for h in proof["audit_path"]]
        assert merkle.verify_inclusion(leaf, i, n, path, bytes.fromhex(proof["merkle_root"]))


def test_head_without_block_index_streams(monkeypatch):
    monkeypatch.setattr(figures, "PROOF_BLOCK", 2)
    day, ids = _close_with(5)
    expected = _streamed(day, 3, 5)
    CycleHead.objects.filter(cycle__clr_date=day).update(block_size=None, block_hashes=None)
    assert sel.item_inclusion_proof(ids[3])["audit_path"] == expected


def test_default_block_is_a_power_of_two():
    assert figures.PROOF_BLOCK & (figures.PROOF_BLOCK - 1) == 0 and figures.PROOF_BLOCK >= 2
