"""The card statement's parts that come from acceptance records (spec/cards.md §The card
scheme's clearing): ``settlement_agent`` and ``benefit_waived``. Registered with
:mod:`clearing.schemes` in :meth:`cards.apps.CardsConfig.ready`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, F, Sum

from cards.models import Acceptance, CardSettlementAgent
from core.money import ZERO, fmt_money, round2


def benefit_waived(*, clr_date: dt.date, admdvs: str) -> list[dict[str, Any]]:
    """``[{"counterparty" (issuer province), "cnt", "amount" (Σ list_amt − amt)}]`` of the uses
    accepted in province ``admdvs`` under a benefit, carried by the card cycle ``clr_date``
    (free uses included; information only, moves no money)."""
    rows = (
        Acceptance.objects.filter(clr_date=clr_date, payee=admdvs, kind=Acceptance.Kind.ACCEPTANCE)
        .exclude(benefit_code="")
        .values("payer")
        .annotate(cnt=Count("id"), amount=Sum(F("list_amt") - F("amt")))
        .order_by("payer")
    )
    return [
        {
            "counterparty": r["payer"],
            "cnt": r["cnt"],
            "amount": fmt_money(round2(r["amount"] or ZERO)) or "0.00",
        }
        for r in rows
    ]


def card_statement_extra(*, clr_date: dt.date, admdvs: str) -> dict[str, Any]:
    agent = CardSettlementAgent.objects.filter(admdvs=admdvs).values_list("name", flat=True).first()
    return {
        "settlement_agent": agent or "",
        "benefit_waived": benefit_waived(clr_date=clr_date, admdvs=admdvs),
    }
