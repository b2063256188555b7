"""How a bill is split (spec/policy.md §Fee lines and §The split). Pure ``Decimal`` arithmetic, no
Django imports, so verifiers and property tests can use it with plain values.

Rounding is ROUND_HALF_UP to 0.01 exactly where the spec says "round": a line's round(cnt × pric),
round(cnt × pric_uplmt_amt), round((a − overlmt) × selfpay_prop) and
round((inscp − act_pay_dedc) × pool_prop_selfpay). Everything else is exact sums, differences,
minima and maxima of 2-place amounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
RATIO_ZERO = Decimal("0.0000")

CLASS_A, CLASS_B, CLASS_C = "01", "02", "03"  # 甲, 乙, 丙


def round_half_up(value: Decimal) -> Decimal:
    """The spec's "round": ROUND_HALF_UP to 0.01."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class CatalogueTerms:
    """The catalogue row valid on the fee's date: class, 先行自付 ratio, unit price ceiling (or None)."""

    chrgitm_lv: str
    selfpay_prop: Decimal = RATIO_ZERO
    pric_uplmt_amt: Decimal | None = None


@dataclass(frozen=True)
class LineIn:
    """A fee line: ``cnt`` (> 0), ``pric`` (≥ 0), ``amount`` = ``det_item_fee_sumamt`` (2 places)
    and the catalogue terms (None when the code is not in the catalogue)."""

    cnt: Decimal
    pric: Decimal
    amount: Decimal
    terms: CatalogueTerms | None


@dataclass(frozen=True)
class LineOut:
    chrgitm_lv: str
    selfpay_prop: Decimal
    pric_uplmt_amt: Decimal | None
    fulamt_ownpay_amt: Decimal
    overlmt_amt: Decimal
    preselfpay_amt: Decimal
    inscp_scp_amt: Decimal
    warn: str | None


@dataclass(frozen=True)
class PolicyTerms:
    """The insured region's policy: amounts in yuan, ratios in [0, 1]; ``deductible_basis`` is
    ``visit`` or ``year``."""

    deductible: Decimal
    deductible_basis: str
    pool_prop: Decimal
    annual_cap: Decimal
    temp_prop_reduction: Decimal = RATIO_ZERO


@dataclass(frozen=True)
class Standing:
    """Where the person stands before this bill: accumulators of the year/insutype/group and the
    personal-account balance (yuan)."""

    deductible_used: Decimal = ZERO
    fund_paid: Decimal = ZERO
    balance: Decimal = ZERO


def _money(*, flow: bool = True) -> Decimal:
    """A money figure of a settlement; ``flow`` figures are negated by a reversal (``balc`` is a
    balance, not a flow)."""
    return field(default=ZERO, metadata={"unit": "money", "flow": flow})


@dataclass(frozen=True)
class SplitResult:
    """Totals and per-line results. ``fund_pay_sumamt + psn_part_amt = medfee_sumamt``,
    ``acct_pay + psn_cash_pay = psn_part_amt``, and the four bands add up to ``medfee_sumamt``.
    What moves: ``act_pay_dedc`` onto ``deductible_used``, ``hifp_pay`` onto ``fund_paid``,
    ``acct_pay`` off the balance (leaving ``balc``).

    The figures below are THE declaration of a settlement's amounts: the stored row
    (:data:`SETTLEMENT_FIGURES`), the reversal's negation (:data:`FLOW_FIGURES`), the response and
    the OpenAPI serializer are derived from it, in this order (the response's order)."""

    lines: list[LineOut] = field(default_factory=list)
    medfee_sumamt: Decimal = _money()
    fulamt_ownpay_amt: Decimal = _money()
    overlmt_selfpay: Decimal = _money()
    preselfpay_amt: Decimal = _money()
    inscp_scp_amt: Decimal = _money()
    act_pay_dedc: Decimal = _money()
    pool_prop_selfpay: Decimal = field(default=RATIO_ZERO, metadata={"unit": "ratio", "flow": False})
    hifp_pay: Decimal = _money()
    fund_pay_sumamt: Decimal = _money()
    psn_part_amt: Decimal = _money()
    acct_pay: Decimal = _money()
    psn_cash_pay: Decimal = _money()
    balc: Decimal = _money(flow=False)
    clr_amt: Decimal = _money()


SETTLEMENT_FIGURES = tuple(f.name for f in fields(SplitResult) if "unit" in f.metadata)
MONEY_FIGURES = tuple(f.name for f in fields(SplitResult) if f.metadata.get("unit") == "money")
RATIO_FIGURES = tuple(f.name for f in fields(SplitResult) if f.metadata.get("unit") == "ratio")
FLOW_FIGURES = tuple(f.name for f in fields(SplitResult) if f.metadata.get("flow"))
# What a settlement moved, stored beside the figures so a reversal moves back exactly that.
MOVED = {"dedc_moved": "act_pay_dedc", "fund_moved": "hifp_pay", "acct_moved": "acct_pay"}
LINE_MONEY_FIGURES = ("fulamt_ownpay_amt", "overlmt_amt", "preselfpay_amt", "inscp_scp_amt")


def line_amount_matches(cnt: Decimal, pric: Decimal, amount: Decimal) -> bool:
    """``det_item_fee_sumamt`` must equal round(cnt × pric) (else ``422 amount_mismatch``)."""
    return round_half_up(cnt * pric) == amount


def classify_line(line: LineIn) -> LineOut:
    """Classify one fee line against its catalogue terms (spec/policy.md §Fee lines)."""
    a = line.amount
    t = line.terms
    if t is None or t.chrgitm_lv == CLASS_C:
        return LineOut(
            chrgitm_lv=CLASS_C,
            selfpay_prop=t.selfpay_prop if t is not None else RATIO_ZERO,
            pric_uplmt_amt=t.pric_uplmt_amt if t is not None else None,
            fulamt_ownpay_amt=a,
            overlmt_amt=ZERO,
            preselfpay_amt=ZERO,
            inscp_scp_amt=ZERO,
            warn=None if t is not None else "not_in_catalogue",
        )
    overlmt = ZERO
    if t.pric_uplmt_amt is not None and line.pric > t.pric_uplmt_amt:
        overlmt = a - round_half_up(line.cnt * t.pric_uplmt_amt)
    preselfpay = round_half_up((a - overlmt) * t.selfpay_prop) if t.chrgitm_lv == CLASS_B else ZERO
    return LineOut(
        chrgitm_lv=t.chrgitm_lv,
        selfpay_prop=t.selfpay_prop,
        pric_uplmt_amt=t.pric_uplmt_amt,
        fulamt_ownpay_amt=ZERO,
        overlmt_amt=overlmt,
        preselfpay_amt=preselfpay,
        inscp_scp_amt=a - overlmt - preselfpay,
        warn=None,
    )


def applied_ratio(policy: PolicyTerms, *, temporary_filing: bool) -> Decimal:
    """``pool_prop`` minus ``temp_prop_reduction`` when the filing used is temporary; never below 0."""
    ratio = policy.pool_prop - (policy.temp_prop_reduction if temporary_filing else 0)
    return max(RATIO_ZERO, ratio)


def split_bill(
    lines: list[LineIn],
    policy: PolicyTerms,
    standing: Standing,
    *,
    temporary_filing: bool,
    use_account: bool,
) -> SplitResult:
    """Split a bill (spec/policy.md §The split, steps 1–6).

    ``use_account`` is ``acct_used_flag == "1" and insutype == "310"``. Raises nothing: inputs are
    assumed validated (2-place amounts, ratios in [0, 1]).
    """
    outs = [classify_line(line) for line in lines]
    medfee = sum((line.amount for line in lines), ZERO)
    fulamt = sum((o.fulamt_ownpay_amt for o in outs), ZERO)
    overlmt = sum((o.overlmt_amt for o in outs), ZERO)
    preself = sum((o.preselfpay_amt for o in outs), ZERO)
    inscp = sum((o.inscp_scp_amt for o in outs), ZERO)

    ratio = applied_ratio(policy, temporary_filing=temporary_filing)
    if policy.deductible_basis == "year":
        remaining_dedc = max(ZERO, policy.deductible - standing.deductible_used)
    else:
        remaining_dedc = policy.deductible
    act_pay_dedc = min(inscp, remaining_dedc)
    cap_left = max(ZERO, policy.annual_cap - standing.fund_paid)
    hifp = min(round_half_up((inscp - act_pay_dedc) * ratio), cap_left)
    fund = hifp
    psn_part = medfee - fund
    acct = min(standing.balance, psn_part) if use_account else ZERO
    acct = max(ZERO, acct)
    return SplitResult(
        lines=outs,
        medfee_sumamt=medfee,
        fulamt_ownpay_amt=fulamt,
        overlmt_selfpay=overlmt,
        preselfpay_amt=preself,
        inscp_scp_amt=inscp,
        act_pay_dedc=act_pay_dedc,
        pool_prop_selfpay=ratio,
        hifp_pay=hifp,
        fund_pay_sumamt=fund,
        psn_part_amt=psn_part,
        acct_pay=acct,
        psn_cash_pay=psn_part - acct,
        balc=standing.balance - acct,
        clr_amt=fund + acct,
    )
