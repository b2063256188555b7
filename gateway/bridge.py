"""The one place the gateway calls the settlement services (spec/nhsa-gateway.md §4.2): it builds
the typed :class:`settlement.requests.SettlementRequest` from a visit (with its pre-issued
``mdtrt_id``) and calls the same public services as the REST door, so rules, check order,
exactly-once, audit and clearing items are the same.

§3.4 puts ``insuplc_mismatch`` after policy.md's person checks and before out of area: ``between``
runs the person checks (:func:`settlement.eligibility.person_for_request`) and then the gateway's
own check, before the service runs them again with everything after.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from accounts.models import Institution, Person
from core.errors import DomainError
from settlement.eligibility import check_line_amounts, person_for_request
from settlement.models import Settlement
from settlement.request_parsing import Errors, credential
from settlement.requests import FeeLine, LookupRequest, ReversalRequest, SettlementRequest
from settlement.services.drafts import Draft
from settlement.services.lookup import person_lookup
from settlement.services.reverse import settlement_reverse
from settlement.services.settle import settlement_create, settlement_preview_draft

PersonCheck = Callable[[Person], None]
CONFLICT = "medins_setl_id_conflict"


def normalised_credential(cred: dict[str, str]) -> tuple[str, str, str | None]:
    """``mdtrt_cert_type``/``mdtrt_cert_no``/``card_sn`` as the REST parser normalises them.
    Raises ``400 invalid`` (``invalid_certno`` for a bad check digit)."""
    errs = Errors()
    cert_type, cert_no, card_sn = credential(cred, errs)
    if errs.items or cert_type is None or cert_no is None:
        raise DomainError("invalid", "credential", status=400, errors=errs.items)
    return cert_type, cert_no, card_sn


def settle_request(
    *,
    serial: str | None,
    cred: dict[str, str],
    insutype: str,
    med_type: str,
    begntime: dt.datetime,
    endtime: dt.datetime | None,
    dise_codg: str,
    acct_used_flag: str,
    lines: list[FeeLine],
    mdtrt_id: str,
) -> SettlementRequest:
    """The service's request for a visit's bill (``medins_setl_id`` = the ``msgid``; None: preview)."""
    cert_type, cert_no, card_sn = normalised_credential(cred)
    return SettlementRequest(
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
        mdtrt_id=mdtrt_id,
    )


def _checked(req: SettlementRequest, between: PersonCheck) -> Person:
    """Line amounts, the person and policy.md's person checks, then ``between``: the person, whom
    the service then takes as found (not looked up again)."""
    check_line_amounts(req)
    person = person_for_request(req)
    between(person)
    return person


def settle(
    *, institution: Institution, req: SettlementRequest, principal: Any, between: PersonCheck
) -> tuple[Settlement, Decimal]:
    """Record the settlement (the caller's transaction holds the visit lock); returns it and the
    annual cap left before it. The serial already recorded through the REST door →
    ``medins_setl_id_conflict`` (answered as ``msgid_conflict``)."""
    person = _checked(req, between)
    outcome = settlement_create(institution=institution, request=req, principal=principal, person=person)
    if not outcome.created or outcome.cap_left is None:
        raise DomainError(CONFLICT, "serial already used", status=409)
    return outcome.settlement, outcome.cap_left


def preview(*, institution: Institution, req: SettlementRequest, between: PersonCheck) -> Draft:
    """Trial settlement: same checks and split, records nothing; the unsaved settlement, its lines
    and the annual cap left (:class:`settlement.services.drafts.Draft`)."""
    person = _checked(req, between)
    return settlement_preview_draft(institution=institution, request=req, person=person)


def reverse(
    *, institution: Institution, setl_id: str, serial: str, reason: str, principal: Any, kind: str
) -> Settlement:
    """Reverse a whole settlement (``kind`` ``reversal`` for 2208/2305, ``correction`` for 2601)."""
    fields: dict[str, Any] = {"setl_id": setl_id, "medins_setl_id": serial, "reason": reason}
    if "kind" in ReversalRequest.__dataclass_fields__:
        fields["kind"] = kind
    outcome = settlement_reverse(
        institution=institution, request=ReversalRequest(**fields), principal=principal
    )
    if not outcome.created:
        raise DomainError(CONFLICT, "serial already used", status=409)
    return outcome.settlement


def lookup(*, institution: Institution, cred: dict[str, str], principal: Any) -> dict[str, Any]:
    """The service's audited person lookup (1101)."""
    cert_type, cert_no, card_sn = normalised_credential(cred)
    return person_lookup(
        institution=institution, request=LookupRequest(cert_type, cert_no, card_sn), principal=principal
    )
