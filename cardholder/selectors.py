"""Cardholder reads: own person, filings, settlements, accumulators, receipts (spec/cardholder-api.md).

Every function takes the signed-in ``person`` and reads only that person's rows; another person's
``setl_id`` is answered ``404 not_found`` (never 403, which would reveal that it exists).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from accounts.certno import mask_certno
from accounts.models import Filing, Person
from accounts.selectors import person_certno, person_name
from core.crypto import decrypt
from core.errors import NotFound

SHANGHAI = ZoneInfo("Asia/Shanghai")
MED_TYPE_GROUPS = ("outpatient", "inpatient", "pharmacy")


def today_shanghai() -> dt.date:
    return timezone.now().astimezone(SHANGHAI).date()


def person_profile(*, person: Person) -> dict[str, Any]:
    """``GET /me``: ``psn_no``, masked ``certno``, ``psn_name``, ``insutype``, ``insuplc_admdvs``,
    ``acct_balc`` (Decimal yuan) and ``filings`` valid today or later (not revoked), oldest first."""
    today = today_shanghai()
    filings = Filing.objects.filter(person=person, revoked_at__isnull=True, enddate__gte=today).order_by(
        "begndate", "id")
    person.refresh_from_db(fields=["acct_balance", "insutype", "insuplc_admdvs", "psn_insu_stas"])
    return {
        "psn_no": person.psn_no,
        "certno": mask_certno(person_certno(person)),
        "psn_name": person_name(person),
        "insutype": person.insutype,
        "insuplc_admdvs": person.insuplc_admdvs,
        "psn_insu_stas": person.psn_insu_stas,
        "acct_balc": person.acct_balance,
        "filings": [
            {"filing_type": f.filing_type, "mdtrtarea_admvs": f.mdtrtarea_admvs, "begndate": f.begndate,
             "enddate": f.enddate, "current": f.begndate <= today}
            for f in filings
        ],
    }


def card_only_profile(*, principal: Any) -> dict[str, Any]:
    """``GET /me`` of a card-only holder (spec/cards.md §Changes to other parts: its name and
    cards only): ``{"psn_name", "cards"}``, the name from the newest registry card, each card as
    ``GET /me/cards`` shows it (masked) without its history."""
    from cards.presenters import card_body
    from cards.selectors.holder import holder_cards

    cards = list(holder_cards(principal))
    name = (decrypt(cards[-1].psn_name_enc) or "") if cards else ""
    return {"psn_name": name, "cards": [card_body(c, history=False) for c in cards]}


def person_records(*, person: Person | None, year: int | None = None) -> list[dict[str, Any]]:
    """``GET /me/settlements``: the person's settlements and reversals, newest first
    (``settlement.selectors.person_settlements``), each a dict of the record's NHSA fields plus
    ``fixmedins_code``, ``fixmedins_name``, ``mdtrtarea_admvs``, ``orig_setl_id`` and
    ``cycle_closed`` (bool). ``year`` filters on the settlement day's year. A card-only holder
    (``person`` None) has none."""
    return records_of(list(person_record_rows(person=person, year=year)))


def person_record_rows(*, person: Person | None, year: int | None = None) -> Any:
    """The settlement rows behind :func:`person_records` as a queryset, newest first
    (``-setl_time``, ``-id``), for keyset pagination; map a page with :func:`records_of`.
    Empty for a card-only holder (``person`` None: the medical endpoints answer empty lists)."""
    from settlement.models import Settlement
    from settlement.selectors import person_settlements

    if person is None:
        return Settlement.objects.none().order_by("-setl_time", "-id")
    return person_settlements(person=person, year=year)


def records_of(rows: list[Any]) -> list[dict[str, Any]]:
    """The record dicts of :func:`person_records` for settlement rows (e.g. one page of
    ``settlement.selectors.person_settlements``), in the same order."""
    from clearing.models import Cycle

    closed = set(Cycle.objects.filter(
        scheme="medical", clr_date__in={r.clr_date for r in rows}, status=Cycle.Status.CLOSED)
                 .values_list("clr_date", flat=True))
    return [_record(r, r.clr_date in closed) for r in rows]


SPLIT_FIELDS = (
    "medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt",
    "act_pay_dedc", "pool_prop_selfpay", "hifp_pay", "fund_pay_sumamt", "psn_part_amt", "acct_pay",
    "psn_cash_pay", "balc", "clr_amt",
)


def _record(s: Any, cycle_closed: bool) -> dict[str, Any]:
    record = {
        "setl_id": s.setl_id,
        "setl_time": s.setl_time,
        "status": s.status,
        "orig_setl_id": s.orig.setl_id if s.orig_id else None,
        "fixmedins_code": s.institution.fixmedins_code,
        "fixmedins_name": s.institution.name,
        "mdtrtarea_admvs": s.mdtrtarea_admvs,
        "med_type": s.med_type,
        "insutype": s.insutype,
        "clr_date": s.clr_date,
        "cycle_closed": cycle_closed,
    }
    record.update({f: getattr(s, f) for f in SPLIT_FIELDS})
    return record


def person_record(*, person: Person | None, setl_id: str) -> dict[str, Any]:
    """One of the person's records; ``404 not_found`` for unknown ids and other persons' ids (and
    for every id of a card-only holder)."""
    from clearing.models import Cycle
    from settlement.models import Settlement

    if person is None:
        raise NotFound("No such settlement.")
    s = (Settlement.objects.filter(person=person, setl_id=setl_id)
         .select_related("institution", "orig").first())
    if s is None:
        raise NotFound("No such settlement.")
    closed = Cycle.objects.filter(scheme="medical", clr_date=s.clr_date, status=Cycle.Status.CLOSED).exists()
    return _record(s, closed)


@dataclass(frozen=True)
class AccumulatorView:
    """One accumulator of a year, insutype and med_type group with the limits of today's policy.

    ``deductible_remaining`` is ``None`` unless the basis is ``year``; policy fields are ``None``
    when no policy is valid today. Amounts are Decimal yuan.
    """

    insutype: str
    med_type_group: str
    deductible: Decimal | None
    deductible_basis: str | None
    deductible_used: Decimal
    deductible_remaining: Decimal | None
    annual_cap: Decimal | None
    fund_paid: Decimal
    fund_remaining: Decimal | None


def person_accumulator_views(*, person: Person | None, year: int) -> list[AccumulatorView]:
    """``GET /me/accumulators``: per ``insutype`` and med_type group with a policy valid today
    (``settlement.selectors.person_accumulators``; the grade-3 row when policies differ by hospital
    grade): deductible, used, remaining (year basis only), annual cap, fund paid, remaining. None for
    a card-only holder (``person`` None)."""
    from settlement.selectors import person_accumulators

    if person is None:
        return []
    order = {g: i for i, g in enumerate(MED_TYPE_GROUPS)}
    chosen: dict[tuple[str, str], dict[str, Any]] = {}
    for row in person_accumulators(person=person, year=year):
        key = (row["insutype"], row["med_type_group"])
        if key not in chosen or (row["hosp_lv"] == "3" and chosen[key]["hosp_lv"] != "3"):
            chosen[key] = row
    return [
        AccumulatorView(
            insutype=row["insutype"], med_type_group=row["med_type_group"],
            deductible=row["deductible"], deductible_basis=row["deductible_basis"],
            deductible_used=row["deductible_used"],
            deductible_remaining=row["deductible_remaining"] if row["deductible_basis"] == "year" else None,
            annual_cap=row["annual_cap"], fund_paid=row["fund_paid"], fund_remaining=row["fund_remaining"],
        )
        for key, row in sorted(chosen.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], 9)))
    ]


def person_receipt(*, person: Person | None, setl_id: str) -> dict[str, Any]:
    """``GET /me/settlements/{setl_id}/receipt``: the clearing house's inclusion proof of the
    person's record (spec/clearing.md §Receipts). ``404`` for another person's id,
    ``409 not_yet_cleared`` before the close (raised by ``clearing.selectors.item_inclusion_proof``)."""
    from clearing.selectors import item_inclusion_proof
    from settlement.models import Settlement

    days = Settlement.objects.filter(person=person, setl_id=setl_id).values_list("clr_date", flat=True)
    day = days.first() if person is not None else None
    if day is None:
        raise NotFound("No such settlement.")
    return item_inclusion_proof(setl_id, day)  # the settlement's day: one partition of the items
