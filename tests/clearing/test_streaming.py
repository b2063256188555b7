"""The close's Merkle pass streams: its memory does not grow with the number of items."""

from __future__ import annotations

import tracemalloc
from decimal import Decimal

import pytest

from clearing.leaf import leaf_bytes, leaf_hash
from clearing.models import ClearingItem
from clearing.services.cycles import cycle_ensure, open_cycle_date
from clearing.services.figures import cycle_figures

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _load(cycle, start: int, n: int) -> None:
    rows = []
    for i in range(start, start + n):
        sid = f"S{i:012d}"
        data = leaf_bytes(
            setl_id=sid,
            kind="settlement",
            payer="340000",
            payee="310000",
            clr_amt=Decimal("1.00"),
            fixmedins_code="H1",
            clr_date=cycle.clr_date,
        )
        rows.append(
            ClearingItem(
                setl_id=sid,
                kind="settlement",
                payer="340000",
                payee="310000",
                clr_amt=Decimal("1.00"),
                fixmedins_code="H1",
                cycle=cycle,
                leaf_hash=leaf_hash(data),
            )
        )
    ClearingItem.objects.bulk_create(rows, batch_size=5000)


def _peak(clr_date) -> tuple[int, int]:
    tracemalloc.start()
    figures = cycle_figures(clr_date)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return figures.tree_size, peak


def test_figures_memory_flat_in_item_count():
    cycle = cycle_ensure(open_cycle_date())
    _load(cycle, 0, 10_000)
    size1, peak1 = _peak(cycle.clr_date)
    _load(cycle, 10_000, 30_000)
    size2, peak2 = _peak(cycle.clr_date)
    assert (size1, size2) == (10_000, 40_000)
    assert peak2 < peak1 * 1.5, (peak1, peak2)
