"""The one place the gateway calls the settlement services (spec/nhsa-gateway.md §4.2): it builds
the service's typed settle request from a visit and calls the same services as the REST door, so
rules, check order, exactly-once, audit and clearing items are the same.

``between`` runs after policy.md's person checks and before out of area (the envelope's
``insuplc_admdvs`` check of §3.4).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from django.db import IntegrityError

from accounts.models import Institution, Person
from clearing.services.cycles import business_day, open_cycle_date
from core.errors import DomainError
from settlement import eligibility as elig
from settlement.models import FeeDetail, Settlement
from settlement.requests import FeeLine, SettleRequest
from settlement.services import settle as settle_service
from settlement.services.reverse import settlement_reverse

PersonCheck = Callable[[Person], None]


def settle_request(
    *,
    serial: str,
    cred: dict[str, str],
    insutype: str,
    med_type: str,
    begntime: dt.datetime,
    endtime: dt.datetime | None,
    dise_codg: str,
    acct_used_flag: str,
    lines: list[FeeLine],
    mdtrt_id: str,
) -> SettleRequest:
    """The service's request for a visit's bill (``medins_setl_id`` = the ``msgid``)."""
    from settlement.requests import Errors, credential

    errs = Errors()
    cert_type, cert_no, card_sn = credential(cred, errs)
    if errs.items:
        e = errs.items[0]
        raise DomainError(
            e["code"] if e["code"] == "invalid_certno" else "invalid",
            e["message"],
            status=400,
            errors=errs.items,
        )
    req = SettleRequest(
        medins_setl_id=serial,
        cert_type=cert_type,
        cert_no=cert_no,
        card_sn=card_sn,
        psn_name=None,
        insutype=insutype,
        med_type=med_type,
        begntime=begntime,
        endtime=endtime,
        dise_codg=dise_codg,
        acct_used_flag=acct_used_flag,
        lines=tuple(lines),
    )
    return replace(req, mdtrt_id=mdtrt_id) if hasattr(req, "mdtrt_id") else req


def settle(
    *, institution: Institution, req: SettleRequest, principal: Any, between: PersonCheck, mdtrt_id: str
) -> Settlement:
    """Record the settlement (the caller's transaction holds the visit lock). A serial already
    recorded through the REST door → ``medins_setl_id_conflict`` (answered as ``msgid_conflict``)."""
    fingerprint = req.fingerprint()
    existing = settle_service.existing_by_serial(institution, req.medins_setl_id)
    if existing is not None:
        raise DomainError("medins_setl_id_conflict", "serial already used", status=409)
    _, person = settle_service.prepare_parsed(req, fingerprint, None)
    assert person is not None
    between(person)
    try:
        outcome = settle_service.settle_locked(
            institution=institution,
            req=req,
            fingerprint=fingerprint,
            person_id=person.pk,
            principal=principal,
        )
    except IntegrityError:
        raise DomainError("medins_setl_id_conflict", "serial already used", status=409) from None
    if not outcome.created:
        raise DomainError("medins_setl_id_conflict", "serial already used", status=409)
    s = outcome.settlement
    if s.mdtrt_id != mdtrt_id:  # until the service takes a pre-issued mdtrt_id (§4.2 change 1)
        Settlement.objects.filter(pk=s.pk).update(mdtrt_id=mdtrt_id)
        s.mdtrt_id = mdtrt_id
    return s


def preview(
    *, institution: Institution, req: SettleRequest, between: PersonCheck, now: dt.datetime
) -> tuple[Settlement, list[FeeDetail], Person]:
    """Trial settlement: same checks and split, records nothing; unsaved settlement and lines."""
    elig.check_line_amounts(req)
    person = elig.person_for_request(req)
    between(person)
    use, result = settle_service._split(institution, person, req, business_day(now))
    s = settle_service._row(
        institution, person, req, use, result, setl_time=now, clr_date=open_cycle_date(now)
    )
    return s, settle_service._lines(s, req, result), person


def reverse(
    *, institution: Institution, setl_id: str, serial: str, reason: str, principal: Any, kind: str
) -> Settlement:
    """Reverse a whole settlement (``kind`` ``reversal`` for 2208/2305, ``correction`` for 2601)."""
    outcome = settlement_reverse(
        institution=institution,
        setl_id=setl_id,
        data={"medins_setl_id": serial, "reason": reason},
        principal=principal,
    )
    if not outcome.created:
        raise DomainError("medins_setl_id_conflict", "serial already used", status=409)
    return outcome.settlement
