"""Reads behind the bureau dashboard. ``scope`` is a province code (a bureau, or clearing staff
looking at one province) or ``None`` (clearing staff: every province). Money is ``Decimal`` yuan;
every figure comes from what the close stored (heads, net and bilateral positions, statements) or,
for the open cycle, from the items in SQL aggregates.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q, Sum

from accounts.models import Region
from clearing import selectors as clearing_selectors
from clearing.models import (
    Alert,
    BilateralPosition,
    ClearingItem,
    Cycle,
    CycleHead,
    Dispute,
    NetPosition,
    PrefundAccount,
    Scheme,
    Statement,
)
from clearing.services.cycles import open_cycle_date
from core.money import round2

ZERO = Decimal("0.00")
HISTORY_CYCLES = 30
MEDICAL = Scheme.MEDICAL  # the dashboard is the medical scheme's (card bureaus have their own API)


def _cents(value: Decimal | None) -> Decimal:
    """A SQL ``SUM`` as exact yuan: PostgreSQL's numeric sum is exact; SQLite sums REALs, so round
    to the cent (as ``clearing.services.figures`` does)."""
    return round2(value) if value is not None else ZERO


def province_names() -> dict[str, str]:
    """``{admdvs: Chinese name}`` of the provincial-level regions (``regions.csv``)."""
    return dict(Region.objects.filter(level=Region.Level.PROVINCE).values_list("admdvs", "name"))


@dataclass
class Today:
    """The open cycle so far. For a province: ``receivable``/``payable`` (cross-province, signed
    sums incl. reversals), their counts, ``net``, intra-province count/amount, and per counterparty
    ``(code, receivable, payable)``; for all: item count and gross (cross-province Σ)."""

    clr_date: dt.date
    item_cnt: int = 0
    gross: Decimal = ZERO
    receivable: Decimal = ZERO
    payable: Decimal = ZERO
    receivable_cnt: int = 0
    payable_cnt: int = 0
    intra_cnt: int = 0
    intra_amount: Decimal = ZERO
    counterparties: list[tuple[str, Decimal, Decimal]] = field(default_factory=list)

    @property
    def net(self) -> Decimal:
        return self.receivable - self.payable


def today_so_far(scope: str | None) -> Today:
    """Figures of the open cycle's items, two aggregate queries."""
    day = open_cycle_date(scheme=MEDICAL)
    items = ClearingItem.objects.filter(scheme=MEDICAL, clr_date=day)
    cross = ~Q(payer=F("payee"))
    out = Today(clr_date=day)
    if scope is None:
        agg = items.aggregate(
            n=Count("id"),
            gross=Sum("clr_amt", filter=cross),
            intra_n=Count("id", filter=~cross),
            intra=Sum("clr_amt", filter=~cross),
        )
        out.item_cnt, out.gross = agg["n"], _cents(agg["gross"])
        out.intra_cnt, out.intra_amount = agg["intra_n"], _cents(agg["intra"])
        return out
    mine = items.filter(Q(payer=scope) | Q(payee=scope))
    agg = mine.aggregate(
        n=Count("id"),
        rec=Sum("clr_amt", filter=cross & Q(payee=scope)),
        rec_n=Count("id", filter=cross & Q(payee=scope)),
        pay=Sum("clr_amt", filter=cross & Q(payer=scope)),
        pay_n=Count("id", filter=cross & Q(payer=scope)),
        intra=Sum("clr_amt", filter=~cross),
        intra_n=Count("id", filter=~cross),
    )
    out.item_cnt = agg["n"]
    out.receivable, out.receivable_cnt = _cents(agg["rec"]), agg["rec_n"]
    out.payable, out.payable_cnt = _cents(agg["pay"]), agg["pay_n"]
    out.intra_amount, out.intra_cnt = _cents(agg["intra"]), agg["intra_n"]
    sides: dict[str, list[Decimal]] = {}
    for payer, payee, amount in mine.filter(cross).values_list("payer", "payee").annotate(s=Sum("clr_amt")):
        other = payee if payer == scope else payer
        pair = sides.setdefault(other, [ZERO, ZERO])
        pair[0 if payee == scope else 1] += _cents(amount)
    out.counterparties = [(code, rec, pay) for code, (rec, pay) in sorted(sides.items())]
    return out


def closed_cycles(limit: int = HISTORY_CYCLES) -> list[Cycle]:
    """The last ``limit`` closed cycles, oldest first, with their heads."""
    rows = list(
        Cycle.objects.filter(scheme=MEDICAL, status=Cycle.Status.CLOSED)
        .select_related("head")
        .order_by("-clr_date")[:limit]
    )
    return rows[::-1]


def net_history(scope: str | None, cycles: list[Cycle]) -> list[tuple[dt.date, Decimal, Decimal]]:
    """Per closed cycle ``(clr_date, a, b)``: for a province ``(net, payable)`` — ``net`` 0.00 on
    a day without items of its own; for all ``(net_funding, gross)`` of the head."""
    if scope is None:
        return [(c.clr_date, c.head.net_funding, c.head.gross) for c in cycles]
    nets = {
        day: (net, payable)
        for day, net, payable in NetPosition.objects.filter(
            admdvs=scope, cycle__in=[c.pk for c in cycles]
        ).values_list("cycle__clr_date", "net", "payable")
    }
    return [(c.clr_date, *nets.get(c.clr_date, (ZERO, ZERO))) for c in cycles]


def net_positions(cycle: Cycle) -> list[tuple[str, Decimal]]:
    """``(admdvs, net)`` of every province with a cross-province item in ``cycle``, largest first."""
    return list(
        NetPosition.objects.filter(cycle=cycle)
        .exclude(item_cnt=0)
        .order_by("-net", "admdvs")
        .values_list("admdvs", "net")
    )


def bilateral(scope: str | None, cycle: Cycle, top: int = 15) -> list[tuple[str, str, Decimal, int]]:
    """``(payer, payee, amount, cnt)`` of ``cycle``: the pairs with ``scope`` (all of them), or the
    ``top`` largest pairs of every province; largest first."""
    qs = BilateralPosition.objects.filter(cycle=cycle)
    if scope is not None:
        qs = qs.filter(Q(payer=scope) | Q(payee=scope))
    rows = list(qs.values_list("payer", "payee", "amount", "cnt"))
    rows.sort(key=lambda r: (-abs(r[2]), r[0], r[1]))
    return rows if scope is not None else rows[:top]


@dataclass(frozen=True)
class PrefundView:
    admdvs: str
    balance: Decimal
    baseline: Decimal
    threshold: Decimal

    @property
    def low(self) -> bool:
        return self.balance <= self.threshold


def prefunds(scope: str | None) -> list[PrefundView]:
    """Prefund accounts with the ``low_prefund`` threshold (``LOW_PREFUND_RATIO`` × baseline)."""
    ratio = Decimal(settings.LOW_PREFUND_RATIO)
    qs = PrefundAccount.objects.filter(scheme=MEDICAL).order_by("admdvs")
    if scope is not None:
        qs = qs.filter(admdvs=scope)
    return [
        PrefundView(a.admdvs, a.balance, a.baseline, (a.baseline * ratio).quantize(Decimal("0.01")))
        for a in qs
    ]


def alerts(scope: str | None, cycle: Cycle | None) -> list[Alert]:
    """The alerts raised by the latest close (the ones that still describe today's prefunds)."""
    if cycle is None:
        return []
    qs = Alert.objects.filter(cycle=cycle)
    return list(qs if scope is None else qs.filter(admdvs=scope))


def statements_to_ack(scope: str | None, limit: int) -> tuple[list[Statement], int]:
    """The ``limit`` newest statements not acknowledged yet (a bureau's own; staff: every
    province's) and how many there are in all."""
    qs = Statement.objects.filter(ack__isnull=True, cycle__scheme=MEDICAL)
    if scope is not None:
        qs = qs.filter(admdvs=scope)
    rows = list(qs.select_related("cycle").order_by("-cycle__clr_date", "admdvs")[:limit])
    return rows, (qs.count() if len(rows) == limit else len(rows))


def open_disputes(scope: str | None) -> list[Dispute]:
    """Open and escalated disputes where ``scope`` is payer or payee, oldest first."""
    return list(
        clearing_selectors.disputes_visible(scope).filter(
            status__in=(Dispute.Status.OPEN, Dispute.Status.ESCALATED)
        )
    )


def overdue_dispute_ids(scope: str | None) -> set[int]:
    return set(clearing_selectors.disputes_overdue(scope).values_list("id", flat=True))


def statement_document(cycle: Cycle, admdvs: str) -> dict[str, Any] | None:
    st = Statement.objects.filter(cycle=cycle, admdvs=admdvs).first()
    return json.loads(bytes(st.canonical)) if st is not None else None


@dataclass(frozen=True)
class ReconLine:
    """One check: ``label``, the published figure, the figure recomputed from the items."""

    label: str
    published: Decimal | int
    recomputed: Decimal | int

    @property
    def ok(self) -> bool:
        return self.published == self.recomputed


def _items_of(cycle: Cycle) -> Any:
    """The items of ``cycle`` (keyed by scheme and date)."""
    return ClearingItem.objects.filter(scheme=cycle.scheme, clr_date=cycle.clr_date)


def reconcile_statement(doc: dict[str, Any], cycle: Cycle) -> list[ReconLine]:
    """The province's statement against its items (明细对账): per counterparty Σ payable and
    Σ receivable, and the intra-province total. Every line must match."""
    adm = doc["admdvs"]
    items = _items_of(cycle).filter(Q(payer=adm) | Q(payee=adm))
    sums: dict[tuple[str, str], tuple[Decimal, int]] = {
        (payer, payee): (_cents(s), n)
        for payer, payee, s, n in items.values_list("payer", "payee").annotate(
            s=Sum("clr_amt"), n=Count("id")
        )
    }
    lines = []
    for b in doc["bilateral"]:
        other = b["counterparty"]
        pay = sums.get((adm, other), (ZERO, 0))
        rec = sums.get((other, adm), (ZERO, 0))
        lines.append(ReconLine(f"payable:{other}", Decimal(b["payable"]), pay[0]))
        lines.append(ReconLine(f"receivable:{other}", Decimal(b["receivable"]), rec[0]))
    intra = sums.get((adm, adm), (ZERO, 0))
    lines.append(ReconLine("intra", Decimal(doc["intra_province"]["amount"]), intra[0]))
    listed = {b["counterparty"] for b in doc["bilateral"]} | {adm}
    unlisted = sum((s for (p, q), (s, _n) in sums.items() if (q if p == adm else p) not in listed), ZERO)
    lines.append(ReconLine("unlisted", ZERO, unlisted))
    return lines


def reconcile_head(head: CycleHead, cycle: Cycle) -> list[ReconLine]:
    """The head against the close's positions: Σ net = 0.00 and Σ |bilateral| = gross."""
    nets = sum(NetPosition.objects.filter(cycle=cycle).values_list("net", flat=True), ZERO)
    gross = sum(
        (abs(a) for a in BilateralPosition.objects.filter(cycle=cycle).values_list("amount", flat=True)), ZERO
    )
    items = _items_of(cycle).count()
    return [
        ReconLine("sum_net", ZERO, nets),
        ReconLine("gross", head.gross, gross),
        ReconLine("tree_size", head.tree_size, items),
    ]
