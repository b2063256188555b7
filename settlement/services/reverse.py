"""Reverse a whole settlement (spec/hospital-api.md §POST /settlements/{setl_id}/reversal).

Under ``select_for_update`` of the settlement row (the lock the dispute code takes too, so a
reversal and a dispute never both succeed) and then of the person row, the reversal record is
written with every band negated, the accumulators and balance move back by exactly what the
settlement moved, and a negative clearing item goes into the cycle open now.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Institution, Person
from clearing import selectors as clearing_selectors
from clearing.services.cycles import business_day, clearing_item_record, cycle_for_write
from core.audit import audit_principal
from core.crypto import blind_index
from core.errors import Conflict, DomainError, NotFound
from core.ids import new_setl_id
from core.principals import Principal
from settlement.models import Settlement
from settlement.requests import ReversalRequest
from settlement.services.settle import (
    SettleOutcome,
    existing_by_serial,
    move_accumulator,
    replay_or_conflict,
    settlement_status_move,
)

NEGATED = (
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
    "act_pay_dedc",
    "hifp_pay",
    "fund_pay_sumamt",
    "psn_part_amt",
    "acct_pay",
    "psn_cash_pay",
    "clr_amt",
    "dedc_moved",
    "fund_moved",
    "acct_moved",
)
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
    "pool_prop_selfpay",
    "accum_year",
    "med_type_group",
    "mdtrt_id",
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
            return _reverse_locked(institution, setl_id, serial, reason, fingerprint, principal)
    except IntegrityError:
        existing = existing_by_serial(institution, serial)
        if existing is None:
            raise
        return replay_or_conflict(existing, fingerprint)


def _reverse_locked(
    institution: Institution, setl_id: str, serial: str, reason: str, fingerprint: str, principal: Principal
) -> SettleOutcome:
    orig = Settlement.objects.select_for_update().filter(setl_id=setl_id, institution=institution).first()
    if orig is None:
        raise NotFound("No such settlement of this institution.")
    existing = existing_by_serial(institution, serial)
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
    if clearing_selectors.settlement_blocking_dispute_exists(orig.setl_id):
        raise Conflict("disputed", "This settlement has an open or upheld dispute; it cannot be reversed.")
    person = Person.objects.select_for_update().get(pk=orig.person_id)
    cycle = cycle_for_write()
    now = timezone.now()
    rev = Settlement(
        setl_id=new_setl_id("R"),
        medins_setl_id=serial,
        fingerprint=fingerprint,
        status=Settlement.Status.REVERSAL,
        orig=orig,
        reason=reason,
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
    move_accumulator(person, rev)
    if orig.acct_moved:
        Person.objects.filter(pk=person.pk).update(acct_balance=rev.balc)
    settlement_status_move(orig, Settlement.Status.REVERSED)
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
