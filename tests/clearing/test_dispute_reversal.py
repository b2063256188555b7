"""A reversal and a dispute of one settlement never both move money (spec/hospital-api.md §reversal,
clearing.md §Disputes; docs/decisions.md §Disputes and reversals): both orders, the defence in
depth in the dispute services, and the race on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connections

from clearing.models import ClearingItem, Dispute
from clearing.services.close import cycle_close
from tests.adversary.helpers import DING, bill, line

pytestmark = pytest.mark.django_db


def _settled_closed_disputed(institution_client, staff_client) -> tuple:
    """E4-like: 示例丁 3000.00, 330000 → 310000, cycle closed, payer dispute open."""
    hospital = institution_client("H31010400001")
    r = hospital.post("/api/v1/settlements", bill(certno=DING, med_type="24", acct="1",
                                                  lines=[line(code="001201000010000", pric="3000.00")]))
    assert r.status_code == 201, r.content
    info = r.json()["setlinfo"]
    assert info["clr_amt"] == "3000.00"
    cycle_close(clr_date=dt.date.fromisoformat(info["clr_date"]), actor="test")
    payer, payee = staff_client("bureau", "330000"), staff_client("bureau", "310000")
    d = payer.post("/api/v1/disputes", {"setl_id": info["setl_id"], "reason_code": "other", "note": "x"})
    assert d.status_code == 201, d.content
    return hospital, payer, payee, staff_client("clearing_staff", "000000"), info["setl_id"], d.json()["id"]


def _moved() -> Decimal:
    return sum((i.clr_amt for i in ClearingItem.objects.filter(payer="330000", payee="310000")),
               Decimal("0.00"))


def _reverse(hospital, setl_id: str, serial: str):
    return hospital.post(f"/api/v1/settlements/{setl_id}/reversal", {"medins_setl_id": serial})


def test_reversal_waits_for_a_final_rejection(examples, institution_client, staff_client):
    hospital, payer, payee, staff, setl_id, did = _settled_closed_disputed(institution_client, staff_client)
    assert _reverse(hospital, setl_id, "REV-1").json()["code"] == "disputed"  # open
    assert payee.post(f"/api/v1/disputes/{did}/resolve", {"outcome": "rejected"}).status_code == 200
    assert _reverse(hospital, setl_id, "REV-2").json()["code"] == "disputed"  # rejected, escalatable
    assert payer.post(f"/api/v1/disputes/{did}/escalate", {}).status_code == 200
    assert _reverse(hospital, setl_id, "REV-3").json()["code"] == "disputed"  # escalated
    assert staff.post(f"/api/v1/disputes/{did}/resolve", {"outcome": "rejected"}).status_code == 200
    rev = _reverse(hospital, setl_id, "REV-4")  # staff rejected: final
    assert rev.status_code == 201, rev.content
    assert rev.json()["setlinfo"]["clr_amt"] == "-3000.00"
    assert _moved() == Decimal("0.00")


def test_rejection_final_after_the_escalation_period(examples, institution_client, staff_client):
    hospital, payer, payee, staff, setl_id, did = _settled_closed_disputed(institution_client, staff_client)
    assert payee.post(f"/api/v1/disputes/{did}/resolve", {"outcome": "rejected"}).status_code == 200
    opened = Dispute.objects.get(pk=did).opened_at
    Dispute.objects.filter(pk=did).update(opened_at=opened - dt.timedelta(days=61))
    assert _reverse(hospital, setl_id, "REV-1").status_code == 201
    esc = payer.post(f"/api/v1/disputes/{did}/escalate", {})
    assert (esc.status_code, esc.json()["code"]) == (409, "already_reversed")
    assert Dispute.objects.get(pk=did).status == "rejected"
    assert _moved() == Decimal("0.00")


def test_uphold_first_then_reversal_is_refused(examples, institution_client, staff_client):
    hospital, payer, payee, staff, setl_id, did = _settled_closed_disputed(institution_client, staff_client)
    assert payee.post(f"/api/v1/disputes/{did}/resolve", {"outcome": "upheld"}).status_code == 200
    r = _reverse(hospital, setl_id, "REV-1")
    assert (r.status_code, r.json()["code"]) == (409, "disputed")
    assert _moved() == Decimal("0.00")


def test_dispute_services_refuse_a_reversed_settlement(
        examples, institution_client, staff_client, monkeypatch):
    """Defence in depth: even if a reversal got past the blocking check, uphold and escalate refuse."""
    hospital, payer, payee, staff, setl_id, did = _settled_closed_disputed(institution_client, staff_client)
    assert payer.post(f"/api/v1/disputes/{did}/escalate", {}).status_code == 200
    monkeypatch.setattr("clearing.selectors.settlement_blocking_dispute_exists", lambda _setl_id: False)
    assert _reverse(hospital, setl_id, "REV-1").status_code == 201
    up = staff.post(f"/api/v1/disputes/{did}/resolve", {"outcome": "upheld"})
    assert (up.status_code, up.json()["code"]) == (409, "already_reversed")
    assert Dispute.objects.get(pk=did).status == "escalated"
    assert staff.post(f"/api/v1/disputes/{did}/resolve", {"outcome": "rejected"}).status_code == 200
    assert _moved() == Decimal("0.00")


def test_escalation_of_a_reversed_settlement_is_refused(
        examples, institution_client, staff_client, monkeypatch):
    hospital, payer, payee, staff, setl_id, did = _settled_closed_disputed(institution_client, staff_client)
    assert payee.post(f"/api/v1/disputes/{did}/resolve", {"outcome": "rejected"}).status_code == 200
    monkeypatch.setattr("clearing.selectors.settlement_blocking_dispute_exists", lambda _setl_id: False)
    assert _reverse(hospital, setl_id, "REV-1").status_code == 201
    esc = payer.post(f"/api/v1/disputes/{did}/escalate", {})
    assert (esc.status_code, esc.json()["code"]) == (409, "already_reversed")
    assert _moved() == Decimal("0.00")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("escalated", [True, False])
def test_reversal_and_uphold_at_once_exactly_one_succeeds(
        examples, institution_client, staff_client, escalated):
    hospital, payer, payee, staff, setl_id, did = _settled_closed_disputed(institution_client, staff_client)
    if escalated:
        assert payer.post(f"/api/v1/disputes/{did}/escalate", {}).status_code == 200
    decider = staff if escalated else payee
    gate = threading.Barrier(2)
    results: dict[str, int] = {}

    def run(name: str, call) -> None:
        try:
            gate.wait()
            results[name] = call().status_code
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=("reverse", lambda: _reverse(hospital, setl_id, "REV-RACE"))),
        threading.Thread(target=run, args=("uphold", lambda: decider.post(
            f"/api/v1/disputes/{did}/resolve", {"outcome": "upheld"}))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [200, 409], results
    assert results["uphold"] == 200  # the dispute was open or escalated: it blocks the reversal
    assert _moved() == Decimal("0.00")
