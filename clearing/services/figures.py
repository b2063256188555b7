"""A cycle's figures computed in the database (spec/clearing.md §What a close computes).

Every sum is a ``GROUP BY`` in SQL; Python only sees the aggregated rows (bilateral pairs,
provinces, institutions). The Merkle root streams the stored leaf hashes in ``setl_id`` byte order
through a server-side cursor (PostgreSQL) so memory does not grow with the item count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Count, F, QuerySet, Sum
from django.db.models.functions import Collate

from clearing import merkle
from clearing.models import ClearingItem
from clearing.netting import Bilateral, Netting, net_positions
from core.money import ZERO, round2

CHUNK = 5000
PROOF_BLOCK = 1024  # leaves per stored block hash (clearing.merkle.range_hash): a power of two


@dataclass(frozen=True)
class RemittanceLine:
    admdvs: str
    fixmedins_code: str
    cnt: int
    amount: Decimal


@dataclass
class Figures:
    """Everything a close needs: netting (bilateral, nets, gross, …), intra-province totals per
    province ``{admdvs: (cnt, amount)}``, remittance lines, tree size and Merkle root (32 bytes),
    and the MTH of each aligned ``block_size``-leaf block (the proof index, kept on the head)."""

    netting: Netting
    intra: dict[str, tuple[int, Decimal]] = field(default_factory=dict)
    remittance: list[RemittanceLine] = field(default_factory=list)
    intra_remittance: list[RemittanceLine] = field(default_factory=list)
    tree_size: int = 0
    merkle_root: bytes = merkle.EMPTY_ROOT
    block_size: int = PROOF_BLOCK
    block_hashes: list[bytes] = field(default_factory=list)


def setl_id_order():  # noqa: ANN201 - an ORM expression
    """``setl_id`` compared as bytes: ``COLLATE "C"`` on PostgreSQL; SQLite's default is binary."""
    return Collate("setl_id", "C") if connection.vendor == "postgresql" else F("setl_id")


def cycle_items(clr_date: dt.date) -> QuerySet[ClearingItem]:
    """The cycle's items in Merkle (``setl_id`` byte) order."""
    return ClearingItem.objects.filter(cycle_id=clr_date).order_by(setl_id_order())


def leaf_hashes(clr_date: dt.date) -> Iterator[bytes]:
    """Stored leaf hashes in tree order, streamed (server-side cursor on PostgreSQL)."""
    rows = cycle_items(clr_date).values_list("leaf_hash", flat=True).iterator(chunk_size=CHUNK)
    for h in rows:
        yield bytes(h)


def _sum(value: Decimal | None) -> Decimal:
    """A SQL ``SUM`` as exact yuan: PostgreSQL's numeric sum is exact already; SQLite sums REALs
    and its aggregate converter does not quantize, so round to the cent (amounts < 10^13 yuan)."""
    return round2(value) if value is not None else ZERO


def _lines(qs: QuerySet, key: str) -> list[RemittanceLine]:
    rows = (
        qs.values(key, "fixmedins_code")
        .annotate(cnt=Count("id"), amount=Sum("clr_amt"))
        .order_by(key, "fixmedins_code")
    )
    return [RemittanceLine(r[key], r["fixmedins_code"], r["cnt"], _sum(r["amount"])) for r in rows]


def cycle_figures(clr_date: dt.date) -> Figures:
    """Compute the figures of the cycle ``clr_date`` from its items (read-only)."""
    items = ClearingItem.objects.filter(cycle_id=clr_date)
    cross = items.exclude(payer=F("payee"))
    intra = items.filter(payer=F("payee"))
    pairs = (
        cross.values("payer", "payee")
        .annotate(cnt=Count("id"), amount=Sum("clr_amt"))
        .order_by("payer", "payee")
    )
    netting = net_positions(Bilateral(r["payer"], r["payee"], r["cnt"], _sum(r["amount"])) for r in pairs)
    intra_totals = {
        r["payer"]: (r["cnt"], _sum(r["amount"]))
        for r in intra.values("payer").annotate(cnt=Count("id"), amount=Sum("clr_amt")).order_by("payer")
    }
    acc = merkle.StreamingRoot(block=PROOF_BLOCK)
    for h in leaf_hashes(clr_date):
        acc.add(h)
    return Figures(
        netting=netting,
        intra=intra_totals,
        remittance=_lines(cross, "payee"),
        intra_remittance=_lines(intra, "payee"),
        tree_size=acc.size,
        merkle_root=acc.root(),
        block_size=PROOF_BLOCK,
        block_hashes=acc.block_hashes(),
    )
