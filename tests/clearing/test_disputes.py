"""Disputes (spec/clearing.md §Disputes): window, one per item ever, upheld → adjustment in the
open cycle with a negative remittance line, rejected → nothing moves, escalation, scopes."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.test import override_settings

from clearing.models import ClearingItem, Cycle, Dispute, Statement
from clearing.selectors import settlement_blocking_dispute_exists
from clearing.services.close import cycle_close
from clearing.services.cycles import open_cycle_date
from tests.clearing.helpers import load_prefunds, record, record_example_day, staff_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def day_closed():
    load_prefunds()
    day = open_cycle_date()
    items = record_example_day()
    cycle_close(clr_date=day, actor="test")
    return day, items


def test_open_rules(day_closed):
    day, items = day_closed
    payer = staff_client("bureau", "330000")  # E4: 330000 → 310000, 3000.00
    e4 = items["E4"].setl_id
    assert (
        payer.post("/api/v1/disputes", {"setl_id": e4, "reason_code": "bogus"}).json()["errors"][0]["field"]
        == "reason_code"
    )
    over = payer.post("/api/v1/disputes", {"setl_id": e4, "reason_code": "amount_error", "amount": "3000.01"})
    assert over.json()["code"] == "amount_exceeds_clr_amt"
    payee = staff_client("bureau", "310000")
    assert payee.post("/api/v1/disputes", {"setl_id": e4, "reason_code": "other"}).status_code == 404
    r = payer.post("/api/v1/disputes", {"setl_id": e4, "reason_code": "amount_error", "note": "x"})
    assert r.status_code == 201 and r.json()["amount"] == "3000.00" and r.json()["status"] == "open"
    assert (
        payer.post("/api/v1/disputes", {"setl_id": e4, "reason_code": "other"}).json()["code"]
        == "already_disputed"
    )
    assert settlement_blocking_dispute_exists(e4) is True
    assert settlement_blocking_dispute_exists(items["E1"].setl_id) is False
    # an item of the open cycle is not disputable yet; reversal items never
    rev = record("330000", "310000", "-1.00", "H31010400001", kind="reversal")
    assert (
        payer.post("/api/v1/disputes", {"setl_id": rev.setl_id, "reason_code": "other"}).json()["code"]
        == "not_disputable"
    )
    fresh = record("330000", "310000", "1.00", "H31010400001")
    assert (
        payer.post("/api/v1/disputes", {"setl_id": fresh.setl_id, "reason_code": "other"}).json()["code"]
        == "not_disputable"
    )
    assert [d["setl_id"] for d in payee.get("/api/v1/disputes?status=open").json()["results"]] == [e4]
    assert staff_client("bureau", "340000").get("/api/v1/disputes").json()["results"] == []


def test_window_closed():
    past = open_cycle_date() - dt.timedelta(days=31)
    cycle = Cycle.objects.create(clr_date=past)
    old = record("330000", "310000", "50.00", "H31010400001", cycle=cycle)
    late = record("330000", "310000", "60.00", "H31010400001", cycle=cycle)
    cycle_close(clr_date=past, actor="test")
    payer = staff_client("bureau", "330000")
    assert (
        payer.post("/api/v1/disputes", {"setl_id": old.setl_id, "reason_code": "other"}).json()["code"]
        == "dispute_window_closed"
    )
    with override_settings(DISPUTE_WINDOW_DAYS=31):
        assert (
            payer.post("/api/v1/disputes", {"setl_id": late.setl_id, "reason_code": "other"}).status_code
            == 201
        )


def test_upheld_partial_makes_adjustment_in_open_cycle(day_closed):
    day, items = day_closed
    payer, payee = staff_client("bureau", "330000"), staff_client("bureau", "310000")
    d = payer.post(
        "/api/v1/disputes",
        {"setl_id": items["E4"].setl_id, "reason_code": "amount_error", "amount": "1000.00"},
    ).json()
    assert payer.post(f"/api/v1/disputes/{d['id']}/resolve", {"outcome": "upheld"}).status_code == 403
    too_much = payee.post(f"/api/v1/disputes/{d['id']}/resolve", {"outcome": "upheld", "amount": "1000.01"})
    assert too_much.json()["code"] == "amount_exceeds_disputed"
    r = payee.post(
        f"/api/v1/disputes/{d['id']}/resolve", {"outcome": "upheld", "amount": "400.00", "note": "ok"}
    )
    assert r.status_code == 200 and r.json()["status"] == "upheld" and r.json()["resolved_amount"] == "400.00"
    adj = ClearingItem.objects.get(setl_id=r.json()["adjustment_setl_id"])
    assert (adj.kind, adj.payer, adj.payee, adj.clr_amt, adj.fixmedins_code) == (
        "adjustment",
        "330000",
        "310000",
        Decimal("-400.00"),
        "H31010400001",
    )
    assert adj.clr_date == day + dt.timedelta(days=1)
    assert (
        payee.post(f"/api/v1/disputes/{d['id']}/resolve", {"outcome": "rejected"}).json()["code"]
        == "dispute_closed"
    )
    assert settlement_blocking_dispute_exists(items["E4"].setl_id) is True
    nxt = cycle_close(clr_date=day + dt.timedelta(days=1), actor="test")
    st = json.loads(bytes(Statement.objects.get(cycle=nxt, admdvs="310000").canonical))
    assert st["hospital_remittance"] == [{"fixmedins_code": "H31010400001", "amount": "-400.00", "cnt": 1}]
    assert st["net"] == "-400.00"
    assert (
        payer.post("/api/v1/disputes", {"setl_id": adj.setl_id, "reason_code": "other"}).json()["code"]
        == "not_disputable"
    )


def test_rejected_moves_nothing_and_cannot_be_filed_again(day_closed):
    day, items = day_closed
    payer, payee = staff_client("bureau", "340000"), staff_client("bureau", "310000")
    d = payer.post("/api/v1/disputes", {"setl_id": items["E1"].setl_id, "reason_code": "not_eligible"}).json()
    before = ClearingItem.objects.count()
    r = payee.post(f"/api/v1/disputes/{d['id']}/resolve", {"outcome": "rejected", "note": "eligible"})
    assert r.json()["status"] == "rejected" and r.json()["adjustment_setl_id"] == ""
    assert ClearingItem.objects.count() == before
    # a payee rejection may still be escalated: it blocks a reversal until it is final
    assert settlement_blocking_dispute_exists(items["E1"].setl_id) is True
    Dispute.objects.filter(pk=d["id"]).update(
        opened_at=Dispute.objects.get(pk=d["id"]).opened_at - dt.timedelta(days=61)
    )
    assert settlement_blocking_dispute_exists(items["E1"].setl_id) is False
    assert payer.post(f"/api/v1/disputes/{d['id']}/escalate").json()["code"] == "dispute_closed"
    again = payer.post("/api/v1/disputes", {"setl_id": items["E1"].setl_id, "reason_code": "other"})
    assert again.json()["code"] == "already_disputed"


def test_escalation_to_staff(day_closed):
    day, items = day_closed
    payer, payee = staff_client("bureau", "320000"), staff_client("bureau", "330000")
    staff = staff_client("clearing_staff", "000000")
    d = payer.post("/api/v1/disputes", {"setl_id": items["E2a"].setl_id, "reason_code": "duplicate"}).json()
    assert staff.post(f"/api/v1/disputes/{d['id']}/resolve", {"outcome": "upheld"}).status_code == 403
    assert staff_client("bureau", "340000").post(f"/api/v1/disputes/{d['id']}/escalate").status_code == 404
    e = payee.post(f"/api/v1/disputes/{d['id']}/escalate").json()
    assert e["status"] == "escalated" and e["escalated_by"]
    assert payer.post(f"/api/v1/disputes/{d['id']}/escalate").json()["code"] == "dispute_closed"
    assert payee.post(f"/api/v1/disputes/{d['id']}/resolve", {"outcome": "rejected"}).status_code == 403
    r = staff.post(f"/api/v1/disputes/{d['id']}/resolve", {"outcome": "upheld"})
    assert r.status_code == 200 and r.json()["resolved_amount"] == "31.78"
    assert ClearingItem.objects.get(setl_id=r.json()["adjustment_setl_id"]).clr_amt == Decimal("-31.78")


def test_overdue_disputes_listed_in_alerts(day_closed):
    day, items = day_closed
    payer = staff_client("bureau", "340000")
    d = payer.post("/api/v1/disputes", {"setl_id": items["E3"].setl_id, "reason_code": "other"}).json()
    assert [a for a in payer.get("/api/v1/alerts").json()["results"] if a["kind"] == "dispute_overdue"] == []
    Dispute.objects.filter(pk=d["id"]).update(
        opened_at=Dispute.objects.get(pk=d["id"]).opened_at - dt.timedelta(days=61)
    )
    overdue = [
        a
        for a in staff_client("bureau", "320000").get("/api/v1/alerts").json()["results"]
        if a["kind"] == "dispute_overdue"
    ]
    assert [a["setl_id"] for a in overdue] == [items["E3"].setl_id]


def test_payee_rejection_can_be_escalated_once_and_staff_decide(day_closed):
    day, items = day_closed
    payer, payee = staff_client("bureau", "340000"), staff_client("bureau", "320000")
    staff = staff_client("clearing_staff", "000000")
    d = payer.post("/api/v1/disputes", {"setl_id": items["E3"].setl_id, "reason_code": "not_covered"}).json()
    assert (
        payee.post(f"/api/v1/disputes/{d['id']}/resolve", {"outcome": "rejected"}).json()["status"]
        == "rejected"
    )
    e = payer.post(f"/api/v1/disputes/{d['id']}/escalate").json()
    assert e["status"] == "escalated"
    assert settlement_blocking_dispute_exists(items["E3"].setl_id) is True
    r = staff.post(f"/api/v1/disputes/{d['id']}/resolve", {"outcome": "rejected", "note": "covered"})
    assert r.json()["status"] == "rejected"
    assert settlement_blocking_dispute_exists(items["E3"].setl_id) is False  # staff decided: final
    assert payer.post(f"/api/v1/disputes/{d['id']}/escalate").json()["code"] == "dispute_closed"
    assert staff.post(f"/api/v1/disputes/{d['id']}/resolve", {"outcome": "upheld"}).status_code == 403


def test_zero_or_malformed_amounts_are_invalid(day_closed):
    day, items = day_closed
    payer = staff_client("bureau", "330000")
    for amount in ("0.00", "12.5", 12, "-1.00"):
        r = payer.post(
            "/api/v1/disputes", {"setl_id": items["E4"].setl_id, "reason_code": "other", "amount": amount}
        )
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == "amount", amount
    assert Dispute.objects.count() == 0


def test_zero_clr_amt_item_is_not_disputable(day_closed):
    day, _ = day_closed
    zero = record("330000", "310000", "0.00", "H31010400001")
    cycle_close(clr_date=day + dt.timedelta(days=1), actor="t")
    r = staff_client("bureau", "330000").post(
        "/api/v1/disputes", {"setl_id": zero.setl_id, "reason_code": "other"}
    )
    assert (r.status_code, r.json()["code"]) == (422, "not_disputable")
    assert Dispute.objects.count() == 0
