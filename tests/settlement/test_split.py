"""settlement.split: the pure arithmetic of spec/policy.md, on plain values and as properties."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from settlement.split import (
    CatalogueTerms,
    LineIn,
    PolicyTerms,
    Standing,
    applied_ratio,
    classify_line,
    line_amount_matches,
    round_half_up,
    split_bill,
)

A = CatalogueTerms("01", D("0"))
INPATIENT_340 = PolicyTerms(D("1000.00"), "visit", D("0.85"), D("300000.00"), D("0.10"))


def line(cnt: str, pric: str, terms: CatalogueTerms | None) -> LineIn:
    c, p = D(cnt), D(pric)
    return LineIn(cnt=c, pric=p, amount=round_half_up(c * p), terms=terms)


def test_round_half_up_only_at_cents():
    assert round_half_up(D("35.552")) == D("35.55")
    assert round_half_up(D("0.005")) == D("0.01")
    assert round_half_up(D("1993.2245")) == D("1993.22")


def test_line_amount_matches():
    assert line_amount_matches(D("4"), D("88.88"), D("355.52"))
    assert not line_amount_matches(D("3"), D("0.3333"), D("1.01"))
    assert line_amount_matches(D("3"), D("0.3333"), D("1.00"))


def test_classification_of_each_class():
    not_found = classify_line(line("1", "680.00", None))
    assert (not_found.chrgitm_lv, not_found.fulamt_ownpay_amt, not_found.warn) == (
        "03",
        D("680.00"),
        "not_in_catalogue",
    )
    c = classify_line(line("1", "680.00", CatalogueTerms("03", D("1"))))
    assert (c.fulamt_ownpay_amt, c.inscp_scp_amt, c.warn) == (D("680.00"), D("0.00"), None)
    b = classify_line(line("4", "88.88", CatalogueTerms("02", D("0.10"))))
    assert (b.preselfpay_amt, b.inscp_scp_amt) == (D("35.55"), D("319.97"))
    ceiling = classify_line(line("5", "120.00", CatalogueTerms("01", D("0"), D("100.00"))))
    assert (ceiling.overlmt_amt, ceiling.inscp_scp_amt) == (D("100.00"), D("500.00"))
    under = classify_line(line("5", "90.00", CatalogueTerms("01", D("0"), D("100.00"))))
    assert (under.overlmt_amt, under.inscp_scp_amt) == (D("0.00"), D("450.00"))
    b_over = classify_line(line("2", "150.00", CatalogueTerms("02", D("0.20"), D("100.00"))))
    assert (b_over.overlmt_amt, b_over.preselfpay_amt, b_over.inscp_scp_amt) == (
        D("100.00"),
        D("40.00"),
        D("160.00"),
    )


def test_e1_figures_pure():
    lines = [
        line("10", "12.50", A),
        line("4", "88.88", CatalogueTerms("02", D("0.10"))),
        line("1", "2400.00", A),
        line("1", "680.00", CatalogueTerms("03", D("1"))),
        line("5", "120.00", CatalogueTerms("01", D("0"), D("100.00"))),
    ]
    r = split_bill(
        lines, INPATIENT_340, Standing(balance=D("500.00")), temporary_filing=False, use_account=True
    )
    assert (r.medfee_sumamt, r.fulamt_ownpay_amt, r.overlmt_selfpay, r.preselfpay_amt, r.inscp_scp_amt) == (
        D("4160.52"),
        D("680.00"),
        D("100.00"),
        D("35.55"),
        D("3344.97"),
    )
    assert (r.act_pay_dedc, r.pool_prop_selfpay, r.hifp_pay, r.fund_pay_sumamt) == (
        D("1000.00"),
        D("0.85"),
        D("1993.22"),
        D("1993.22"),
    )
    assert (r.psn_part_amt, r.acct_pay, r.psn_cash_pay, r.balc, r.clr_amt) == (
        D("2167.30"),
        D("500.00"),
        D("1667.30"),
        D("0.00"),
        D("2493.22"),
    )


def test_year_deductible_uses_what_is_left_and_visit_does_not():
    year = PolicyTerms(D("200.00"), "year", D("0.70"), D("6000.00"), D("0.10"))
    r = split_bill(
        [line("1", "100.00", A)],
        year,
        Standing(deductible_used=D("150.00")),
        temporary_filing=False,
        use_account=False,
    )
    assert (r.act_pay_dedc, r.hifp_pay) == (D("50.00"), D("35.00"))
    r = split_bill(
        [line("1", "100.00", A)],
        year,
        Standing(deductible_used=D("250.00")),
        temporary_filing=False,
        use_account=False,
    )
    assert (r.act_pay_dedc, r.hifp_pay) == (D("0.00"), D("70.00"))
    visit = PolicyTerms(D("30.00"), "visit", D("0.50"), D("6000.00"))
    r = split_bill(
        [line("1", "100.00", A)],
        visit,
        Standing(deductible_used=D("999.00")),
        temporary_filing=False,
        use_account=False,
    )
    assert (r.act_pay_dedc, r.hifp_pay) == (D("30.00"), D("35.00"))


def test_temporary_filing_reduction_never_below_zero():
    assert applied_ratio(INPATIENT_340, temporary_filing=True) == D("0.75")
    assert applied_ratio(INPATIENT_340, temporary_filing=False) == D("0.85")
    low = PolicyTerms(D("0"), "year", D("0.05"), D("1.00"), D("0.10"))
    assert applied_ratio(low, temporary_filing=True) == D("0")


def test_cap_and_no_account_for_flag_zero():
    r = split_bill(
        [line("1", "5000.00", A)],
        PolicyTerms(D("800.00"), "visit", D("0.65"), D("150000.00")),
        Standing(fund_paid=D("149500.00"), balance=D("900.00")),
        temporary_filing=False,
        use_account=False,
    )
    assert (r.act_pay_dedc, r.hifp_pay, r.acct_pay, r.psn_cash_pay, r.balc) == (
        D("800.00"),
        D("500.00"),
        D("0.00"),
        D("4500.00"),
        D("900.00"),
    )
    over = split_bill(
        [line("1", "10.00", A)],
        PolicyTerms(D("0"), "year", D("1"), D("100.00")),
        Standing(fund_paid=D("120.00")),
        temporary_filing=False,
        use_account=False,
    )
    assert over.hifp_pay == D("0.00")


money = st.decimals(min_value=D("0"), max_value=D("100000"), places=2, allow_nan=False, allow_infinity=False)
qty = st.decimals(min_value=D("0.0001"), max_value=D("1000"), places=4, allow_nan=False, allow_infinity=False)
price = st.decimals(min_value=D("0"), max_value=D("10000"), places=4, allow_nan=False, allow_infinity=False)
ratio = st.decimals(min_value=D("0"), max_value=D("1"), places=4, allow_nan=False, allow_infinity=False)
terms = st.one_of(
    st.none(),
    st.builds(CatalogueTerms, st.sampled_from(["01", "02", "03"]), ratio, st.one_of(st.none(), price)),
)
lines_st = st.lists(
    st.builds(lambda c, p, t: LineIn(c, p, round_half_up(c * p), t), qty, price, terms),
    min_size=1,
    max_size=12,
)
policy_st = st.builds(PolicyTerms, money, st.sampled_from(["visit", "year"]), ratio, money, ratio)
standing_st = st.builds(Standing, money, money, money)


@settings(max_examples=400, deadline=None)
@given(lines_st, policy_st, standing_st, st.booleans(), st.booleans())
def test_split_invariants(lines, policy, standing, temporary, use_account):
    r = split_bill(lines, policy, standing, temporary_filing=temporary, use_account=use_account)
    assert r.medfee_sumamt == r.fulamt_ownpay_amt + r.overlmt_selfpay + r.preselfpay_amt + r.inscp_scp_amt
    assert r.fund_pay_sumamt + r.psn_part_amt == r.medfee_sumamt
    assert r.acct_pay + r.psn_cash_pay == r.psn_part_amt
    assert r.clr_amt == r.fund_pay_sumamt + r.acct_pay
    for band in (
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
        "balc",
        "clr_amt",
        "pool_prop_selfpay",
    ):
        assert getattr(r, band) >= 0, band
    for o in r.lines:
        assert min(o.fulamt_ownpay_amt, o.overlmt_amt, o.preselfpay_amt, o.inscp_scp_amt) >= 0
    assert r.act_pay_dedc <= r.inscp_scp_amt
    assert standing.fund_paid + r.hifp_pay <= max(policy.annual_cap, standing.fund_paid)
    assert r.acct_pay <= standing.balance
    assert r.balc == standing.balance - r.acct_pay
    if not use_account:
        assert r.acct_pay == 0
    for v in (r.medfee_sumamt, r.hifp_pay, r.acct_pay, r.psn_cash_pay):
        assert v == v.quantize(D("0.01"))
