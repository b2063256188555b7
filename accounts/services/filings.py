"""Filings (备案): upload, create, revoke (spec/bureau-api.md §Reference data; spec/policy.md
§Who may settle here). Filing types: long-term 11/12/13, temporary 21/22/23."""
from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from accounts.models import Filing, Person
from accounts.services._rows import (
    RowError,
    admdvs,
    choice,
    date,
    has_control_character,
    known_provinces,
    text,
)
from core.audit import audit_principal
from core.errors import Conflict, DomainError, Invalid, NotFound, field_error
from core.imports import ImportResult

FILING_TYPES = ("11", "12", "13", "21", "22", "23")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def business_today() -> dt.date:
    """Today's Asia/Shanghai date."""
    return timezone.now().astimezone(SHANGHAI).date()


def _filing_clean(row: dict[str, str], provinces: frozenset[str]) -> tuple[str, str, str, dt.date, dt.date]:
    psn_no = text(row, "psn_no", max_length=30)
    kind = choice(row, "filing_type", FILING_TYPES)
    area = admdvs(row, "mdtrtarea_admvs", provinces, None)
    begin = date(row, "begndate")
    end = date(row, "enddate")
    if end < begin:
        raise RowError("enddate", "before_begndate")
    return psn_no, kind, area, begin, end


def _check_person(person: Person | None, area: str, province: str | None) -> Person:
    if person is None:
        raise RowError("psn_no", "unknown_person")
    if province is not None and person.province != province:
        raise RowError("psn_no", "wrong_province")
    if area[:2] == person.insuplc_admdvs[:2]:
        raise RowError("mdtrtarea_admvs", "not_out_of_area")
    return person


def filings_import(*, rows: list[dict[str, str]], province: str | None, principal: Any) -> ImportResult:
    """Load filings (columns of ``filings.csv``: ``psn_no,filing_type,mdtrtarea_admvs,begndate,enddate``).

    A filing is identified by person, type, treatment region and ``begndate`` among the unrevoked
    ones: the same row again counts ``unchanged``; a new ``enddate`` counts ``updated``.
    Rejections: ``psn_no unknown_person`` / ``wrong_province``, ``mdtrtarea_admvs not_out_of_area``
    (treatment region in the person's own province), ``enddate before_begndate`` and field formats.
    """
    result = ImportResult(received=len(rows))
    provinces = known_provinces()
    with transaction.atomic():
        psn_nos = [p for r in rows if not has_control_character(p := (r.get("psn_no") or "").strip())]
        persons = {p.psn_no: p for p in Person.objects.filter(psn_no__in=psn_nos)}
        current = {(f.person_id, f.filing_type, f.mdtrtarea_admvs, f.begndate): f
                   for f in Filing.objects.filter(person__in=persons.values(), revoked_at__isnull=True)}
        for n, row in enumerate(rows, start=1):
            try:
                psn_no, kind, area, begin, end = _filing_clean(row, provinces)
                person = _check_person(persons.get(psn_no), area, province)
            except RowError as e:
                result.reject(n, e.field, e.code)
                continue
            key = (person.id, kind, area, begin)
            found = current.get(key)
            if found is None:
                current[key] = Filing.objects.create(person=person, filing_type=kind, mdtrtarea_admvs=area,
                                                     begndate=begin, enddate=end)
                result.created += 1
            elif found.enddate == end:
                result.unchanged += 1
            else:
                found.enddate = end
                found.save(update_fields=["enddate"])
                result.updated += 1
        audit_principal(principal, "filings_import", "upload", province or "all", detail={
            "received": result.received, "created": result.created, "updated": result.updated,
            "unchanged": result.unchanged, "rejected": len(result.rejected)})
    return result


def filing_create(*, person: Person, filing_type: str, mdtrtarea_admvs: str, begndate: dt.date,
                  enddate: dt.date, principal: Any, created_by_settlement: bool = False) -> Filing:
    """Record one filing for ``person``; audited ``filing_create``. The caller has checked the
    person's province against the principal. Raises ``400 invalid`` naming the field
    (``filing_type``, ``mdtrtarea_admvs``, ``enddate``) for the rejections of :func:`filings_import`."""
    row = {"psn_no": person.psn_no, "filing_type": filing_type, "mdtrtarea_admvs": mdtrtarea_admvs,
           "begndate": begndate.isoformat(), "enddate": enddate.isoformat()}
    try:
        _, kind, area, begin, end = _filing_clean(row, known_provinces())
        _check_person(person, area, None)
    except RowError as e:
        raise Invalid([field_error(e.field, e.code, f"{e.field}: {e.code.replace('_', ' ')}")]) from None
    with transaction.atomic():
        filing = Filing.objects.create(person=person, filing_type=kind, mdtrtarea_admvs=area, begndate=begin,
                                       enddate=end, created_by_settlement=created_by_settlement)
        audit_principal(principal, "filing_create", "filing", str(filing.id),
                        detail={"psn_no": person.psn_no})
    return filing


def filing_revoke(*, filing_id: int, principal: Any, province: str | None) -> Filing:
    """Revoke (撤销) a current or future filing: ``revoked_at`` set, audited ``filing_revoke``.
    ``province`` (bureau scope) hides other provinces' filings (``404 not_found``).
    Raises ``409 already_revoked`` and ``422 filing_ended`` (its ``enddate`` is before today,
    Asia/Shanghai)."""
    with transaction.atomic():
        filing = Filing.objects.select_for_update().select_related("person").filter(id=filing_id).first()
        if filing is None or (province is not None and filing.person.province != province):
            raise NotFound("No such filing.")
        if filing.revoked_at is not None:
            raise Conflict("already_revoked", "This filing is already revoked.")
        if filing.enddate < business_today():
            raise DomainError("filing_ended", "Only current or future filings may be revoked.")
        filing.revoked_at = timezone.now()
        filing.save(update_fields=["revoked_at"])
        audit_principal(principal, "filing_revoke", "filing", str(filing.id),
                        detail={"psn_no": filing.person.psn_no})
    return filing
