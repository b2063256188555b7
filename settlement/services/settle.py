"""Settle one bill and preview one (spec/hospital-api.md §POST /settlements, §POST
/settlements/preview; spec/policy.md).

A single settlement is a batch of one (:mod:`settlement.services.batch`): the same checks in the
same order, the same locks (the person's row, the open cycle's shared lock) and the same writes,
all in one transaction. Exactly once: ``(institution, medins_setl_id)`` is unique in the database;
a known serial is replayed (same fingerprint, ``200``) or refused (``409 medins_setl_id_conflict``).
"""

from __future__ import annotations

from django.utils import timezone

from accounts.models import Institution, Person
from clearing.services.cycles import open_cycle_date
from core.errors import DomainError
from core.principals import Principal
from settlement import eligibility as elig
from settlement.models import FeeDetail, Settlement
from settlement.requests import SettlementRequest
from settlement.services.batch import settle_requests
from settlement.services.drafts import Draft, settlement_draft
from settlement.services.lookups import batch_lookups_load
from settlement.services.outcomes import SettleOutcome, replay_or_conflict

__all__ = [
    "SettleOutcome",
    "replay_or_conflict",
    "settlement_create",
    "settlement_preview",
    "settlement_preview_draft",
]


def settlement_create(
    *,
    institution: Institution,
    request: SettlementRequest,
    principal: Principal,
    person: Person | None = None,
) -> SettleOutcome:
    """Settle one bill (``POST /api/v1/settlements``): ``request`` is already valid in format.

    Returns the settlement and ``created`` (False for a replay). Raises ``DomainError``: ``422``
    (``amount_mismatch``, ``unknown_person``, ``unsupported_cert_type``, ``name_mismatch``,
    ``insutype_mismatch``, ``not_insured``, ``not_out_of_area``, ``no_filing``, ``no_policy``,
    ``accumulator_overflow``), ``400 invalid`` (``feedetail total_too_large``, ``unstorable_value``)
    or ``409 medins_setl_id_conflict``; an error moves nothing. ``person``: the request's person
    when the caller already found it by the credential and ran
    :func:`settlement.eligibility.person_checks` (the gateway's check order, §3.4).
    """
    persons = None if person is None else [person]
    (result,) = settle_requests(institution, [request], principal, isolate=False, persons=persons)
    if isinstance(result, DomainError):
        raise result
    return result


def settlement_preview(
    *, institution: Institution, request: SettlementRequest
) -> tuple[Settlement, list[FeeDetail]]:
    """Trial settlement (``POST /api/v1/settlements/preview``): the same checks and split for now,
    records and moves nothing (no lock). Returns the unsaved settlement and its unsaved lines.
    Raises as :func:`settlement_create` (never ``409``)."""
    draft = settlement_preview_draft(institution=institution, request=request)
    return draft.settlement, draft.lines


def settlement_preview_draft(
    *, institution: Institution, request: SettlementRequest, person: Person | None = None
) -> Draft:
    """:func:`settlement_preview` as the whole :class:`Draft` (with ``cap_left``); ``person`` as
    for :func:`settlement_create`."""
    now = timezone.now()
    if person is None:
        elig.check_line_amounts(request)
        person = elig.person_for_request(request)
    lk = batch_lookups_load(institution, {person.pk: person}, [request], clr_date=open_cycle_date(now))
    draft = settlement_draft(lk, request, "", person, now)
    draft.settlement.setl_id, draft.settlement.mdtrt_id = "", request.mdtrt_id or ""  # nothing issued
    return draft
