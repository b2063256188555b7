"""The card scheme's panel of the bureau dashboard (spec/cards.md §The card scheme's clearing):
the latest closed **card** cycle's head figures, each province's net position and statement
(receivable, payable, net, items, benefit waived, settlement agent, card settlement account after
the close, alerts, acknowledgement), and a chart of the card net positions.

Shown to clearing staff beside the medical figures and never added to them: the two schemes have
their own cycles, heads, statements and accounts (spec/cards.md: "Summing the two … is never
computed, shown or posted"); nothing here reads a medical row. Medical bureaus do not see it (they
see the medical scheme only); a card bureau's dashboard is this panel alone, for its province.

Amounts are Decimal yuan taken from the signed documents' 2-place strings.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from bureau import charts
from clearing.models import Cycle, Scheme, Statement

CARD = Scheme.CARD


@dataclass(frozen=True)
class CardStatementRow:
    """One province's card statement of the cycle (figures from its signed document)."""

    admdvs: str
    name: str
    receivable: Decimal
    payable: Decimal
    net: Decimal
    item_cnt: int
    waived_cnt: int
    waived: Decimal
    agent: str
    account_after: Decimal
    alerts: list[str] = field(default_factory=list)
    acked: bool = False


@dataclass(frozen=True)
class CardPanel:
    """The latest closed card cycle (``None`` before the first card close) and its rows."""

    clr_date: dt.date | None
    item_cnt: int = 0
    gross: Decimal = Decimal("0.00")
    net_funding: Decimal = Decimal("0.00")
    netting_efficiency: str = ""
    rows: list[CardStatementRow] = field(default_factory=list)
    chart: str = ""


def _row(st: Statement, names: dict[str, str]) -> CardStatementRow:
    doc = json.loads(bytes(st.canonical))
    waived = doc.get("benefit_waived", [])
    prefund = doc.get("prefund", {})
    return CardStatementRow(
        admdvs=st.admdvs,
        name=names.get(st.admdvs, st.admdvs),
        receivable=Decimal(doc["receivable"]),
        payable=Decimal(doc["payable"]),
        net=Decimal(doc["net"]),
        item_cnt=int(doc["item_cnt"]),
        waived_cnt=sum(int(w["cnt"]) for w in waived),
        waived=sum((Decimal(w["amount"]) for w in waived), Decimal("0.00")),
        agent=str(doc.get("settlement_agent", "")),
        account_after=Decimal(prefund.get("after", "0.00")),
        alerts=[str(a.get("kind", "")) for a in prefund.get("alerts", [])],
        acked=hasattr(st, "ack"),
    )


def card_panel(scope: str | None, names: dict[str, str]) -> CardPanel:
    """The panel for ``scope`` (a province code, or ``None`` for every province)."""
    cycle = (
        Cycle.objects.filter(scheme=CARD, status=Cycle.Status.CLOSED)
        .select_related("head")
        .order_by("-clr_date")
        .first()
    )
    if cycle is None:
        return CardPanel(clr_date=None)
    head = json.loads(bytes(cycle.head.canonical))
    statements = Statement.objects.filter(cycle=cycle).select_related("ack").order_by("admdvs")
    if scope is not None:
        statements = statements.filter(admdvs=scope)
    rows = [_row(st, names) for st in statements]
    ordered = sorted(rows, key=lambda r: (-r.net, r.admdvs))
    points = [charts.Point(r.name, r.net) for r in ordered if r.item_cnt]
    label = _("Card net positions of cycle %(date)s (+ receives, − pays)") % {"date": cycle.clr_date}
    return CardPanel(
        clr_date=cycle.clr_date,
        item_cnt=int(head["item_cnt"]),
        gross=Decimal(head["gross"]),
        net_funding=Decimal(head["net_funding"]),
        netting_efficiency=str(head["netting_efficiency"]),
        rows=rows,
        chart=charts.bar_chart(points, label=label) if points else "",
    )


def panel_context(principal: Any, scope: str | None, names: dict[str, str]) -> dict[str, Any]:
    """``{"card": CardPanel}`` for clearing staff and card bureaus (their own province, ``scope``);
    ``{}`` for a medical bureau (it sees the medical scheme only)."""
    if principal.role not in ("clearing_staff", "card_bureau"):
        return {}
    return {"card": card_panel(scope, names)}
