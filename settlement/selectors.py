"""Reads of settlement data (spec/hospital-api.md §GET, spec/bureau-api.md, spec/cardholder-api.md).

Scope rules (spec/security.md §Scopes): an institution reads its own records; a bureau reads the
detail of settlements where its province is payer or payee; clearing staff read everything.
Anything out of scope is ``404`` (saying ``403`` would reveal that it exists).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Person
from clearing.services.cycles import business_day
from core.bulk import rows_where_in
from core.errors import Invalid, NotFound, field_error
from settlement.models import Accumulator, Policy, Settlement
from settlement.requests import MED_TYPE_GROUPS

ZERO = Decimal("0.00")
_GROUP_MED_TYPE = {g: mt for mt, g in MED_TYPE_GROUPS.items()}
LIST_FILTERS = ("begin", "end", "clr_date", "status", "psn_no", "medins_setl_id")


def _base() -> QuerySet[Settlement]:
    return Settlement.objects.select_related("person", "institution", "orig")


def settlement_for_reader(*, principal: Any, setl_id: str) -> Settlement:
    """The settlement ``setl_id`` if ``principal`` may read it, else ``404``."""
    qs = _base().filter(setl_id=setl_id)
    if principal.role == "institution":
        qs = qs.filter(institution=principal.institution)
    elif principal.role == "bureau":
        qs = qs.filter(Q(payer=principal.admdvs) | Q(payee=principal.admdvs))
    elif principal.role != "clearing_staff":
        qs = qs.none()
    s = qs.first()
    if s is None:
        raise NotFound("No such settlement.")
    return s


def _date_param(params: Any, key: str, errs: list) -> dt.date | None:
    raw = params.get(key)
    if raw in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errs.append(field_error(key, "invalid_date", "A date YYYY-MM-DD is required."))
        return None


def settlements_of_institution(*, institution: Any, params: Any) -> QuerySet[Settlement]:
    """An institution's settlements and reversals, filtered by ``begin``/``end`` (business dates of
    ``setl_time``, inclusive), ``clr_date``, ``status``, ``psn_no``, ``medins_setl_id``; ordered by
    time then id. Raises ``400 invalid`` for bad filter values."""
    errs: list = []
    begin, end = _date_param(params, "begin", errs), _date_param(params, "end", errs)
    clr_date = _date_param(params, "clr_date", errs)
    status = params.get("status")
    if status and status not in Settlement.Status.values:
        errs.append(field_error("status", "invalid_choice", "status is settled, reversed or reversal."))
    if errs:
        raise Invalid(errs)
    qs = _base().filter(institution=institution)
    if begin:
        qs = qs.filter(setl_date__gte=begin)
    if end:
        qs = qs.filter(setl_date__lte=end)
    if clr_date:
        qs = qs.filter(clr_date=clr_date)
    if status:
        qs = qs.filter(status=status)
    if params.get("psn_no"):
        qs = qs.filter(person__psn_no=params["psn_no"])
    if params.get("medins_setl_id"):
        qs = qs.filter(medins_setl_id=params["medins_setl_id"])
    return qs.order_by("setl_time", "id")


def person_settlements(*, person: Person, year: int | None = None) -> QuerySet[Settlement]:
    """A person's settlements and reversals, newest first; ``year`` = calendar year of the
    settlement day."""
    qs = _base().filter(person=person)
    if year is not None:
        qs = qs.filter(setl_date__year=year)
    return qs.order_by("-setl_time", "-id")


def person_accumulators(*, person: Person, year: int) -> list[dict[str, Any]]:
    """Per ``insutype`` and med_type group with a policy valid today for the person's region
    (``insuplc_admdvs``, else its province; the grade-3 row when several ``hosp_lv`` exist, else the
    highest grade, else the pharmacy row), ordered by group (spec/cardholder-api.md):
    ``{"year", "insutype", "med_type_group", "hosp_lv", "deductible", "deductible_basis",
    "deductible_used", "deductible_remaining", "annual_cap", "fund_paid", "fund_remaining"}``
    (Decimal yuan; ``deductible_remaining`` only for the year basis, else ``None``)."""
    today = business_day(timezone.now())
    accs = {(a.insutype, a.med_type_group): a for a in Accumulator.objects.filter(person=person, year=year)}
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for admdvs in (person.insuplc_admdvs, person.province):
        policies = Policy.objects.filter(
            insuplc_admdvs=admdvs, insutype=person.insutype, begndate__lte=today, enddate__gte=today
        ).order_by("med_type_group", "-hosp_lv")
        for p in policies:
            key = (p.insutype, p.med_type_group)
            if key in seen:
                continue
            seen.add(key)
            acc = accs.get((p.insutype, p.med_type_group))
            used = acc.deductible_used if acc else ZERO
            paid = acc.fund_paid if acc else ZERO
            remaining = max(ZERO, p.deductible - used) if p.deductible_basis == "year" else None
            out.append(
                {
                    "year": year,
                    "insutype": p.insutype,
                    "med_type_group": p.med_type_group,
                    "hosp_lv": p.hosp_lv,
                    "deductible": p.deductible,
                    "deductible_basis": p.deductible_basis,
                    "deductible_used": used,
                    "deductible_remaining": remaining,
                    "annual_cap": p.annual_cap,
                    "fund_paid": paid,
                    "fund_remaining": max(ZERO, p.annual_cap - paid),
                }
            )
    return out


def settlements_by_serials(institution: Any, serials: list[str]) -> dict[str, Settlement]:
    """The settlements/reversals ``institution`` recorded under any of ``serials`` (unique per
    institution), by serial, with ``person``, ``institution`` and ``orig`` loaded. One narrow query
    when none is recorded (the usual case); the persons and originals of those found take one more
    query each."""
    wanted = {x for x in serials if x}
    if not wanted:
        return {}
    rows = rows_where_in(Settlement, "medins_setl_id", sorted(wanted), extra="AND institution_id = %s",
                         extra_params=[institution.pk])
    if not rows:
        return {}
    persons = Person.objects.in_bulk({r.person_id for r in rows})
    origs = Settlement.objects.in_bulk({r.orig_id for r in rows if r.orig_id})
    for row in rows:
        row.institution, row.person = institution, persons[row.person_id]
        if row.orig_id:
            row.orig = origs[row.orig_id]
    return {row.medins_setl_id: row for row in rows}


def settlement_by_serial(institution: Any, serial: str | None) -> Settlement | None:
    """:func:`settlements_by_serials` for one serial (None when none is recorded or no serial)."""
    return settlements_by_serials(institution, [serial]).get(serial) if serial else None
