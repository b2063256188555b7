"""The close's Merkle fold in parallel processes (clearing.services.fold, issue 15 item 4): the
ranges' head leaves, block hashes and tail leaves stitched in order give exactly the serial
fold's root and block hashes, so the signed head bytes do not change."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

import pytest

from clearing import fold_worker, merkle
from clearing.services import figures as fig
from clearing.services import fold
from clearing.services.close import cycle_close
from clearing.services.cycles import open_cycle_date
from clearing.services.documents import GENESIS, head_document
from core.canonical import canonical_bytes
from tests.clearing.test_figures_fast import _load, reference_figures


def _leaves(n: int) -> list[bytes]:
    return [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(n)]


@pytest.mark.parametrize(
    ("n", "cuts"),
    [(0, [0]), (5, [0, 5]), (37, [0, 9, 9, 30]), (64, [16, 32, 48]), (100, [1, 3, 17, 99]),
     (1000, [333, 667])],
)
def test_stitched_ranges_equal_the_serial_fold(n, cuts):
    """Ranges split anywhere (inside blocks, on block boundaries, empty ones) fold to the serial
    fold's root and block hashes (block of 8 leaves, chunks of 5 so chunks straddle everything)."""
    block, leaves = 8, _leaves(n)
    serial = merkle.StreamingRoot(block=block)
    for h in leaves:
        serial.add(h)
    edges, parts = [0, *cuts, n], []
    for a, b in zip(edges, edges[1:], strict=False):
        raw = b"".join(leaves[a:b])
        chunks = iter([raw[i : i + 5 * 32] for i in range(0, len(raw), 5 * 32)])
        seen, head, blocks, tail = fold_worker.fold_range(chunks, a, b - a, block)
        assert seen == b - a
        assert len(head) // 32 == min((-a) % block, b - a)
        parts.append(fold.RangeFold(seen, head, b"".join(blocks), tail, 0))
    stitched = fold.stitch(parts, block)
    assert (stitched.size, stitched.root(), stitched.block_hashes()) == (
        n,
        serial.root(),
        serial.block_hashes(),
    )


def test_a_misaligned_subtree_is_refused():
    acc = merkle.StreamingRoot(block=4)
    acc.extend(b"".join(_leaves(3)))
    with pytest.raises(ValueError, match="not aligned"):
        acc.push_subtree(bytes(32), 4)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_close_folds_in_worker_processes_and_signs_the_same_head(settings, monkeypatch, caplog):
    """3 real worker processes over 2,500 committed items (ranges cut inside 1,024-leaf blocks):
    the closed head's bytes (root, tree size, every figure) and block hashes are those of the
    reference computation."""
    settings.CLEARING_CLOSE_WORKERS = 3
    settings.CLEARING_CLOSE_PARALLEL_MIN_ITEMS = 0
    ran: list[list[int]] = []
    real = fold.parallel_fold

    def spy(clr_date, scheme, bounds, counts, block, beside):  # noqa: ANN001, ANN202
        ran.append(counts)
        return real(clr_date, scheme, bounds, counts, block, beside)

    monkeypatch.setattr(fold, "parallel_fold", spy)
    clr_date = open_cycle_date() - dt.timedelta(days=1)
    _load(clr_date, 2500, seed=15)
    ref = reference_figures(clr_date)
    with caplog.at_level(logging.WARNING, logger="kuasheng.clearing.fold"):
        cycle = cycle_close(clr_date=clr_date, actor="test")
    assert len(ran) == 1 and sum(ran[0]) == 2500 and len(ran[0]) == 3 and min(ran[0]) > 0
    assert "falls back" not in caplog.text  # no fallback to the serial fold
    expected = head_document(
        clr_date=clr_date, closed_at=cycle.closed_at, figures=ref, prev_head_sha256=GENESIS
    )
    assert bytes(cycle.head.canonical) == canonical_bytes(expected)
    assert bytes(cycle.head.block_hashes) == b"".join(ref.block_hashes)


@pytest.mark.postgres
@pytest.mark.django_db
def test_uncommitted_items_fall_back_to_the_serial_fold(settings, caplog):
    """The workers see committed rows only: items of the closing transaction itself (here the
    test's) make their counts disagree, and the close folds on its own connection instead."""
    settings.CLEARING_CLOSE_WORKERS = 2
    settings.CLEARING_CLOSE_PARALLEL_MIN_ITEMS = 0
    clr_date = open_cycle_date()
    _load(clr_date, 1100, seed=3)
    with caplog.at_level(logging.WARNING, logger="kuasheng.clearing.fold"):
        ours = fig.cycle_figures(clr_date)
    assert "falls back to serial" in caplog.text
    assert repr(ours) == repr(reference_figures(clr_date))
