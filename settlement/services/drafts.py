"""One settlement computed against a batch's lookups, before anything is written (spec/policy.md
§Who may settle here, §The split; checks after the person in spec order: out of area and filing,
policy, catalogue, the split, the money format, the accumulators' bound).

A :class:`Draft` holds the unsaved rows; :func:`draft_apply` makes it the batch's truth for the
items after it (balance, accumulator, serial, temporary filing). Nothing here queries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from accounts.models import Filing, Person
from clearing.services.cycles import business_day
from core.errors import DomainError, Invalid, field_error
from core.ids import new_setl_id
from core.money import MAX_MONEY
from settlement import eligibility as elig
from settlement.models import Accumulator, FeeDetail, Settlement
from settlement.requests import SettlementRequest
from settlement.services.accumulators import accumulator_moved
from settlement.services.lookups import BatchLookups
from settlement.split import (
    LINE_MONEY_FIGURES,
    MONEY_FIGURES,
    MOVED,
    SETTLEMENT_FIGURES,
    LineIn,
    SplitResult,
    Standing,
    split_bill,
)


@dataclass
class Draft:
    """A settlement ready to write: the row, its lines, the accumulator row after it, the
    person's balance after it, a temporary filing to record first (or None) and the annual cap
    left before it (policy's ``annual_cap`` minus the year's fund paid, at least 0; the NHSA
    ``crt_payb_lmt_amt``)."""

    settlement: Settlement
    lines: list[FeeDetail]
    accumulator: Accumulator
    balance: Decimal
    filing: Filing | None
    cap_left: Decimal


def _check_bounds(r: SplitResult) -> None:
    """Every computed amount must fit the money format (spec/README.md §Units), else ``400
    invalid`` naming ``feedetail``: never a database overflow, never an out-of-format answer."""
    amounts = [getattr(r, n) for n in MONEY_FIGURES]
    amounts += [getattr(o, n) for o in r.lines for n in LINE_MONEY_FIGURES]
    if any(abs(v) > MAX_MONEY for v in amounts):
        raise Invalid([field_error("feedetail", "total_too_large",
                                   f"The bill's amounts must not exceed {MAX_MONEY}.")])


def settlement_draft(
    lk: BatchLookups, req: SettlementRequest, fingerprint: str, person: Person, setl_time: dt.datetime
) -> Draft:
    """Filing, policy, catalogue and the split for ``setl_time``'s business day; the rows to write.
    Raises the refusals (``not_out_of_area``, ``no_filing``, ``no_policy``, ``400 invalid``
    ``total_too_large``, ``accumulator_overflow``)."""
    institution, day = lk.institution, business_day(setl_time)
    use = elig.filing_for(person, institution, req.med_type, day, lk.filings.get(person.pk, []))
    policy = elig.policy_for(person, institution, req.med_type_group, day, lk.reference)
    terms = elig.catalogue_terms(institution.province, req, lk.reference)
    key = (person.pk, day.year, req.insutype, req.med_type_group)
    acc = lk.accumulators.get(key)
    standing = Standing(
        deductible_used=acc.deductible_used if acc else Decimal("0.00"),
        fund_paid=acc.fund_paid if acc else Decimal("0.00"),
        balance=person.acct_balance,
    )
    lines = [
        LineIn(cnt=ln.cnt, pric=ln.pric, amount=ln.amount, terms=t)
        for ln, t in zip(req.lines, terms, strict=True)
    ]
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
    filing = elig.temporary_filing(person, use, day) if use is not None and use.create else None
    s = settlement_row(lk, person, req, use, result, setl_time=setl_time)
    s.filing = filing or (use.filing if use else None)
    s.fingerprint = fingerprint
    return Draft(
        settlement=s,
        lines=fee_lines(s, req, result),
        accumulator=accumulator_moved(acc, key, result.act_pay_dedc, result.hifp_pay),
        balance=person.acct_balance - result.acct_pay,
        filing=filing,
        cap_left=max(Decimal("0.00"), policy.annual_cap - standing.fund_paid),
    )


def draft_apply(lk: BatchLookups, d: Draft) -> None:
    """The draft is this batch's truth now: later items see its balance, accumulator, serial and filing."""
    s, person = d.settlement, d.settlement.person
    person.acct_balance = d.balance
    a = d.accumulator
    lk.accumulators[(a.person_id, a.year, a.insutype, a.med_type_group)] = a
    if s.medins_setl_id:
        lk.known[s.medins_setl_id] = s
    if d.filing is not None:
        lk.filing_recorded(d.filing)


def settlement_row(
    lk: BatchLookups,
    person: Person,
    req: SettlementRequest,
    use: elig.FilingUse | None,
    r: SplitResult,
    *,
    setl_time: dt.datetime,
) -> Settlement:
    """The unsaved settlement row (ids issued here; a pre-issued ``mdtrt_id`` kept)."""
    institution, day = lk.institution, business_day(setl_time)
    return Settlement(
        setl_id=new_setl_id("S"),
        mdtrt_id=req.mdtrt_id or new_setl_id("M"),
        institution=institution,
        medins_setl_id=req.serial,
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
        setl_time=setl_time,
        setl_date=day,
        clr_date=lk.clr_date,
        accum_year=day.year,
        med_type_group=req.med_type_group,
        filing_type=use.filing_type if use else "",
        filing_temporary=bool(use and use.temporary),
        filing_created_now=bool(use and use.create),
        **{name: getattr(r, name) for name in SETTLEMENT_FIGURES},
        **{moved: getattr(r, figure) for moved, figure in MOVED.items()},
    )


def fee_lines(s: Settlement, req: SettlementRequest, r: SplitResult) -> list[FeeDetail]:
    """The unsaved fee lines of ``s``."""
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
            warn=o.warn or "",
            **{name: getattr(o, name) for name in LINE_MONEY_FIGURES},
        )
        for ln, o in zip(req.lines, r.lines, strict=True)
    ]
