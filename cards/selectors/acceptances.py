"""Reads of acceptance records (spec/cards.md §Views, §Security and audit)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone
from rest_framework.request import Request

from cards.models import Acceptance, AcceptanceRefusal
from cards.presenters import acceptance_body
from clearing.apis.common import query_param
from core.errors import Forbidden, NotFound
from core.money import ZERO, fmt_money
from core.pagination import paginate
from core.principals import request_principal

DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
AS_RE = re.compile(r"issuer|acceptor")
SVC_RE = re.compile(r"transit_fare|admission|loan")


def acceptance_for_reader(principal: Any, acpt_id: str) -> Acceptance:
    """One record as ``principal`` may read it: its acceptor, a card bureau of the issuer or
    acceptor province, clearing staff. Else 404."""
    row = Acceptance.objects.select_related("acceptor", "card", "reverses").filter(acpt_id=acpt_id).first()
    if row is None:
        raise NotFound("No such acceptance.")
    if principal.role == "acceptor" and row.acceptor_id == principal.acceptor.pk:
        return row
    if principal.role == "card_bureau" and principal.admdvs in (row.payer, row.payee):
        return row
    if principal.role == "clearing_staff":
        return row
    raise NotFound("No such acceptance.")


def _day(request: Request) -> dt.date:
    value = query_param(request, "date", DATE_RE, "YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value) if value else timezone.localdate()
    except ValueError:
        from core.errors import Invalid, field_error

        raise Invalid([field_error("date", "invalid", "YYYY-MM-DD")]) from None


def _scoped(request: Request, day: dt.date) -> tuple[QuerySet[Acceptance], QuerySet[AcceptanceRefusal]]:
    p = request_principal(request)
    qs = Acceptance.objects.filter(received_date=day)
    refusals = AcceptanceRefusal.objects.filter(received_date=day)
    side = query_param(request, "as", AS_RE, "issuer or acceptor") or "acceptor"
    if p.role == "acceptor":
        return qs.filter(acceptor=p.acceptor), refusals.filter(acceptor=p.acceptor)
    if p.role == "card_bureau" and p.admdvs is not None:
        if side == "issuer":
            return qs.filter(payer=p.admdvs), refusals.filter(issuer_province=p.admdvs)
        return qs.filter(payee=p.admdvs), refusals.filter(acceptor__admdvs__startswith=p.admdvs[:2])
    if p.role == "clearing_staff":
        return qs, refusals
    raise Forbidden()


def acceptances_day(request: Request) -> dict[str, Any]:
    """The day's acceptances (Asia/Shanghai date of receipt), masked, newest last, paginated, with
    the day's ``totals`` ``{"cnt", "free_cnt", "amt", "benefit_waived"}`` and refusals counted per
    code (``refused``)."""
    day = _day(request)
    qs, refusals = _scoped(request, day)
    svc = query_param(request, "svc_type", SVC_RE, "transit_fare, admission or loan")
    if svc:
        qs, refusals = qs.filter(svc_type=svc), refusals
    agg = qs.aggregate(
        cnt=Count("id"),
        free_cnt=Count("id", filter=Q(amt=0)),
        total_amt=Sum("amt"),
        waived=Sum(F("list_amt") - F("amt"), filter=~Q(benefit_code="")),
    )
    page = paginate(
        request,
        qs.select_related("acceptor", "card", "reverses").order_by("received_at", "id"),
        acceptance_body,
    )
    page["date"] = day.isoformat()
    page["totals"] = {
        "cnt": agg["cnt"],
        "free_cnt": agg["free_cnt"],
        "amt": fmt_money(Decimal(agg["total_amt"] or ZERO).quantize(Decimal("0.01"))),
        "benefit_waived": fmt_money(Decimal(agg["waived"] or ZERO).quantize(Decimal("0.01"))),
    }
    page["refused"] = dict(refusals.values_list("code").annotate(n=Count("id")).order_by("code"))
    return page
