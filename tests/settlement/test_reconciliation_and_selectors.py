"""对账 (spec/hospital-api.md §reconciliation) and the reads the cardholder work uses."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from accounts.models import Person
from settlement.selectors import person_accumulators, person_settlements
from tests.settlement.conftest import CERT, SH, bill

pytestmark = pytest.mark.django_db
E4 = [("001201000010000", "1", "3000.00", "3000.00")]


@pytest.fixture
def day_with_reversal(world):
    h = world["H31010400001"]
    s1 = h.post("/api/v1/settlements", bill(CERT["丁"], "310", "24", E4, "1")).json()["setlinfo"]
    s2 = h.post(
        "/api/v1/settlements", bill(CERT["甲"], "310", "21", [("XA01AAA001", "1", "20.00", "20.00")], "1")
    ).json()["setlinfo"]
    rev = h.post(f"/api/v1/settlements/{s1['setl_id']}/reversal", {"medins_setl_id": "R1"}).json()["setlinfo"]
    return h, s1, s2, rev


def test_totals(day_with_reversal):
    h, s1, s2, rev = day_with_reversal
    today = dt.datetime.now(SH).date().isoformat()
    body = {
        "stmt_begndate": today,
        "stmt_enddate": today,
        "insutype": "310",
        "clr_type": "21",
        "medfee_sumamt": "20.00",
        "fund_pay_sumamt": "0.00",
        "acct_pay": "20.00",
        "fixmedins_setl_cnt": 3,
    }
    r = h.post("/api/v1/reconciliation/totals", body)
    assert r.status_code == 200, r.content
    assert r.json() == {
        "stmt_rslt": "0",
        "ours": {
            "medfee_sumamt": "20.00",
            "fund_pay_sumamt": "0.00",
            "acct_pay": "20.00",
            "fixmedins_setl_cnt": 3,
        },
        "diff": {
            "medfee_sumamt": "0.00",
            "fund_pay_sumamt": "0.00",
            "acct_pay": "0.00",
            "fixmedins_setl_cnt": 0,
        },
    }
    off = h.post(
        "/api/v1/reconciliation/totals", body | {"acct_pay": "-1.50", "fixmedins_setl_cnt": 2}
    ).json()
    assert (
        off["stmt_rslt"] == "1"
        and off["diff"]["acct_pay"] == "-21.50"
        and off["diff"]["fixmedins_setl_cnt"] == -1
    )
    bad = h.post("/api/v1/reconciliation/totals", body | {"medfee_sumamt": 20.0})
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (400, "medfee_sumamt")


def test_details(day_with_reversal):
    h, s1, s2, rev = day_with_reversal
    today = dt.datetime.now(SH).date().isoformat()
    items = [
        {
            "setl_id": s1["setl_id"],
            "medfee_sumamt": "3000.00",
            "fund_pay_sumamt": "1400.00",
            "acct_pay": "1600.00",
            "refd_setl_flag": "0",
        },
        {
            "setl_id": rev["setl_id"],
            "medfee_sumamt": "-3000.00",
            "fund_pay_sumamt": "-1400.00",
            "acct_pay": "-1600.00",
            "refd_setl_flag": "1",
        },
        {
            "setl_id": "UNKNOWN",
            "medfee_sumamt": "1.00",
            "fund_pay_sumamt": "0.00",
            "acct_pay": "0.00",
            "refd_setl_flag": "0",
        },
    ]
    r = h.post(
        "/api/v1/reconciliation/details", {"stmt_begndate": today, "stmt_enddate": today, "items": items}
    )
    assert r.status_code == 200, r.content
    rows = {row["setl_id"]: row for row in r.json()["rows"]}
    assert r.json()["stmt_rslt"] == "1"
    assert (rows[s1["setl_id"]]["stmt_rslt"], rows[s1["setl_id"]]["reason"]) == ("0", None)
    assert (rows[rev["setl_id"]]["stmt_rslt"], rows[rev["setl_id"]]["reason"]) == ("0", None)
    assert rows["UNKNOWN"]["reason"] == "only_in_institution"
    assert rows[s2["setl_id"]]["reason"] == "only_in_center"
    assert rows[s2["setl_id"]]["ours"] == {
        "medfee_sumamt": "20.00",
        "fund_pay_sumamt": "0.00",
        "acct_pay": "20.00",
        "refd_setl_flag": "0",
    }
    items[0]["acct_pay"] = "1.00"
    r = h.post(
        "/api/v1/reconciliation/details", {"stmt_begndate": today, "stmt_enddate": today, "items": items[:2]}
    )
    assert {row["setl_id"]: row["reason"] for row in r.json()["rows"]}[s1["setl_id"]] == "amount_mismatch"


def test_person_reads(day_with_reversal):
    _, s1, _, rev = day_with_reversal
    p = Person.objects.get(psn_no="33010000000000000004")
    year = dt.datetime.now(SH).year
    assert [s.setl_id for s in person_settlements(person=p)] == [rev["setl_id"], s1["setl_id"]]
    assert list(person_settlements(person=p, year=year - 1)) == []
    accs = person_accumulators(person=p, year=year)
    assert accs == [
        {
            "year": year,
            "insutype": "310",
            "med_type_group": "inpatient",
            "hosp_lv": "3",
            "deductible": D("1000.00"),
            "deductible_basis": "visit",
            "deductible_used": D("0.00"),
            "deductible_remaining": None,
            "annual_cap": D("400000.00"),
            "fund_paid": D("0.00"),
            "fund_remaining": D("400000.00"),
        }
    ]


def test_person_accumulators_year_basis_grade3(world):
    from settlement.models import Policy

    Policy.objects.create(
        insuplc_admdvs="320100",
        insutype="310",
        med_type_group="outpatient",
        hosp_lv="2",
        deductible=D("100.00"),
        deductible_basis="year",
        pool_prop=D("0.9"),
        annual_cap=D("1000.00"),
        begndate=dt.date(2020, 1, 1),
        enddate=dt.date(2099, 12, 31),
    )
    p = Person.objects.get(psn_no="32010000000000000002")
    year = dt.datetime.now(SH).year
    [acc] = person_accumulators(person=p, year=year)
    assert (acc["hosp_lv"], acc["deductible"], acc["deductible_used"], acc["deductible_remaining"]) == (
        "2",
        D("100.00"),
        D("150.00"),
        D("0.00"),
    )
    Policy.objects.filter(hosp_lv="2").delete()
    [acc] = person_accumulators(person=p, year=year)
    assert (acc["hosp_lv"], acc["deductible_remaining"], acc["fund_remaining"]) == (
        "3",
        D("50.00"),
        D("6000.00"),
    )


def test_a_settlement_listed_twice_is_flagged_as_the_totals_flag_it(day_with_reversal):  # noqa: ANN001
    """Issue 10 item 8: details listing one settlement twice with identical figures answered "0"
    while totals of the same data answered "1"."""
    h, s1, s2, rev = day_with_reversal
    today = dt.datetime.now(SH).date().isoformat()
    line = {"setl_id": s2["setl_id"], "medfee_sumamt": "20.00", "fund_pay_sumamt": "0.00",
            "acct_pay": "20.00", "refd_setl_flag": "0"}
    first = {"setl_id": s1["setl_id"], "medfee_sumamt": "3000.00", "fund_pay_sumamt": "1400.00",
             "acct_pay": "1600.00", "refd_setl_flag": "0"}
    second = {"setl_id": rev["setl_id"], "medfee_sumamt": "-3000.00", "fund_pay_sumamt": "-1400.00",
              "acct_pay": "-1600.00", "refd_setl_flag": "1"}
    period = {"stmt_begndate": today, "stmt_enddate": today}
    once = h.post("/api/v1/reconciliation/details", period | {"items": [first, second, line]}).json()
    assert once["stmt_rslt"] == "0"
    twice = h.post("/api/v1/reconciliation/details", period | {"items": [first, second, line, line]}).json()
    assert twice["stmt_rslt"] == "1"
    assert [(r["setl_id"], r["stmt_rslt"], r["reason"]) for r in twice["rows"]] == [
        (s1["setl_id"], "0", None), (rev["setl_id"], "0", None),
        (s2["setl_id"], "1", "amount_mismatch"), (s2["setl_id"], "1", "amount_mismatch")]
    assert twice["rows"][3]["ours"] == {"medfee_sumamt": "20.00", "fund_pay_sumamt": "0.00",
                                        "acct_pay": "20.00", "refd_setl_flag": "0"}
    sums = {"medfee_sumamt": "40.00", "fund_pay_sumamt": "0.00", "acct_pay": "40.00", "fixmedins_setl_cnt": 4}
    totals = h.post("/api/v1/reconciliation/totals", period | sums).json()  # the same four lines summed
    assert totals["stmt_rslt"] == "1"
    assert totals["diff"] == {"medfee_sumamt": "20.00", "fund_pay_sumamt": "0.00", "acct_pay": "20.00",
                              "fixmedins_setl_cnt": 1}
