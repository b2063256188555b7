"""The clearing example of spec/clearing.md (E1–E5, E2b, E7 on day D; the reversal of E4 on D+1),
built from clearing items recorded with ``clearing_item_record``."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from clearing.models import Alert, BilateralPosition, NetPosition, PrefundAccount, Statement
from clearing.services.close import cycle_close
from clearing.services.cycles import open_cycle_date
from clearing.services.ledger import trial_balance
from tests.clearing.helpers import load_prefunds, record, record_example_day

pytestmark = pytest.mark.django_db


def head_of(cycle) -> dict:
    return json.loads(bytes(cycle.head.canonical))


def statement_of(cycle, admdvs: str) -> dict:
    return json.loads(bytes(Statement.objects.get(cycle=cycle, admdvs=admdvs).canonical))


def test_example_day_and_reversal_next_day():
    load_prefunds()
    day = open_cycle_date()
    items = record_example_day()
    d = cycle_close(clr_date=day, actor="test")
    head = head_of(d)
    assert head["item_cnt"] == 6 and head["tree_size"] == 7
    assert head["gross"] == "6166.00" and head["net_funding"] == "5820.44"
    assert head["netting_efficiency"] == "0.0560"
    assert head["net_positions"] == {
        "310000": "5422.22",
        "320000": "398.22",
        "330000": "-2898.22",
        "340000": "-2922.22",
    }
    assert head["prev_head_sha256"] == "0" * 64
    assert head["clr_date"] == day.isoformat()
    assert len(head["merkle_root"]) == 64
    bilateral = {(b.payer, b.payee): (b.amount, b.cnt) for b in BilateralPosition.objects.filter(cycle=d)}
    assert bilateral == {
        ("340000", "310000"): (Decimal("2493.22"), 1),
        ("340000", "320000"): (Decimal("500.00"), 1),
        ("320000", "330000"): (Decimal("101.78"), 2),
        ("330000", "310000"): (Decimal("3000.00"), 1),
        ("310000", "340000"): (Decimal("71.00"), 1),
    }
    expected = {
        "310000": ("5493.22", "71.00", 3),
        "320000": ("500.00", "101.78", 3),
        "330000": ("101.78", "3000.00", 3),
        "340000": ("71.00", "2993.22", 3),
    }
    for adm, (rec, pay, cnt) in expected.items():
        st = statement_of(d, adm)
        assert (st["receivable"], st["payable"], st["item_cnt"]) == (rec, pay, cnt)
    s320 = statement_of(d, "320000")
    assert s320["intra_province"] == {"cnt": 1, "amount": "20.00"}
    assert s320["intra_province_remittance"] == [
        {"fixmedins_code": "H32010200001", "amount": "20.00", "cnt": 1}
    ]
    assert s320["hospital_remittance"] == [{"fixmedins_code": "H32010200001", "amount": "500.00", "cnt": 1}]
    assert s320["bilateral"] == [
        {
            "counterparty": "330000",
            "payable": "101.78",
            "receivable": "0.00",
            "payable_cnt": 2,
            "receivable_cnt": 0,
        },
        {
            "counterparty": "340000",
            "payable": "0.00",
            "receivable": "500.00",
            "payable_cnt": 0,
            "receivable_cnt": 1,
        },
    ]
    assert statement_of(d, "310000")["hospital_remittance"] == [
        {"fixmedins_code": "H31010400001", "amount": "5493.22", "cnt": 2}
    ]
    assert statement_of(d, "330000")["hospital_remittance"] == [
        {"fixmedins_code": "H33010600001", "amount": "101.78", "cnt": 2}
    ]
    assert statement_of(d, "340000")["hospital_remittance"] == [
        {"fixmedins_code": "P34010400001", "amount": "71.00", "cnt": 1}
    ]
    balances = dict(PrefundAccount.objects.values_list("admdvs", "balance"))
    assert balances == {
        "310000": Decimal("10422.22"),
        "320000": Decimal("5398.22"),
        "330000": Decimal("-898.22"),
        "340000": Decimal("7077.78"),
    }
    s330 = statement_of(d, "330000")
    assert s330["prefund"]["before"] == "2000.00" and s330["prefund"]["after"] == "-898.22"
    kinds = {a["kind"]: a for a in s330["prefund"]["alerts"]}
    assert kinds["funding_call"]["amount"] == "898.22"
    assert kinds["low_prefund"]["balance"] == "-898.22"
    assert (
        kinds["funding_call"]["due_at"]
        == (day.replace() + __import__("datetime").timedelta(days=1)).isoformat() + "T09:00:00Z"
    )
    alerts = set(Alert.objects.values_list("kind", "admdvs", "amount"))
    assert alerts == {
        ("low_prefund", "330000", Decimal("-898.22")),
        ("funding_call", "330000", Decimal("898.22")),
    }
    assert sum(NetPosition.objects.filter(cycle=d).values_list("net", flat=True)) == 0
    assert trial_balance()["total"] == Decimal("0.00")
    d_head_bytes = bytes(d.head.canonical)
    d_statements = {s.admdvs: bytes(s.canonical) for s in Statement.objects.filter(cycle=d)}

    # D+1: the reversal of E4 lands in the next cycle.
    assert open_cycle_date() == day + __import__("datetime").timedelta(days=1)
    record("330000", "310000", "-3000.00", items["E4"].fixmedins_code, kind="reversal")
    d1 = cycle_close(clr_date=open_cycle_date(), actor="test")
    h1 = head_of(d1)
    assert h1["net_positions"] == {"310000": "-3000.00", "330000": "3000.00"}
    assert (h1["gross"], h1["net_funding"], h1["netting_efficiency"]) == ("3000.00", "3000.00", "0.0000")
    assert (h1["item_cnt"], h1["tree_size"]) == (1, 1)
    assert h1["prev_head_sha256"] == d.head.sha256
    balances = dict(PrefundAccount.objects.values_list("admdvs", "balance"))
    assert balances["310000"] == Decimal("7422.22") and balances["330000"] == Decimal("2101.78")
    assert statement_of(d1, "310000")["hospital_remittance"] == [
        {"fixmedins_code": "H31010400001", "amount": "-3000.00", "cnt": 1}
    ]
    assert trial_balance()["total"] == Decimal("0.00")
    d.refresh_from_db()
    assert bytes(d.head.canonical) == d_head_bytes
    assert {s.admdvs: bytes(s.canonical) for s in Statement.objects.filter(cycle=d)} == d_statements
