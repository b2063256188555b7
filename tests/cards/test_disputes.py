"""Disputes of the card scheme (spec/cards.md §The card scheme's clearing, "Disputes: as
clearing.md, for acceptance items"): the issuer's card bureau opens, the acceptor's card bureau
resolves, an upheld dispute is an ``adjustment`` item of the card scheme (its own ``acpt_id``,
issued when resolved) in the card cycle open then; refunds and disputes exclude each other; the
medical scheme is never touched. Exact figures on a small day D = 2026-11-27 and D+1."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from cards.models import Acceptor
from cards.services.acceptances import acceptances_record
from cards.services.reversal import acceptance_reverse
from clearing.leaf import card_leaf_bytes, leaf_hash
from clearing.models import (
    ClearingItem,
    CycleHead,
    Dispute,
    JournalEntry,
    JournalLeg,
    PrefundAccount,
    Statement,
)
from clearing.services.close import cycle_close
from core.errors import Conflict
from tests.cards.test_examples import SN
from tests.clearing.helpers import staff_client

pytestmark = pytest.mark.django_db
D, D1 = dt.date(2026, 11, 27), dt.date(2026, 11, 28)


def tap(clock, acceptor: str, card: str, at: str, amt: str, serial: str) -> str:  # noqa: ANN001
    clock.set(f"2026-11-27T{at}")
    record = {
        "acpt_serial": serial,
        "card_no": card,
        "card_sn": SN[card],
        "svc_type": "transit_fare",
        "used_at": f"2026-11-27T{at}+08:00",
        "mode": "online",
        "list_amt": amt,
        "amt": amt,
        "pay_src": "epurse",
    }
    (res,) = acceptances_record(
        acceptor=Acceptor.objects.get(acceptor_code=acceptor), records=[record], now=clock()
    )
    assert res.status == 201, res.error
    return res.acceptance.acpt_id


def refund(clock, acceptor: str, acpt_id: str, serial: str):  # noqa: ANN001, ANN201
    return acceptance_reverse(
        acceptor=Acceptor.objects.get(acceptor_code=acceptor),
        acpt_id=acpt_id,
        data={"acpt_serial": serial, "reason": "test"},
    )


@pytest.fixture
def closed_day(card_examples, clock):  # noqa: ANN001, ANN201
    """D: 甲 (Anhui card) at the Shanghai metro 4.00 and 5.00, 丁 (Zhejiang card) on the Nanjing
    bus 2.00; the card cycle D closed at D+1 00:30."""
    ids = [
        tap(clock, "T31000000001", "A34000001", "08:00:00", "4.00", "SHM-1"),
        tap(clock, "T32010000001", "A33000004", "09:00:00", "2.00", "NJB-1"),
        tap(clock, "T31000000001", "A34000001", "18:00:00", "5.00", "SHM-2"),
    ]
    assert ids == ["CA20261127000001", "CA20261127000002", "CA20261127000003"]
    clock.set("2026-11-28T00:30:00")
    cycle_close(clr_date=D, actor="t", scheme="card")
    return ids


def test_card_dispute_upheld_rejected_escalated_and_the_next_card_cycle(closed_day, clock):  # noqa: ANN001, PLR0915
    first, nanjing, second = closed_day
    clock.set("2026-11-28T09:00:00")
    issuer = staff_client("card_bureau", "340000")  # payer of 甲's uses
    acceptor_bureau = staff_client("card_bureau", "310000")  # payee (the Shanghai metro)
    staff = staff_client("clearing_staff", "000000")
    # who may open: the issuer's card bureau, on a cleared acceptance of a closed card cycle
    assert (
        acceptor_bureau.post("/api/v1/disputes", {"acpt_id": first, "reason_code": "other"}).status_code
        == 404
    )
    assert (
        staff_client("bureau", "340000")
        .post("/api/v1/disputes", {"setl_id": first, "reason_code": "other"})
        .status_code
        == 404
    )  # the medical bureau of the same province: not its scheme
    assert staff.post("/api/v1/disputes", {"acpt_id": first, "reason_code": "other"}).status_code == 403
    r = staff_client("bureau", "340000").post(
        "/api/v1/disputes", {"setl_id": first, "reason_code": "card_denied_missed"}
    )
    assert (r.status_code, r.json()["errors"][0]["field"]) == (400, "reason_code")  # the card scheme's code
    r = issuer.post(
        "/api/v1/disputes", {"acpt_id": first, "reason_code": "card_denied_missed", "note": "lost"}
    )
    assert r.status_code == 201, r.content
    d1 = r.json()
    assert {
        k: d1[k] for k in ("scheme", "acpt_id", "acceptor_code", "payer", "payee", "amount", "status")
    } == {
        "scheme": "card",
        "acpt_id": "CA20261127000001",
        "acceptor_code": "T31000000001",
        "payer": "340000",
        "payee": "310000",
        "amount": "4.00",
        "status": "open",
    }
    assert "setl_id" not in d1 and "fixmedins_code" not in d1
    r = issuer.post("/api/v1/disputes", {"acpt_id": first, "reason_code": "other"})
    assert (r.status_code, r.json()["code"]) == (409, "already_disputed")
    r = issuer.post("/api/v1/disputes", {"acpt_id": second, "reason_code": "amount_error", "amount": "5.01"})
    assert r.json()["code"] == "amount_exceeds_clr_amt"
    r = issuer.post("/api/v1/disputes", {"acpt_id": second, "reason_code": "amount_error", "amount": "1.50"})
    assert r.status_code == 201 and r.json()["amount"] == "1.50"
    d2 = r.json()
    # a refund of a disputed acceptance is refused; a refunded one cannot be disputed
    with pytest.raises(Conflict) as refused:
        refund(clock, "T31000000001", second, "SHM-R-2")
    assert refused.value.code == "disputed"
    rev, created = refund(clock, "T32010000001", nanjing, "NJB-R-1")
    assert created and rev.acpt_id == "CA20261128000001"
    r = staff_client("card_bureau", "330000").post(
        "/api/v1/disputes", {"acpt_id": nanjing, "reason_code": "other"}
    )
    assert (r.status_code, r.json()["code"]) == (409, "already_reversed")
    r = staff_client("card_bureau", "330000").post(
        "/api/v1/disputes", {"acpt_id": rev.acpt_id, "reason_code": "other"}
    )
    assert (r.status_code, r.json()["code"]) == (422, "not_disputable")  # a reversal item
    # an acceptance of the open card cycle is not disputable yet
    clock.set("2026-11-28T09:30:00")
    (res,) = acceptances_record(
        acceptor=Acceptor.objects.get(acceptor_code="T31000000001"),
        records=[
            {
                "acpt_serial": "SHM-3",
                "card_no": "A34000001",
                "card_sn": SN["A34000001"],
                "svc_type": "transit_fare",
                "used_at": "2026-11-28T09:29:00+08:00",
                "mode": "online",
                "list_amt": "3.00",
                "amt": "3.00",
                "pay_src": "epurse",
            }
        ],
        now=clock(),
    )
    assert res.acceptance.acpt_id == "CA20261128000002"
    r = issuer.post("/api/v1/disputes", {"acpt_id": "CA20261128000002", "reason_code": "other"})
    assert (r.status_code, r.json()["code"]) == (422, "not_disputable")
    # lists: each bureau its own scheme; staff choose
    assert [d["acpt_id"] for d in acceptor_bureau.get("/api/v1/disputes").json()["results"]] == [
        first,
        second,
    ]
    assert staff_client("bureau", "310000").get("/api/v1/disputes").json()["results"] == []
    assert staff_client("bureau", "310000").get("/api/v1/disputes?scheme=card").status_code == 403
    assert staff.get("/api/v1/disputes").json()["results"] == []
    assert [d["acpt_id"] for d in staff.get("/api/v1/disputes?scheme=card").json()["results"]] == [
        first,
        second,
    ]
    # resolution: the acceptor's card bureau; a medical bureau or the payer cannot
    url1, url2 = f"/api/v1/disputes/{d1['id']}/resolve", f"/api/v1/disputes/{d2['id']}/resolve"
    assert staff_client("bureau", "310000").post(url1, {"outcome": "upheld"}).status_code == 404
    assert issuer.post(url1, {"outcome": "upheld"}).status_code == 403
    clock.set("2026-11-28T09:40:00")
    r = acceptor_bureau.post(url1, {"outcome": "upheld", "note": "reader log shows the listing"})
    assert r.status_code == 200, r.content
    assert (r.json()["status"], r.json()["resolved_amount"], r.json()["adjustment_acpt_id"]) == (
        "upheld",
        "4.00",
        "CA20261128000003",
    )
    adj = ClearingItem.objects.get(setl_id="CA20261128000003")
    assert (adj.scheme, adj.kind, adj.clr_date, adj.payer, adj.payee, adj.clr_amt, adj.fixmedins_code) == (
        "card",
        "adjustment",
        D1,
        "340000",
        "310000",
        Decimal("-4.00"),
        "T31000000001",
    )
    leaf = (
        '{"acceptor_code":"T31000000001","acpt_id":"CA20261128000003","clr_amt":"-4.00","clr_date":'
        '"2026-11-28","kind":"adjustment","payee":"310000","payer":"340000","scheme":"card"}'
    )
    assert (
        card_leaf_bytes(
            acpt_id=adj.setl_id,
            kind=adj.kind,
            payer=adj.payer,
            payee=adj.payee,
            clr_amt=adj.clr_amt,
            acceptor_code=adj.fixmedins_code,
            clr_date=D1,
        )
        == leaf.encode()
    )
    assert bytes(adj.leaf_hash) == leaf_hash(leaf.encode())
    # the second: rejected by the payee, escalated by the issuer, upheld by staff for 1.50
    clock.set("2026-11-28T09:50:00")
    assert acceptor_bureau.post(url2, {"outcome": "rejected"}).json()["status"] == "rejected"
    assert staff_client("bureau", "340000").post(f"/api/v1/disputes/{d2['id']}/escalate").status_code == 404
    assert issuer.post(f"/api/v1/disputes/{d2['id']}/escalate").json()["status"] == "escalated"
    assert acceptor_bureau.post(url2, {"outcome": "upheld"}).status_code == 403
    r = staff.post(url2, {"outcome": "upheld"})
    assert (r.status_code, r.json()["adjustment_acpt_id"]) == (200, "CA20261128000004")
    assert Dispute.objects.get(pk=d2["id"]).resolved_amount == Decimal("1.50")
    # D+1's card close: the refund and both adjustments; the medical scheme has nothing
    clock.set("2026-11-29T00:30:00")
    cycle = cycle_close(clr_date=D1, actor="t", scheme="card")
    head = json.loads(bytes(CycleHead.objects.get(cycle=cycle).canonical))
    assert {k: head[k] for k in ("item_cnt", "tree_size", "gross", "net_funding", "netting_efficiency")} == {
        "item_cnt": 4,
        "tree_size": 4,
        "gross": "4.50",
        "net_funding": "4.50",
        "netting_efficiency": "0.0000",
    }
    assert head["net_positions"] == {"310000": "-2.50", "320000": "-2.00", "330000": "2.00", "340000": "2.50"}
    statements = {s.admdvs: json.loads(bytes(s.canonical)) for s in Statement.objects.filter(cycle=cycle)}
    assert {
        r["acceptor_code"]: (r["amount"], r["cnt"]) for r in statements["310000"]["acceptor_remittance"]
    } == {"T31000000001": ("-2.50", 3)}
    assert statements["320000"]["acceptor_remittance"] == [
        {"acceptor_code": "T32010000001", "amount": "-2.00", "cnt": 1}
    ]
    balances = dict(PrefundAccount.objects.filter(scheme="card").values_list("admdvs", "balance"))
    # after D: 310000 209.00, 320000 202.00, 330000 198.00, 340000 71.00
    assert balances == {
        "310000": Decimal("206.50"),
        "320000": Decimal("200.00"),
        "330000": Decimal("200.00"),
        "340000": Decimal("73.50"),
    }
    legs = JournalLeg.objects.filter(entry__reference=f"card-cycle:{D1}").values_list("account", flat=True)
    assert set(legs) == {"card:310000", "card:320000", "card:330000", "card:340000"}
    assert not ClearingItem.objects.filter(scheme="medical").exists()
    assert not JournalEntry.objects.filter(scheme="medical").exists()
    assert not PrefundAccount.objects.filter(scheme="medical").exists()


def test_card_dispute_window_and_overdue_alert(closed_day, clock):  # noqa: ANN001
    """clearing.md's deadlines hold for the card scheme: 30 days from ``clr_date`` to open
    (``DISPUTE_WINDOW_DAYS``), and an open dispute older than 60 days (``DISPUTE_RESOLUTION_DAYS``)
    is listed as overdue in the card bureaus' alerts, not the medical bureaus'."""
    first, _nanjing, second = closed_day
    clock.set("2026-12-27T23:59:00")  # D + 30 days: still open
    r = staff_client("card_bureau", "340000").post(
        "/api/v1/disputes", {"acpt_id": first, "reason_code": "other"}
    )
    assert r.status_code == 201, r.content
    dispute_id = r.json()["id"]
    clock.set("2026-12-28T00:00:00")  # D + 31 days
    r = staff_client("card_bureau", "340000").post(
        "/api/v1/disputes", {"acpt_id": second, "reason_code": "other"}
    )
    assert (r.status_code, r.json()["code"]) == (422, "dispute_window_closed")
    clock.set("2027-02-26T00:00:00")  # 61 days after opening, never resolved
    alerts = staff_client("card_bureau", "310000").get("/api/v1/alerts").json()["results"]
    overdue = [a for a in alerts if a["kind"] == "dispute_overdue"]
    assert [(a["dispute_id"], a["payer"], a["payee"], a["status"]) for a in overdue] == [
        (dispute_id, "340000", "310000", "open")
    ]
    medical = staff_client("bureau", "310000").get("/api/v1/alerts").json()["results"]
    assert [a for a in medical if a["kind"] == "dispute_overdue"] == []
