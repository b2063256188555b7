"""Reverse a whole settlement (spec/hospital-api.md §POST /settlements/{setl_id}/reversal).

Under ``select_for_update`` of the settlement row, then of its clearing item (the lock the dispute
services take: :func:`clearing.services.items.clearing_item_reversal_lock`, so a reversal and a
dispute never both move money) and of the person row, the reversal record is
written with every band negated, the accumulators and balance move back by exactly what the
settlement moved, and a negative clearing item goes into the cycle open now.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Institution, Person
from clearing.services.cycles import business_day, clearing_item_record, cycle_for_write
from clearing.services.items import clearing_item_reversal_lock
from core.audit import audit_principal
from core.crypto import blind_index
from core.errors import Conflict, DomainError, NotFound
from core.ids import new_setl_id
from core.principals import Principal
from settlement.models import Settlement
from settlement.requests import ReversalRequest
from settlement.selectors import settlement_by_serial
from settlement.services.accumulators import accumulator_move
from settlement.services.outcomes import SettleOutcome, replay_or_conflict
from settlement.split import FLOW_FIGURES, MOVED, RATIO_FIGURES
from settlement.transitions import settlement_status_move

# Derived from the one declaration of a settlement's figures (settlement.split.SplitResult): the
# flows and what was moved are negated, ratios copied, ``balc`` computed.
NEGATED = (*FLOW_FIGURES, *MOVED)
COPIED = (
    "person_id",
    "institution_id",
    "insutype",
    "med_type",
    "clr_type",
    "insuplc_admdvs",
    "mdtrtarea_admvs",
    "payer",
    "payee",
    "begntime",
    "endtime",
    "dise_codg",
    "acct_used_flag",
    "accum_year",
    "med_type_group",
    "mdtrt_id",
    *RATIO_FIGURES,
)


def reversal_fingerprint(orig_setl_id: str) -> str:
    return blind_index("reversal\x00" + orig_setl_id, purpose="fingerprint")


def settlement_reverse(
    *, institution: Institution, request: ReversalRequest, principal: Principal
) -> SettleOutcome:
    """Reverse settlement ``request.setl_id`` of ``institution`` under the serial
    ``request.medins_setl_id``. Returns the reversal record and ``created`` (False: replay).

    Raises ``DomainError``: ``404`` (unknown or another institution's), ``409 medins_setl_id_conflict``
    (serial used for something else), ``422 not_reversible`` (a reversal), ``409 already_reversed``,
    ``409 disputed`` (open, escalated or upheld dispute).
    """
    setl_id, serial, reason = request.setl_id, request.medins_setl_id, request.reason
    fingerprint = reversal_fingerprint(setl_id)
    try:
        with transaction.atomic():
            return _reverse_locked(institution, setl_id, serial, reason, fingerprint, principal,
                                   kind=request.kind)
    except IntegrityError:
        existing = settlement_by_serial(institution, serial)
        if existing is None:
            raise
        return replay_or_conflict(existing, fingerprint)


def _reverse_locked(
    institution: Institution, setl_id: str, serial: str, reason: str, fingerprint: str, principal: Principal,
    *, kind: str = "reversal",
) -> SettleOutcome:
    orig = Settlement.objects.select_for_update().filter(setl_id=setl_id, institution=institution).first()
    if orig is None:
        raise NotFound("No such settlement of this institution.")
    existing = settlement_by_serial(institution, serial)
    if existing is not None:
        return replay_or_conflict(existing, fingerprint)
    if orig.status == Settlement.Status.REVERSAL:
        raise DomainError("not_reversible", "A reversal cannot be reversed.", status=422)
    if orig.status == Settlement.Status.REVERSED:
        done = orig.reversals.first()
        raise Conflict(
            "already_reversed",
            "This settlement is already reversed.",
            extra={"reversal_setl_id": done.setl_id if done else None},
        )
    now, rev_setl_id = timezone.now(), new_setl_id("R")
    clearing_item_reversal_lock(setl_id=orig.setl_id, reversal_setl_id=rev_setl_id, at=now)  # 409 disputed
    person = Person.objects.select_for_update().get(pk=orig.person_id)
    cycle = cycle_for_write()
    rev = Settlement(
        setl_id=rev_setl_id,
        medins_setl_id=serial,
        fingerprint=fingerprint,
        status=Settlement.Status.REVERSAL,
        orig=orig,
        reason=reason,
        reversal_kind=kind,
        setl_time=now,
        setl_date=business_day(now),
        clr_date=cycle.clr_date,
    )
    for name in COPIED:
        setattr(rev, name, getattr(orig, name))
    for name in NEGATED:
        setattr(rev, name, -getattr(orig, name))
    rev.balc = person.acct_balance + orig.acct_moved
    rev.save(force_insert=True)
    accumulator_move(person_id=person.pk, key=(person.pk, rev.accum_year, rev.insutype, rev.med_type_group),
                     dedc=rev.dedc_moved, fund=rev.fund_moved)
    if orig.acct_moved:
        Person.objects.filter(pk=person.pk).update(acct_balance=rev.balc)
    settlement_status_move(orig, Settlement.Status.REVERSED, principal=principal)
    clearing_item_record(
        setl_id=rev.setl_id,
        kind="reversal",
        payer=rev.payer,
        payee=rev.payee,
        clr_amt=rev.clr_amt,
        fixmedins_code=institution.fixmedins_code,
        cycle=cycle,
    )
    audit_principal(
        principal,
        "settlement.reverse",
        "settlement",
        rev.setl_id,
        {"orig_setl_id": orig.setl_id, "medins_setl_id": serial, "clr_amt": str(rev.clr_amt)},
    )
    rev.person, rev.institution = person, institution
    return SettleOutcome(rev, created=True)
