"""The worked day of spec/policy.md: E1–E7 and the refusals, in sequence on one day, every figure."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from accounts.models import Filing, Person
from clearing.models import ClearingItem
from settlement.models import Accumulator, Settlement
from tests.settlement.conftest import CERT, SH, bill

pytestmark = pytest.mark.django_db


def settle(world, code, body):
    r = world[code].post("/api/v1/settlements", body)
    assert r.status_code == 201, r.content
    return r.json()["setlinfo"]


def check(info: dict, **want: str) -> None:
    got = {k: info[k] for k in want}
    assert got == want


E1_LINES = [
    ("XA01AAA001", "10", "12.50", "125.00"),
    ("XB02BBB002", "4", "88.88", "355.52"),
    ("001201000010000", "1", "2400.00", "2400.00"),
    ("C0301020300000100001", "1", "680.00", "680.00"),
    ("002201000010000", "5", "120.00", "600.00"),
]


def test_worked_day(world):
    # E1
    r = world["H31010400001"].post("/api/v1/settlements", bill(CERT["甲"], "310", "21", E1_LINES, "1"))
    assert r.status_code == 201, r.content
    e1 = r.json()
    check(
        e1["setlinfo"],
        medfee_sumamt="4160.52",
        fulamt_ownpay_amt="680.00",
        overlmt_selfpay="100.00",
        preselfpay_amt="35.55",
        inscp_scp_amt="3344.97",
        act_pay_dedc="1000.00",
        pool_prop_selfpay="0.8500",
        hifp_pay="1993.22",
        fund_pay_sumamt="1993.22",
        psn_part_amt="2167.30",
        acct_pay="500.00",
        psn_cash_pay="1667.30",
        balc="0.00",
        clr_amt="2493.22",
        insuplc_admdvs="340100",
        mdtrtarea_admvs="310000",
        fixmedins_code="H31010400001",
        clr_type="21",
        status="settled",
        psn_name="示例甲",
        certno="3401**********1234",
    )
    assert e1["setlinfo"]["filing"] == {"filing_type": "12", "temporary": False, "created_now": False}
    assert e1["setlinfo"]["clr_date"] == dt.datetime.now(SH).date().isoformat()
    lines = {ln["feedetl_sn"]: ln for ln in e1["feedetail"]}
    assert lines["1"] == {
        "feedetl_sn": "1",
        "chrgitm_lv": "01",
        "selfpay_prop": "0.0000",
        "pric_uplmt_amt": None,
        "det_item_fee_sumamt": "125.00",
        "fulamt_ownpay_amt": "0.00",
        "overlmt_amt": "0.00",
        "preselfpay_amt": "0.00",
        "inscp_scp_amt": "125.00",
        "warn": None,
    }
    check(lines["2"], chrgitm_lv="02", selfpay_prop="0.1000", preselfpay_amt="35.55", inscp_scp_amt="319.97")
    check(lines["4"], chrgitm_lv="03", fulamt_ownpay_amt="680.00", inscp_scp_amt="0.00")
    check(lines["5"], pric_uplmt_amt="100.00", overlmt_amt="100.00", inscp_scp_amt="500.00")
    item = ClearingItem.objects.get(setl_id=e1["setlinfo"]["setl_id"])
    assert (item.payer, item.payee, item.clr_amt, item.kind) == (
        "340000",
        "310000",
        D("2493.22"),
        "settlement",
    )
    assert Person.objects.get(psn_no="34010000000000000001").acct_balance == D("0.00")

    # E2a, E2b
    e2a = settle(
        world,
        "H33010600001",
        bill(
            CERT["乙"],
            "310",
            "11",
            [("XA01AAA001", "3", "15.80", "47.40"), ("003101000010000", "1", "60.00", "60.00")],
        ),
    )
    check(
        e2a,
        medfee_sumamt="107.40",
        preselfpay_amt="12.00",
        inscp_scp_amt="95.40",
        act_pay_dedc="50.00",
        hifp_pay="31.78",
        psn_part_amt="75.62",
        acct_pay="0.00",
        psn_cash_pay="75.62",
        clr_amt="31.78",
    )
    e2b = settle(
        world, "H33010600001", bill(CERT["乙"], "310", "11", [("001102000010000", "2", "50.00", "100.00")])
    )
    check(e2b, act_pay_dedc="0.00", hifp_pay="70.00", psn_cash_pay="30.00", clr_amt="70.00")
    year = dt.datetime.now(SH).year
    acc = Accumulator.objects.get(
        person__psn_no="32010000000000000002", year=year, insutype="310", med_type_group="outpatient"
    )
    assert (acc.deductible_used, acc.fund_paid) == (D("200.00"), D("101.78"))

    # E3
    e3 = settle(
        world,
        "H32010200001",
        bill(CERT["丙"], "390", "21", [("001201000010000", "1", "5000.00", "5000.00")], "1"),
    )
    check(
        e3,
        act_pay_dedc="800.00",
        hifp_pay="500.00",
        acct_pay="0.00",
        psn_cash_pay="4500.00",
        clr_amt="500.00",
    )
    acc = Accumulator.objects.get(
        person__psn_no="34010000000000000003", year=year, med_type_group="inpatient"
    )
    assert acc.fund_paid == D("150000.00")

    # E4: emergency without filing → temporary filing 22 recorded
    e4 = settle(
        world,
        "H31010400001",
        bill(CERT["丁"], "310", "24", [("001201000010000", "1", "3000.00", "3000.00")], "1"),
    )
    check(
        e4,
        pool_prop_selfpay="0.7000",
        act_pay_dedc="1000.00",
        hifp_pay="1400.00",
        acct_pay="1600.00",
        psn_cash_pay="0.00",
        balc="400.00",
        clr_amt="3000.00",
    )
    assert e4["filing"] == {"filing_type": "22", "temporary": True, "created_now": True}
    today = dt.datetime.now(SH).date()
    f = Filing.objects.get(person__psn_no="33010000000000000004")
    assert (f.filing_type, f.begndate, f.enddate, f.created_by_settlement) == (
        "22",
        today,
        today + dt.timedelta(days=9),
        True,
    )

    # E5: pharmacy
    e5 = settle(
        world, "P34010400001", bill(CERT["戊"], "310", "41", [("XB02BBB002", "2", "35.50", "71.00")], "1")
    )
    check(
        e5,
        preselfpay_amt="3.55",
        inscp_scp_amt="67.45",
        hifp_pay="0.00",
        acct_pay="71.00",
        psn_cash_pay="0.00",
        balc="229.00",
        clr_amt="71.00",
    )

    # E7: within Jiangsu, no filing needed; intra-province item
    e7 = settle(
        world, "H32010200001", bill(CERT["庚"], "310", "11", [("XA01AAA001", "1", "20.00", "20.00")], "1")
    )
    check(e7, act_pay_dedc="20.00", hifp_pay="0.00", acct_pay="20.00", balc="80.00", clr_amt="20.00")
    assert e7["filing"] is None
    item = ClearingItem.objects.get(setl_id=e7["setl_id"])
    assert (item.payer, item.payee) == ("320000", "320000")

    before = (
        Settlement.objects.count(),
        ClearingItem.objects.count(),
        Filing.objects.count(),
        Accumulator.objects.count(),
        sorted(Person.objects.values_list("psn_no", "acct_balance")),
    )
    # E6 and the two refusals after the examples
    refusals = [
        ("H31010400001", bill(CERT["己"], "310", "11", [("XA01AAA001", "1", "20.00", "20.00")]), "no_filing"),
        (
            "H34010400001",
            bill(CERT["甲"], "310", "11", [("XA01AAA001", "1", "20.00", "20.00")]),
            "not_out_of_area",
        ),
        ("H31010400001", bill(CERT["乙"], "310", "21", [("XA01AAA001", "1", "20.00", "20.00")]), "no_filing"),
    ]
    for code, body, want in refusals:
        r = world[code].post("/api/v1/settlements", body)
        assert (r.status_code, r.json()["code"]) == (422, want)
        assert r["Content-Type"] == "application/problem+json"
    after = (
        Settlement.objects.count(),
        ClearingItem.objects.count(),
        Filing.objects.count(),
        Accumulator.objects.count(),
        sorted(Person.objects.values_list("psn_no", "acct_balance")),
    )
    assert after == before
