"""Multilateral netting arithmetic over bilateral positions (spec/clearing.md §What a close
computes). No Django imports: the per-item sums are done in SQL (``clearing.services.figures``);
this module works on the (at most 32 × 31) bilateral rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from core.money import MAX_MONEY, ZERO, round4


@dataclass(frozen=True)
class Bilateral:
    """Σ signed ``clr_amt`` (yuan) and item count of cross-province items payer → payee."""

    payer: str
    payee: str
    cnt: int
    amount: Decimal


@dataclass
class Net:
    """A province's position: ``net`` = ``receivable`` − ``payable`` (signed sums, yuan)."""

    admdvs: str
    receivable: Decimal = ZERO
    payable: Decimal = ZERO
    item_cnt: int = 0

    @property
    def net(self) -> Decimal:
        return self.receivable - self.payable


@dataclass
class Netting:
    bilateral: list[Bilateral]
    nets: dict[str, Net] = field(default_factory=dict)
    item_cnt: int = 0
    gross: Decimal = ZERO
    net_funding: Decimal = ZERO
    netting_efficiency: Decimal = Decimal("0.0000")


def money_in_range(amount: Decimal) -> bool:
    """True when ``amount`` (yuan) fits the 14-digit money format (and the numeric(16,2) columns)."""
    return abs(amount) <= MAX_MONEY


def netting_amounts(n: Netting) -> list[Decimal]:
    """Every amount a close writes from ``n``: gross, net_funding, bilateral sums, each province's
    receivable, payable and net."""
    out = [n.gross, n.net_funding, *(b.amount for b in n.bilateral)]
    for p in n.nets.values():
        out += [p.receivable, p.payable, p.net]
    return out


def efficiency(gross: Decimal, net_funding: Decimal) -> Decimal:
    """1 − net_funding / gross, ROUND_HALF_UP to 4 places as the last step; 0.0000 when gross is 0."""
    if gross == 0:
        return Decimal("0.0000")
    return round4(Decimal(1) - net_funding / gross)


def net_positions(rows: Iterable[Bilateral]) -> Netting:
    """Net positions, ``item_cnt``, ``gross`` (Σ over ordered pairs of |Σ signed clr_amt|),
    ``net_funding`` (Σ positive nets) and ``netting_efficiency`` from bilateral rows with
    ``payer != payee``. Σ nets is exactly 0.00 by construction."""
    rows = sorted(rows, key=lambda b: (b.payer, b.payee))
    result = Netting(bilateral=rows)
    for b in rows:
        if b.payer == b.payee:
            raise ValueError("intra-province rows are not netted")
        payer = result.nets.setdefault(b.payer, Net(b.payer))
        payee = result.nets.setdefault(b.payee, Net(b.payee))
        payer.payable += b.amount
        payer.item_cnt += b.cnt
        payee.receivable += b.amount
        payee.item_cnt += b.cnt
        result.item_cnt += b.cnt
        result.gross += abs(b.amount)
    result.nets = dict(sorted(result.nets.items()))
    result.net_funding = sum((n.net for n in result.nets.values() if n.net > 0), ZERO)
    result.netting_efficiency = efficiency(result.gross, result.net_funding)
    return result
