"""Settle, preview and batch (spec/hospital-api.md, spec/policy.md).

Exactly once: ``(institution, medins_setl_id)`` is unique in the database. A request whose serial
is already recorded is answered from the stored rows (same fingerprint → replay, ``200``) or
refused (``409 medins_setl_id_conflict``). The settlement row, its fee lines, the accumulators, the
person's account balance, a temporary filing, the clearing item and the audit record are written in
one transaction under ``select_for_update`` of the person row, so concurrent bills of one person
give the result of some serial order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Institution, Person
from clearing.services.cycles import business_day, clearing_item_record, cycle_for_write, open_cycle_date
from core.audit import audit_principal
from core.errors import Conflict, DomainError, Invalid, field_error
from core.ids import new_setl_id
from core.money import MAX_MONEY
from core.principals import Principal
from settlement import eligibility as elig
from settlement.models import Accumulator, FeeDetail, Settlement
from settlement.requests import SettlementRequest
from settlement.split import LineIn, SplitResult, Standing, split_bill

if TYPE_CHECKING:
    from settlement.services.batch_state import BatchState

ALLOWED_MOVES = {Settlement.Status.SETTLED: {Settlement.Status.REVERSED}}


@dataclass
class SettleOutcome:
    """A recorded settlement (or reversal) and whether this call created it (201) or replayed it (200)."""

    settlement: Settlement
    created: bool


def settlement_status_move(settlement: Settlement, to: str) -> None:
    """The only place a settlement's ``status`` changes: settled → reversed. Caller holds the row lock."""
    if to not in ALLOWED_MOVES.get(settlement.status, set()):
        raise ValueError(f"settlement {settlement.setl_id} cannot move from {settlement.status} to {to}")
    Settlement.objects.filter(pk=settlement.pk, status=settlement.status).update(status=to)
    settlement.status = to


def existing_by_serial(institution: Institution, serial: str | None) -> Settlement | None:
    """The settlement or reversal recorded under ``serial`` by ``institution`` (unique), with
    ``person``, ``institution`` and ``orig`` loaded; None when there is none (or no serial)."""
    if not serial:
        return None
    return existing_by_serials(institution, [serial]).get(serial)


def existing_by_serials(institution: Institution, serials: list[str]) -> dict[str, Settlement]:
    """The recorded settlements/reversals of ``institution`` under any of ``serials``, by serial, with
    ``person``, ``institution`` and ``orig`` loaded. One narrow query when none is recorded (the
    usual case); the persons and originals of those found take one more query each."""
    wanted = {x for x in serials if x}
    if not wanted:
        return {}
    rows = list(Settlement.objects.filter(institution=institution, medins_setl_id__in=wanted).order_by())
    if not rows:
        return {}
    persons = Person.objects.in_bulk({r.person_id for r in rows})
    origs = Settlement.objects.in_bulk({r.orig_id for r in rows if r.orig_id})
    for row in rows:
        row.institution, row.person = institution, persons[row.person_id]
        if row.orig_id:
            row.orig = origs[row.orig_id]
    return {row.medins_setl_id: row for row in rows}


def replay_or_conflict(existing: Settlement, fingerprint: str) -> SettleOutcome:
    """Same business content → replay; anything else under that serial → ``409``."""
    if existing.fingerprint == fingerprint:
        return SettleOutcome(existing, created=False)
    raise Conflict(
        "medins_setl_id_conflict",
        f"medins_setl_id {existing.medins_setl_id} was already used for {existing.setl_id} "
        "with different content.",
        extra={"setl_id": existing.setl_id},
    )


def _standing(person: Person, acc: Accumulator | None) -> Standing:
    return Standing(
        deductible_used=acc.deductible_used if acc else Decimal("0.00"),
        fund_paid=acc.fund_paid if acc else Decimal("0.00"),
        balance=person.acct_balance,
    )


def _accumulator_of(
    person: Person, year: int, req: SettlementRequest, state: BatchState | None
) -> Accumulator | None:
    """The accumulator row a bill of ``req`` in ``year`` moves (None when it has none yet)."""
    if state is not None:
        return state.accumulators.get((person.pk, year, req.insutype, req.med_type_group))
    return Accumulator.objects.filter(
        person=person, year=year, insutype=req.insutype, med_type_group=req.med_type_group
    ).first()


def _split(
    institution: Institution,
    person: Person,
    req: SettlementRequest,
    day: dt.date,
    state: BatchState | None = None,
    acc: Accumulator | None | bool = False,
) -> tuple[elig.FilingUse | None, SplitResult]:
    """Filing, policy, catalogue and the split for the settlement ``day`` (checks in spec order).
    ``acc``: the accumulator row already read (``False``: read it here)."""
    filings = state.filings.get(person.pk, []) if state is not None else None
    use = elig.filing_for(person, institution, req.med_type, day, filings)
    policy = elig.policy_for(
        person, institution, req.med_type_group, day, cache=state.policies if state is not None else None
    )
    terms = elig.catalogue_terms(institution.province, req, state.catalogue if state is not None else None)
    lines = [
        LineIn(cnt=ln.cnt, pric=ln.pric, amount=ln.amount, terms=t)
        for ln, t in zip(req.lines, terms, strict=True)
    ]
    if acc is False:
        acc = _accumulator_of(person, day.year, req, state)
    standing = _standing(person, acc)
    result = split_bill(
        lines,
        elig.policy_terms(policy),
        standing,
        temporary_filing=bool(use and use.temporary),
        use_account=req.acct_used_flag == "1" and person.insutype == "310",
    )
    _check_bounds(result)
    if max(standing.deductible_used + result.act_pay_dedc, standing.fund_paid + result.hifp_pay) > MAX_MONEY:
        raise DomainError("accumulator_overflow", f"The year's accumulators would exceed {MAX_MONEY}.")
    return use, result


def _check_bounds(r: SplitResult) -> None:
    """Every computed amount must fit the money format ``^-?\\d{1,14}\\.\\d{2}$`` (spec/README.md §Units),
    else ``400 invalid`` naming ``feedetail``: never a database overflow, never an out-of-format answer."""
    amounts = [v for k, v in vars(r).items() if k not in ("lines", "pool_prop_selfpay")]
    amounts += [v for o in r.lines for v in (o.fulamt_ownpay_amt, o.overlmt_amt, o.preselfpay_amt,
                                               o.inscp_scp_amt)]
    if any(abs(v) > MAX_MONEY for v in amounts):
        raise Invalid([field_error("feedetail", "total_too_large",
                                   f"The bill's amounts must not exceed {MAX_MONEY}.")])


def _row(
    institution: Institution,
    person: Person,
    req: SettlementRequest,
    use: elig.FilingUse | None,
    r: SplitResult,
    *,
    setl_time: dt.datetime,
    clr_date: dt.date | None,
) -> Settlement:
    day = business_day(setl_time)
    return Settlement(
        setl_id="",
        mdtrt_id=req.mdtrt_id or "",
        institution=institution,
        medins_setl_id=req.medins_setl_id or "",
        person=person,
        status=Settlement.Status.SETTLED,
        insutype=req.insutype,
        med_type=req.med_type,
        clr_type=req.clr_type,
        insuplc_admdvs=person.insuplc_admdvs,
        mdtrtarea_admvs=institution.admdvs,
        payer=person.province,
        payee=institution.province,
        begntime=req.begntime,
        endtime=req.endtime,
        dise_codg=req.dise_codg,
        acct_used_flag=req.acct_used_flag,
        medfee_sumamt=r.medfee_sumamt,
        fulamt_ownpay_amt=r.fulamt_ownpay_amt,
        overlmt_selfpay=r.overlmt_selfpay,
        preselfpay_amt=r.preselfpay_amt,
        inscp_scp_amt=r.inscp_scp_amt,
        act_pay_dedc=r.act_pay_dedc,
        pool_prop_selfpay=r.pool_prop_selfpay,
        hifp_pay=r.hifp_pay,
        fund_pay_sumamt=r.fund_pay_sumamt,
        psn_part_amt=r.psn_part_amt,
        acct_pay=r.acct_pay,
        psn_cash_pay=r.psn_cash_pay,
        balc=r.balc,
        clr_amt=r.clr_amt,
        setl_time=setl_time,
        setl_date=day,
        clr_date=clr_date,
        accum_year=day.year,
        med_type_group=req.med_type_group,
        dedc_moved=r.act_pay_dedc,
        fund_moved=r.hifp_pay,
        acct_moved=r.acct_pay,
        filing=use.filing if use else None,
        filing_type=use.filing_type if use else "",
        filing_temporary=bool(use and use.temporary),
        filing_created_now=bool(use and use.create),
    )


def _lines(s: Settlement, req: SettlementRequest, r: SplitResult) -> list[FeeDetail]:
    return [
        FeeDetail(
            settlement=s,
            feedetl_sn=ln.feedetl_sn,
            med_list_codg=ln.med_list_codg,
            fee_ocur_time=ln.fee_ocur_time,
            cnt=ln.cnt,
            pric=ln.pric,
            det_item_fee_sumamt=ln.amount,
            chrgitm_lv=o.chrgitm_lv,
            selfpay_prop=o.selfpay_prop,
            pric_uplmt_amt=o.pric_uplmt_amt,
            fulamt_ownpay_amt=o.fulamt_ownpay_amt,
            overlmt_amt=o.overlmt_amt,
            preselfpay_amt=o.preselfpay_amt,
            inscp_scp_amt=o.inscp_scp_amt,
            warn=o.warn or "",
        )
        for ln, o in zip(req.lines, r.lines, strict=True)
    ]


def move_accumulator(person: Person, s: Settlement) -> None:
    """Add what ``s`` moved (negative for a reversal) to its accumulator row.

    The caller holds the person's row lock, so read-modify-write is safe; the sum is done in
    ``Decimal`` (not as SQL arithmetic, which SQLite would do in binary floating point)."""
    acc, _ = Accumulator.objects.get_or_create(
        person=person, year=s.accum_year, insutype=s.insutype, med_type_group=s.med_type_group
    )
    acc.deductible_used += s.dedc_moved
    acc.fund_paid += s.fund_moved
    acc.save(update_fields=["deductible_used", "fund_paid"])


def _accumulator_moved(acc: Accumulator | None, person: Person, s: Settlement) -> Accumulator:
    """Add what ``s`` moved to its accumulator row (created when ``acc`` is None) and return the row
    as stored; ``acc`` itself is not changed (a rolled-back savepoint leaves the caller's copy true).
    The caller holds the person's row lock (every accumulator writer takes it), so read-modify-write
    is safe; sums in ``Decimal``, as :func:`move_accumulator`."""
    if acc is None:
        return Accumulator.objects.create(
            person=person,
            year=s.accum_year,
            insutype=s.insutype,
            med_type_group=s.med_type_group,
            deductible_used=Decimal("0.00") + s.dedc_moved,
            fund_paid=Decimal("0.00") + s.fund_moved,
        )
    moved = Accumulator(
        pk=acc.pk,
        person_id=acc.person_id,
        year=acc.year,
        insutype=acc.insutype,
        med_type_group=acc.med_type_group,
        deductible_used=acc.deductible_used + s.dedc_moved,
        fund_paid=acc.fund_paid + s.fund_moved,
    )
    Accumulator.objects.filter(pk=acc.pk).update(
        deductible_used=moved.deductible_used, fund_paid=moved.fund_paid
    )
    return moved


def settle_locked(
    *,
    institution: Institution,
    req: SettlementRequest,
    fingerprint: str,
    person_id: int,
    principal: Any,
    cycle: Any = None,
    state: BatchState | None = None,
) -> SettleOutcome:
    """Record one settlement inside the caller's transaction (a savepoint of its own).

    Locks the person row, re-checks the serial under the lock (a concurrent twin that committed
    first is replayed), then checks filing and policy for today and writes everything. With a
    ``state`` (:func:`batch_state_load`, the batch's persons already locked), the lock, the serial
    re-check, accumulators, catalogue and policies come from it, and it is kept current once the
    savepoint is released.
    """
    with transaction.atomic():
        if state is None:
            person = Person.objects.select_for_update().get(pk=person_id)
            existing = existing_by_serial(institution, req.medins_setl_id)
        else:
            person = state.persons[person_id]
            existing = state.known.get(req.medins_setl_id or "")
        if existing is not None:
            return replay_or_conflict(existing, fingerprint)
        cycle = cycle or cycle_for_write()
        setl_time = timezone.now()
        day = business_day(setl_time)
        acc = _accumulator_of(person, day.year, req, state)
        use, result = _split(institution, person, req, day, state, acc)
        s = _row(institution, person, req, use, result, setl_time=setl_time, clr_date=cycle.clr_date)
        if use is not None and use.create:
            s.filing = elig.record_temporary_filing(person, use, s.setl_date)
        s.setl_id, s.fingerprint = new_setl_id("S"), fingerprint
        s.mdtrt_id = req.mdtrt_id or new_setl_id("M")
        s.save(force_insert=True)
        FeeDetail.objects.bulk_create(_lines(s, req, result))
        acc = _accumulator_moved(acc, person, s)
        balance = person.acct_balance - result.acct_pay
        if result.acct_pay:
            Person.objects.filter(pk=person.pk).update(acct_balance=balance)
        clearing_item_record(
            setl_id=s.setl_id,
            kind="settlement",
            payer=s.payer,
            payee=s.payee,
            clr_amt=s.clr_amt,
            fixmedins_code=institution.fixmedins_code,
            cycle=cycle,
        )
        audit_principal(
            principal,
            "settlement.create",
            "settlement",
            s.setl_id,
            {
                "medins_setl_id": s.medins_setl_id,
                "clr_amt": str(s.clr_amt),
                "filing_created": s.filing_created_now,
            },
        )
    if state is not None:  # the savepoint is released: what it wrote is now this batch's truth
        person.acct_balance = balance
        state.accumulators[(person.pk, acc.year, acc.insutype, acc.med_type_group)] = acc
        state.known[s.medins_setl_id] = s
        if s.filing_created_now:
            state.filing_recorded(s.filing)
    s.person, s.institution = person, institution
    return SettleOutcome(s, created=True)


def prepare_parsed(
    req: SettlementRequest, fingerprint: str, existing: Settlement | None
) -> tuple[SettleOutcome | None, Person | None]:
    """The checks after the format (400), given the settlement already recorded under the
    request's serial (or None): replay/conflict, else line amounts (422), then the person checks.
    Returns ``(replay, None)`` or ``(None, person)``."""
    if existing is not None:
        return replay_or_conflict(existing, fingerprint), None
    elig.check_line_amounts(req)
    return None, elig.person_for_request(req)


def settlement_create(
    *, institution: Institution, request: SettlementRequest, principal: Principal
) -> SettleOutcome:
    """Settle one bill (``POST /api/v1/settlements``): ``request`` is already valid in format.

    Returns the settlement and ``created`` (False for a replay). Raises ``DomainError``: ``422``
    (``amount_mismatch``, ``unknown_person``, ``unsupported_cert_type``, ``name_mismatch``,
    ``insutype_mismatch``, ``not_insured``, ``not_out_of_area``, ``no_filing``, ``no_policy``,
    ``accumulator_overflow``), ``400 invalid`` (``feedetail total_too_large``) or
    ``409 medins_setl_id_conflict``; an error moves nothing.
    """
    fingerprint = request.fingerprint()
    existing = existing_by_serial(institution, request.medins_setl_id)
    replay, person = prepare_parsed(request, fingerprint, existing)
    if replay is not None:
        return replay
    assert person is not None
    try:  # settle_locked's own atomic block is the transaction (a savepoint when nested)
        return settle_locked(
            institution=institution,
            req=request,
            fingerprint=fingerprint,
            person_id=person.pk,
            principal=principal,
        )
    except IntegrityError:
        # A concurrent twin with the same serial committed between our check and our insert.
        existing = existing_by_serial(institution, request.medins_setl_id)
        if existing is None:
            raise
        return replay_or_conflict(existing, fingerprint)


def settlement_preview(
    *, institution: Institution, request: SettlementRequest
) -> tuple[Settlement, list[FeeDetail]]:
    """Trial settlement (``POST /api/v1/settlements/preview``): same checks and split, records and
    moves nothing. Returns an unsaved settlement and its unsaved lines. Raises as
    :func:`settlement_create` (but never ``409``)."""
    now = timezone.now()
    elig.check_line_amounts(request)
    person = elig.person_for_request(request)
    use, result = _split(institution, person, request, business_day(now))
    s = _row(institution, person, request, use, result, setl_time=now, clr_date=open_cycle_date(now))
    return s, _lines(s, request, result)
