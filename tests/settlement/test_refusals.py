"""Bad input gets the right 4xx, in the spec's check order, and moves nothing (spec/policy.md
§Who may settle here, spec/README.md §Units and formats)."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from accounts.models import Filing, Person
from clearing.models import ClearingItem
from settlement.models import Accumulator, Settlement
from tests.settlement.conftest import CERT, bill, now_iso

pytestmark = pytest.mark.django_db
LINE = [("001201000010000", "1", "3000.00", "3000.00")]


def snapshot() -> tuple:
    return (
        Settlement.objects.count(),
        ClearingItem.objects.count(),
        Filing.objects.count(),
        sorted(Accumulator.objects.values_list("person_id", "deductible_used", "fund_paid")),
        sorted(Person.objects.values_list("psn_no", "acct_balance")),
    )


def good() -> dict:
    return bill(CERT["丁"], "310", "24", LINE, "1")


def with_line(**changes: object) -> dict:
    b = good()
    b["feedetail"][0].update(changes)
    return b


def many_lines(n: int) -> dict:
    b = good()
    b["feedetail"] = [
        {
            "feedetl_sn": str(i),
            "med_list_codg": "XA01AAA001",
            "fee_ocur_time": now_iso(-1),
            "cnt": "1",
            "pric": "1.00",
            "det_item_fee_sumamt": "1.00",
        }
        for i in range(n)
    ]
    return b


CASES = [
    ("three decimals", with_line(det_item_fee_sumamt="3000.000"), "feedetail[0].det_item_fee_sumamt"),
    ("one decimal", with_line(det_item_fee_sumamt="3000.0"), "feedetail[0].det_item_fee_sumamt"),
    ("pric five places", with_line(pric="3000.00001"), "feedetail[0].pric"),
    ("cnt zero", with_line(cnt="0"), "feedetail[0].cnt"),
    ("exponent", with_line(pric="3E3"), "feedetail[0].pric"),
    ("unknown med_type", dict(good(), med_type="99"), "med_type"),
    ("unknown insutype", dict(good(), insutype="320"), "insutype"),
    ("acct flag", dict(good(), acct_used_flag="2"), "acct_used_flag"),
    ("empty feedetail", dict(good(), feedetail=[]), "feedetail"),
    ("1001 lines", many_lines(1001), "feedetail"),
    ("future fee time", with_line(fee_ocur_time=now_iso(24)), "feedetail[0].fee_ocur_time"),
    ("future begntime", dict(good(), begntime=now_iso(2)), "begntime"),
    ("bad time", dict(good(), begntime="yesterday"), "begntime"),
    ("wrong check digit", dict(good(), mdtrt_cert_no="330106196808307899"), "mdtrt_cert_no"),
    ("card without sn", dict(good(), mdtrt_cert_type="03", mdtrt_cert_no="A33000004"), "card_sn"),
    ("missing serial", {k: v for k, v in good().items() if k != "medins_setl_id"}, "medins_setl_id"),
    ("serial too long", dict(good(), medins_setl_id="x" * 31), "medins_setl_id"),
]


@pytest.mark.parametrize(("name", "body", "field"), CASES, ids=[c[0] for c in CASES])
def test_invalid_400_names_field(world, name, body, field):
    before = snapshot()
    r = world["H31010400001"].post("/api/v1/settlements", body)
    assert r.status_code == 400, r.content
    problem = r.json()
    assert problem["code"] == "invalid" and r["Content-Type"] == "application/problem+json"
    assert field in [e["field"] for e in problem["errors"]]
    assert snapshot() == before


def test_json_numbers_refused(world):
    raw = json.dumps(good()).replace('"det_item_fee_sumamt": "3000.00"', '"det_item_fee_sumamt": 3000.00')
    raw = raw.replace('"pric": "3000.00"', '"pric": 3000.5')
    assert "3000.5" in raw
    r = world["H31010400001"].post("/api/v1/settlements", raw=raw.encode())
    assert r.status_code == 400
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"feedetail[0].det_item_fee_sumamt", "feedetail[0].pric"} <= fields
    assert Settlement.objects.count() == 0


def test_duplicate_feedetl_sn(world):
    b = good()
    b["feedetail"].append(dict(b["feedetail"][0]))
    r = world["H31010400001"].post("/api/v1/settlements", b)
    assert r.status_code == 400
    assert {"field": "feedetail[1].feedetl_sn", "code": "duplicate"} == {
        k: r.json()["errors"][0][k] for k in ("field", "code")
    }


def test_1000_lines_accepted(world):
    r = world["H31010400001"].post("/api/v1/settlements", many_lines(1000))
    assert r.status_code == 201
    assert r.json()["setlinfo"]["medfee_sumamt"] == "1000.00" and len(r.json()["feedetail"]) == 1000


def test_amount_mismatch_names_line(world):
    before = snapshot()
    b = with_line(cnt="3", pric="0.3333", det_item_fee_sumamt="1.01")
    r = world["H31010400001"].post("/api/v1/settlements", b)
    assert (r.status_code, r.json()["code"]) == (422, "amount_mismatch")
    assert r.json()["errors"][0]["field"] == "feedetail[0].det_item_fee_sumamt"
    assert snapshot() == before


def test_check_order(world):
    post = world["H31010400001"].post
    # 400 before 422: a format error and an amount mismatch together → 400
    b = with_line(det_item_fee_sumamt="1.00")
    b["insutype"] = "999"
    assert post("/api/v1/settlements", b).status_code == 400
    # amount mismatch before unknown person
    b = with_line(det_item_fee_sumamt="1.00")
    b["mdtrt_cert_no"] = "11010519491231002X"
    assert post("/api/v1/settlements", b).json()["code"] == "amount_mismatch"
    assert (
        post("/api/v1/settlements", dict(good(), mdtrt_cert_no="11010519491231002X")).json()["code"]
        == "unknown_person"
    )
    assert (
        post("/api/v1/settlements", dict(good(), mdtrt_cert_type="01")).json()["code"]
        == "unsupported_cert_type"
    )
    # name before insutype before status
    assert (
        post("/api/v1/settlements", dict(good(), psn_name="某人", insutype="390")).json()["code"]
        == "name_mismatch"
    )
    assert post("/api/v1/settlements", dict(good(), psn_name=" 示例丁 ")).status_code == 201
    assert post("/api/v1/settlements", dict(good(), insutype="390")).json()["code"] == "insutype_mismatch"
    Person.objects.filter(psn_no="33010000000000000004").update(psn_insu_stas="2")
    assert post("/api/v1/settlements", good()).json()["code"] == "not_insured"


def test_no_policy(world):
    from settlement.models import Policy

    Policy.objects.filter(insuplc_admdvs="330000").delete()
    before = snapshot()
    r = world["H31010400001"].post("/api/v1/settlements", good())
    assert (r.status_code, r.json()["code"]) == (422, "no_policy")
    assert snapshot() == before  # the emergency filing is not recorded either


def test_card_credential(world):
    b = dict(
        good(), mdtrt_cert_type="03", mdtrt_cert_no="A33000004", card_sn="2e6b9d3f7a1c4e8b0d5f2a6c9e3b7d14"
    )
    r = world["H31010400001"].post("/api/v1/settlements", b)
    assert r.status_code == 201 and r.json()["setlinfo"]["balc"] == "400.00"
    wrong = dict(b, card_sn="0" * 32, medins_setl_id="other")
    assert world["H31010400001"].post("/api/v1/settlements", wrong).json()["code"] == "unknown_person"
    assert Person.objects.get(psn_no="33010000000000000004").acct_balance == D("400.00")


def test_request_shapes_unit():
    import datetime as dt

    from core.errors import Invalid
    from settlement.request_parsing import parse_settlement_request as parse_settle_request
    from settlement.request_parsing import parse_time

    now = dt.datetime.now(dt.UTC)
    with pytest.raises(Invalid):
        parse_settle_request(["not", "an", "object"], now=now)
    b = good()
    b.update(medins_setl_id=" ", insutype=310, endtime=now_iso(-72), begntime=now_iso(-1))
    b["feedetail"].append("line")
    with pytest.raises(Invalid) as e:
        parse_settle_request(b, now=now)
    assert {(x["field"], x["code"]) for x in e.value.errors} == {
        ("medins_setl_id", "blank"),
        ("insutype", "not_a_string"),
        ("endtime", "before_begntime"),
        ("feedetail[1]", "not_an_object"),
    }
    assert parse_time("2026-11-27T10:00:00").utcoffset() == dt.timedelta(hours=8)
    assert parse_time("2026-11-27T02:00:00Z") == parse_time("2026-11-27T10:00:00+08:00")
    with pytest.raises(Invalid) as e:
        parse_settle_request(dict(good(), feedetail="x"), now=now)
    assert e.value.errors[0]["field"] == "feedetail"


def test_reconciliation_validation(world):
    post = world["H31010400001"].post
    r = post(
        "/api/v1/reconciliation/totals",
        {
            "stmt_begndate": "2026-11-28",
            "stmt_enddate": "2026-11-27",
            "insutype": "999",
            "clr_type": "99",
            "medfee_sumamt": "1.0",
            "fund_pay_sumamt": "0.00",
            "acct_pay": "0.00",
            "fixmedins_setl_cnt": True,
        },
    )
    assert r.status_code == 400
    assert {e["field"] for e in r.json()["errors"]} == {
        "stmt_enddate",
        "insutype",
        "clr_type",
        "medfee_sumamt",
        "fixmedins_setl_cnt",
    }
    r = post(
        "/api/v1/reconciliation/details",
        {
            "stmt_begndate": 5,
            "stmt_enddate": "2026-11-27",
            "items": [
                {"medfee_sumamt": "1.00"},
                {
                    "setl_id": "x",
                    "medfee_sumamt": "1",
                    "acct_pay": "0.00",
                    "fund_pay_sumamt": "0.00",
                    "refd_setl_flag": "2",
                },
            ],
        },
    )
    assert {e["field"] for e in r.json()["errors"]} == {
        "stmt_begndate",
        "items[0].setl_id",
        "items[1].medfee_sumamt",
        "items[1].refd_setl_flag",
    }
    assert (
        post(
            "/api/v1/reconciliation/details",
            {"stmt_begndate": "2026-11-27", "stmt_enddate": "2026-11-27", "items": "x"},
        ).status_code
        == 400
    )
    assert post("/api/v1/reconciliation/totals", [1]).status_code == 400
    assert (
        post(
            "/api/v1/persons/lookup", {"mdtrt_cert_type": "02", "mdtrt_cert_no": 340104198001011234}
        ).status_code
        == 400
    )
    assert post("/api/v1/persons/lookup", []).status_code == 400
