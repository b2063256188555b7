"""Exactly once: replays, conflicts, reversals (spec/hospital-api.md §Idempotency, §reversal)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from unittest import mock

import pytest

from accounts.models import Person
from clearing.models import ClearingItem
from core.models import AuditRecord
from settlement.models import Accumulator, FeeDetail, Settlement
from tests.settlement.conftest import CERT, SH, bill

pytestmark = pytest.mark.django_db
E4 = [("001201000010000", "1", "3000.00", "3000.00")]


def standing(psn_no: str) -> tuple:
    p = Person.objects.get(psn_no=psn_no)
    accs = sorted(
        Accumulator.objects.filter(person=p).values_list(
            "year", "insutype", "med_type_group", "deductible_used", "fund_paid"
        )
    )
    return p.acct_balance, accs


def test_replay_same_body_and_header(world):
    body = bill(CERT["丁"], "310", "24", E4, "1")
    first = world["H31010400001"].post("/api/v1/settlements", body)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first
    body2 = dict(body, psn_name="示例丁")  # psn_name is not business content
    again = world["H31010400001"].post("/api/v1/settlements", body2)
    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert Settlement.objects.count() == 1 and ClearingItem.objects.count() == 1
    assert Person.objects.get(psn_no="33010000000000000004").acct_balance == D("400.00")
    # times as instants and numbers as numbers: the same content written differently is a replay
    body3 = dict(body, begntime=dt.datetime.fromisoformat(body["begntime"]).astimezone(dt.UTC).isoformat())
    body3["feedetail"] = [dict(body["feedetail"][0], cnt="1.0000", pric="3000.0")]
    assert world["H31010400001"].post("/api/v1/settlements", body3).status_code == 200
    # the fingerprint holds no certno in clear
    s = Settlement.objects.get()
    assert CERT["丁"] not in s.fingerprint and len(s.fingerprint) == 64


def test_conflict_names_original(world):
    body = bill(CERT["丁"], "310", "24", E4, "1")
    first = world["H31010400001"].post("/api/v1/settlements", body).json()
    changed = dict(body, acct_used_flag="0")
    r = world["H31010400001"].post("/api/v1/settlements", changed)
    assert (r.status_code, r.json()["code"], r.json()["setl_id"]) == (
        409,
        "medins_setl_id_conflict",
        first["setlinfo"]["setl_id"],
    )
    # another institution may use the same serial
    other = bill(
        CERT["庚"], "310", "11", [("XA01AAA001", "1", "20.00", "20.00")], "1", serial=body["medins_setl_id"]
    )
    assert world["H32010200001"].post("/api/v1/settlements", other).status_code == 201


def test_reverse_restores_exactly_then_replays(world):
    psn = "33010000000000000004"
    before = standing(psn)
    s = (
        world["H31010400001"]
        .post("/api/v1/settlements", bill(CERT["丁"], "310", "24", E4, "1"))
        .json()["setlinfo"]
    )
    assert standing(psn) != before
    path = f"/api/v1/settlements/{s['setl_id']}/reversal"
    r = world["H31010400001"].post(path, {"medins_setl_id": "REV-1", "reason": "wrong patient"})
    assert r.status_code == 201, r.content
    rev = r.json()["setlinfo"]
    assert rev["orig_setl_id"] == s["setl_id"] and rev["status"] == "reversal"
    for band in (
        "medfee_sumamt",
        "hifp_pay",
        "fund_pay_sumamt",
        "psn_part_amt",
        "acct_pay",
        "psn_cash_pay",
        "clr_amt",
        "act_pay_dedc",
        "inscp_scp_amt",
    ):
        assert D(rev[band]) == -D(s[band]), band
    assert rev["pool_prop_selfpay"] == "0.7000" and rev["balc"] == "2000.00"
    assert rev["clr_date"] == dt.datetime.now(SH).date().isoformat()
    bal, accs = standing(psn)
    assert bal == before[0]
    assert [a[3:] for a in accs] == [(D("0.00"), D("0.00"))]
    item = ClearingItem.objects.get(setl_id=rev["setl_id"])
    assert (item.kind, item.clr_amt, item.payer, item.payee) == (
        "reversal",
        D("-3000.00"),
        "330000",
        "310000",
    )
    assert Settlement.objects.get(setl_id=s["setl_id"]).status == "reversed"
    again = world["H31010400001"].post(path, {"medins_setl_id": "REV-1", "reason": "wrong patient"})
    assert (again.status_code, again["Idempotent-Replayed"]) == (200, "true")
    assert again.json() == r.json()
    other = world["H31010400001"].post(path, {"medins_setl_id": "REV-2"})
    assert (other.status_code, other.json()["code"]) == (409, "already_reversed")
    rr = world["H31010400001"].post(
        f"/api/v1/settlements/{rev['setl_id']}/reversal", {"medins_setl_id": "REV-3"}
    )
    assert (rr.status_code, rr.json()["code"]) == (422, "not_reversible")
    # a reversal serial is in the settlements' namespace
    clash = bill(CERT["丁"], "310", "24", E4, "1", serial="REV-1")
    assert (
        world["H31010400001"].post("/api/v1/settlements", clash).json()["code"] == "medins_setl_id_conflict"
    )
    assert AuditRecord.objects.filter(action="settlement.reverse", object_id=rev["setl_id"]).count() == 1


def test_reverse_scope_and_dispute(world):
    s = (
        world["H31010400001"]
        .post("/api/v1/settlements", bill(CERT["丁"], "310", "24", E4, "1"))
        .json()["setlinfo"]
    )
    path = f"/api/v1/settlements/{s['setl_id']}/reversal"
    assert world["H32010200001"].post(path, {"medins_setl_id": "X"}).status_code == 404
    assert (
        world["H31010400001"].post("/api/v1/settlements/nope/reversal", {"medins_setl_id": "X"}).status_code
        == 404
    )
    bad = world["H31010400001"].post(path, {"reason": "x"})
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (400, "medins_setl_id")
    with mock.patch("clearing.selectors.settlement_blocking_dispute_exists", return_value=True):
        r = world["H31010400001"].post(path, {"medins_setl_id": "X"})
    assert (r.status_code, r.json()["code"]) == (409, "disputed")
    assert Settlement.objects.get(setl_id=s["setl_id"]).status == "settled"
    assert Person.objects.get(psn_no="33010000000000000004").acct_balance == D("400.00")


def test_preview_records_nothing(world):
    body = bill(CERT["丁"], "310", "24", E4, "1")
    del body["medins_setl_id"]
    r = world["H31010400001"].post("/api/v1/settlements/preview", body)
    assert r.status_code == 200, r.content
    info = r.json()["setlinfo"]
    assert "setl_id" not in info and info["status"] == "preview"
    assert (info["hifp_pay"], info["acct_pay"], info["balc"]) == ("1400.00", "1600.00", "400.00")
    assert Settlement.objects.count() == FeeDetail.objects.count() == ClearingItem.objects.count() == 0
    assert Person.objects.get(psn_no="33010000000000000004").acct_balance == D("2000.00")
    assert not Person.objects.get(psn_no="33010000000000000004").filings.exists()


def test_batch_items_independent(world):
    good = bill(CERT["丁"], "310", "24", E4, "1")
    items = [
        good,
        bill(CERT["己"], "310", "11", [("XA01AAA001", "1", "20.00", "20.00")]),
        dict(good),
        bill(CERT["丁"], "310", "24", [("XA01AAA001", "1", "20.00", "20.01")]),
        {"medins_setl_id": "x"},
    ]
    r = world["H31010400001"].post("/api/v1/settlements/batch", {"items": items})
    assert r.status_code == 200, r.content
    res = r.json()["results"]
    assert [x["status"] for x in res] == [201, 422, 200, 422, 400]
    assert res[1]["problem"]["code"] == "no_filing" and res[3]["problem"]["code"] == "amount_mismatch"
    assert res[0]["setlinfo"] == res[2]["setlinfo"]
    assert Settlement.objects.count() == 1
    assert world["H31010400001"].post("/api/v1/settlements/batch", {"items": []}).status_code == 400


def test_reads_and_scope(world, staff_client):
    s = world["H31010400001"].post("/api/v1/settlements", bill(CERT["丁"], "310", "24", E4, "1")).json()
    sid = s["setlinfo"]["setl_id"]
    own = world["H31010400001"].get(f"/api/v1/settlements/{sid}")
    assert own.status_code == 200 and own.json() == s
    assert world["H32010200001"].get(f"/api/v1/settlements/{sid}").status_code == 404
    lst = world["H31010400001"].get("/api/v1/settlements?status=settled&page_size=10").json()
    assert lst["count"] == 1 and lst["results"][0]["setl_id"] == sid and lst["next"] is None
    assert world["H31010400001"].get("/api/v1/settlements?psn_no=nobody").json()["count"] == 0
    assert world["H32010200001"].get("/api/v1/settlements").json()["count"] == 0
    assert world["H31010400001"].get("/api/v1/settlements?page_size=1001").status_code == 400
    payer = staff_client("bureau", "330000").get(f"/api/v1/settlements/{sid}")
    assert payer.status_code == 200
    assert payer.json()["setlinfo"]["psn_name"] == "示*丁" and payer.json()["feedetail"] == s["feedetail"]
    assert staff_client("bureau", "310000").get(f"/api/v1/settlements/{sid}").status_code == 200
    assert staff_client("bureau", "340000").get(f"/api/v1/settlements/{sid}").status_code == 404
    assert staff_client("clearing_staff", "000000").get(f"/api/v1/settlements/{sid}").status_code == 200
    assert staff_client("bureau", "330000").post("/api/v1/settlements", {}).status_code == 403


def test_lookup(world):
    r = world["H31010400001"].post(
        "/api/v1/persons/lookup", {"mdtrt_cert_type": "02", "mdtrt_cert_no": CERT["甲"]}
    )
    assert r.status_code == 200
    body = r.json()
    assert (body["psn_no"], body["certno"], body["balc"], body["out_of_area"]) == (
        "34010000000000000001",
        "3401**********1234",
        "500.00",
        True,
    )
    assert [f["filing_type"] for f in body["filings"]] == ["12"]
    card = world["H34010400001"].post(
        "/api/v1/persons/lookup",
        {
            "mdtrt_cert_type": "03",
            "mdtrt_cert_no": "A34000001",
            "card_sn": "5f1c0e6a9b2d4c7e8a3b6d9f0c1e2a41",
        },
    )
    assert card.json()["out_of_area"] is False and card.json()["filings"] == []
    unknown = world["H31010400001"].post(
        "/api/v1/persons/lookup", {"mdtrt_cert_type": "02", "mdtrt_cert_no": "11010519491231002X"}
    )
    assert (unknown.status_code, unknown.json()["code"]) == (422, "unknown_person")
    assert AuditRecord.objects.filter(action="person.lookup").count() == 2


def test_open_dispute_blocks_reversal_and_is_listed(world):
    from django.utils import timezone

    from clearing.models import Dispute

    h = world["H31010400001"]
    s = h.post("/api/v1/settlements", bill(CERT["丁"], "310", "24", E4, "1")).json()["setlinfo"]
    item = ClearingItem.objects.get(setl_id=s["setl_id"])
    Dispute.objects.create(
        setl_id=s["setl_id"],
        item=item,
        payer="330000",
        payee="310000",
        fixmedins_code="H31010400001",
        reason_code="other",
        amount=D("100.00"),
        opened_by="bureau",
        opened_at=timezone.now(),
    )
    r = h.post(f"/api/v1/settlements/{s['setl_id']}/reversal", {"medins_setl_id": "REV-D"})
    assert (r.status_code, r.json()["code"]) == (409, "disputed")
    detail = h.get(f"/api/v1/settlements/{s['setl_id']}").json()
    assert [(d["status"], d["amount"]) for d in detail["disputes"]] == [("open", "100.00")]
    assert "adjustments" not in detail


def test_list_filters_and_pages(world):
    h = world["H31010400001"]
    ids = [
        h.post("/api/v1/settlements", bill(CERT["丁"], "310", "24", E4, "0", serial=f"P-{i}")).json()[
            "setlinfo"
        ]["setl_id"]
        for i in range(3)
    ]
    today = dt.datetime.now(SH).date()
    page1 = h.get("/api/v1/settlements?page_size=2").json()
    assert page1["count"] == 3 and [r["setl_id"] for r in page1["results"]] == ids[:2]
    assert page1["previous"] is None and "cursor=" in page1["next"]  # keyset links (core.pagination)
    followed = h.get(page1["next"].removeprefix("http://testserver")).json()
    assert [r["setl_id"] for r in followed["results"]] == ids[2:] and followed["next"] is None
    page2 = h.get("/api/v1/settlements?page_size=2&page=2").json()  # the spec's ?page= still answers
    assert [r["setl_id"] for r in page2["results"]] == ids[2:] and page2["next"] is None
    back = h.get(page2["previous"].removeprefix("http://testserver")).json()
    assert [r["setl_id"] for r in back["results"]] == ids[:2] and back["previous"] is None
    q = f"begin={today}&end={today}&clr_date={today}&medins_setl_id=P-1&psn_no=33010000000000000004"
    assert [r["setl_id"] for r in h.get(f"/api/v1/settlements?{q}").json()["results"]] == [ids[1]]
    yesterday = today - dt.timedelta(days=1)
    assert h.get(f"/api/v1/settlements?end={yesterday}").json()["count"] == 0
    bad = h.get("/api/v1/settlements?begin=27-11-2026&status=nope&page=0")
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json()["errors"]} == {"begin", "status"}
    assert h.get("/api/v1/settlements?page=0").status_code == 400


def test_batch_retries_a_deadlock(world, monkeypatch):
    from django.db import OperationalError

    from settlement.services import batch

    calls = {"n": 0}
    real = batch.cycle_for_write

    class Deadlock(Exception):
        sqlstate = "40P01"

    def flaky():
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("deadlock detected") from Deadlock()
        return real()

    monkeypatch.setattr(batch, "cycle_for_write", flaky)
    r = world["H31010400001"].post(
        "/api/v1/settlements/batch", {"items": [bill(CERT["丁"], "310", "24", E4, "1")]}
    )
    assert [x["status"] for x in r.json()["results"]] == [201]
    assert calls["n"] == 2 and Settlement.objects.count() == 1
