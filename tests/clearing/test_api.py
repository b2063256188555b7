"""Bureau endpoints (spec/bureau-api.md) and their scopes (security.md §Scopes)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client

from clearing.models import Cycle, PrefundAccount, StatementAck
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


def test_cycles_list_and_detail(day_closed):
    day, _ = day_closed
    record("340000", "310000", "10.00", "H31010400001")  # lands in D+1, open
    b = staff_client("bureau", "330000")
    body = b.get("/api/v1/cycles").json()
    assert body["count"] == 2 and body["previous"] is None
    first, second = body["results"]
    assert first == {
        "clr_date": day.isoformat(),
        "status": "closed",
        "item_cnt": 6,
        "gross": "6166.00",
        "net_funding": "5820.44",
        "netting_efficiency": "0.0560",
        "net": "-2898.22",
    }
    assert second["status"] == "open" and second["gross"] is None and second["net"] is None
    staff = staff_client("clearing_staff", "000000")
    assert staff.get("/api/v1/cycles").json()["results"][0]["net"] is None
    d = b.get(f"/api/v1/cycles/{day}").json()
    assert d["status"] == "closed" and d["head"]["gross"] == "6166.00" and len(d["key_id"]) > 0
    nxt = b.get(f"/api/v1/cycles/{day + dt.timedelta(days=1)}").json()
    assert nxt["head"] is None and nxt["signature"] is None
    assert (
        b.get(f"/api/v1/cycles/{day + dt.timedelta(days=1)}/head.json").json()["code"] == "cycle_not_closed"
    )
    assert b.get("/api/v1/cycles/2026-02-30").status_code == 404


def test_statement_envelope_csv_and_ack(day_closed):
    day, _ = day_closed
    b = staff_client("bureau", "320000", username="nanjing")
    env = b.get(f"/api/v1/cycles/{day}/statement").json()
    assert env["statement"]["admdvs"] == "320000" and env["statement"]["net"] == "398.22"
    assert env["key_id"] and len(env["signature"]) == 88
    csv_resp = b.get(f"/api/v1/cycles/{day}/statement?format=csv")
    assert csv_resp.status_code == 200 and csv_resp["Content-Type"].startswith("text/csv")
    text = csv_resp.content.decode("utf-8")
    assert text.startswith("\ufeffsection,code,")
    assert (
        "bilateral,330000,101.78,0.00,2,0,,,浙江省" in text
        and "hospital_remittance,H32010200001,,,,,500.00,1," in text
    )
    staff = staff_client("clearing_staff", "000000")
    assert staff.get(f"/api/v1/cycles/{day}/statement").json()["code"] == "invalid"
    assert (
        staff.get(f"/api/v1/cycles/{day}/statement?admdvs=330000").json()["statement"]["admdvs"] == "330000"
    )
    first = b.post(f"/api/v1/cycles/{day}/statement/ack")
    assert first.status_code == 201 and first.json()["acked_by"] == "nanjing"
    again = b.post(f"/api/v1/cycles/{day}/statement/ack")
    assert again.status_code == 200 and again.json() == first.json()
    assert StatementAck.objects.count() == 1
    assert staff.post(f"/api/v1/cycles/{day}/statement/ack").status_code == 403


def test_items_cursor_pagination_csv_and_proof_scope(day_closed):
    day, items = day_closed
    b = staff_client("bureau", "320000")
    page = b.get(f"/api/v1/cycles/{day}/items?page_size=2").json()
    mine = sorted(i.setl_id for i in items.values() if "320000" in (i.payer, i.payee))
    got = [r["setl_id"] for r in page["results"]]
    assert page["previous"] is None
    while page["next"]:
        page = b.get(page["next"]).json()
        got += [r["setl_id"] for r in page["results"]]
    assert got == mine and len(mine) == 4
    back = b.get(page["previous"]).json()
    assert [r["setl_id"] for r in back["results"]] == mine[:2]
    assert (
        back["previous"] is None and [r["setl_id"] for r in b.get(back["next"]).json()["results"]] == mine[2:]
    )
    first = b.get(f"/api/v1/cycles/{day}/items?page_size=1").json()["results"][0]
    assert set(first) == {"setl_id", "kind", "payer", "payee", "clr_amt", "fixmedins_code", "clr_date"}
    assert b.get(f"/api/v1/cycles/{day}/items?counterparty=330000").json()["results"][0]["payee"] == "330000"
    assert b.get(f"/api/v1/cycles/{day}/items?kind=reversal").json()["results"] == []
    assert b.get(f"/api/v1/cycles/{day}/items?cursor=zzz").status_code == 400
    csv_resp = b.get(f"/api/v1/cycles/{day}/items?format=csv")
    lines = b"".join(csv_resp.streaming_content).decode("utf-8").splitlines()
    assert lines[0].startswith("\ufeffsetl_id,kind,payer,payee,clr_amt,fixmedins_code,clr_date,")
    assert len(lines) == 5
    e1 = items["E1"].setl_id  # 340000 → 310000: not 320000's
    assert b.get(f"/api/v1/cycles/{day}/items/{e1}/proof").status_code == 404
    assert (
        staff_client("bureau", "340000").get(f"/api/v1/cycles/{day}/items/{e1}/proof").json()["leaf_index"]
        >= 0
    )
    staff = staff_client("clearing_staff", "000000")
    assert (
        len(b"".join(staff.get(f"/api/v1/cycles/{day}/items?format=csv").streaming_content).splitlines()) == 8
    )


def test_keys_need_no_auth():
    c = Client()
    keys = c.get("/api/v1/keys").json()
    assert keys[-1]["current"] is True and keys[-1]["algorithm"] == "Ed25519"
    assert c.get(f"/api/v1/keys/{keys[-1]['key_id']}.pem").content.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert c.get("/api/v1/keys/nope.pem").status_code == 404


def test_prefunds_deposits_withdrawals_idempotent(day_closed):
    staff = staff_client("clearing_staff", "000000")
    body = {"amount": "1000.00", "value_date": "2026-11-30", "reference": "dep-1"}
    r1 = staff.post("/api/v1/prefunds/330000/deposits", body)
    assert r1.status_code == 201 and r1.json()["balance_after"] == "101.78"
    r2 = staff.post("/api/v1/prefunds/330000/deposits", body)
    assert r2.status_code == 200 and r2.json()["id"] == r1.json()["id"]
    assert (
        staff.post("/api/v1/prefunds/330000/deposits", {**body, "amount": "5.00"}).json()["code"]
        == "reference_conflict"
    )
    assert (
        staff.post("/api/v1/prefunds/330000/deposits", {**body, "amount": 5}).json()["errors"][0]["field"]
        == "amount"
    )
    w = staff.post("/api/v1/prefunds/330000/withdrawals", {**body, "reference": "w-1", "amount": "200.00"})
    assert w.json()["code"] == "insufficient_prefund"
    w = staff.post("/api/v1/prefunds/330000/withdrawals", {**body, "reference": "w-1", "amount": "100.00"})
    assert w.status_code == 201 and w.json()["amount"] == "-100.00" and w.json()["balance_after"] == "1.78"
    balance = PrefundAccount.objects.get(scheme="medical", admdvs="330000").balance
    assert balance == __import__("decimal").Decimal("1.78")
    assert staff.post("/api/v1/prefunds/990000/deposits", body).status_code == 404
    b = staff_client("bureau", "330000")
    assert b.post("/api/v1/prefunds/330000/deposits", body).status_code == 403
    mine = b.get("/api/v1/prefunds").json()["results"]
    assert [a["admdvs"] for a in mine] == ["330000"] and mine[0]["baseline"] == "2000.00"
    assert [p["reference"] for p in mine[0]["postings"]] == [
        "opening",
        f"cycle:{open_cycle_date() - dt.timedelta(days=1)}",
        "dep-1",
        "w-1",
    ]
    assert staff.get("/api/v1/prefunds").json()["count"] == 4
    alerts = b.get("/api/v1/alerts").json()["results"]
    assert {a["kind"] for a in alerts} == {"low_prefund", "funding_call"}
    assert staff_client("bureau", "310000").get("/api/v1/alerts").json()["results"] == []


def test_close_endpoint(day_closed):
    day, _ = day_closed
    staff = staff_client("clearing_staff", "000000")
    r = staff.post(f"/api/v1/cycles/{day}/close")
    assert r.status_code == 200 and r.json()["status"] == "closed"
    nxt = day + dt.timedelta(days=1)
    assert staff.post(f"/api/v1/cycles/{nxt + dt.timedelta(days=1)}/close").json()["code"] == "cycle_not_open"
    r = staff.post(f"/api/v1/cycles/{nxt}/close")
    assert r.status_code == 202 and r.json()["task_id"]
    assert Cycle.objects.get(clr_date=nxt).status == "closed"  # eager Celery in tests
    assert staff_client("bureau", "310000").post(f"/api/v1/cycles/{nxt}/close").status_code == 403


ENDPOINTS = [
    ("get", "/api/v1/cycles", {"bureau": 200, "clearing_staff": 200}),
    ("get", "/api/v1/cycles/{d}", {"bureau": 200, "clearing_staff": 200}),
    ("get", "/api/v1/cycles/{d}/head.json", {"bureau": 200, "clearing_staff": 200}),
    ("get", "/api/v1/cycles/{d}/head.sig", {"bureau": 200, "clearing_staff": 200}),
    ("get", "/api/v1/cycles/{d}/statement", {"bureau": 200, "clearing_staff": 400}),
    ("get", "/api/v1/cycles/{d}/statement.json", {"bureau": 200, "clearing_staff": 400}),
    ("get", "/api/v1/cycles/{d}/statement.sig", {"bureau": 200, "clearing_staff": 400}),
    ("post", "/api/v1/cycles/{d}/statement/ack", {"bureau": 201, "clearing_staff": 403}),
    ("get", "/api/v1/cycles/{d}/items", {"bureau": 200, "clearing_staff": 200}),
    ("get", "/api/v1/cycles/{d}/items/{s}/proof", {"bureau": 200, "clearing_staff": 200}),
    ("post", "/api/v1/cycles/{d}/close", {"bureau": 403, "clearing_staff": 200}),
    ("get", "/api/v1/prefunds", {"bureau": 200, "clearing_staff": 200}),
    ("post", "/api/v1/prefunds/310000/deposits", {"bureau": 403, "clearing_staff": 201}),
    ("post", "/api/v1/prefunds/310000/withdrawals", {"bureau": 403, "clearing_staff": 201}),
    ("get", "/api/v1/alerts", {"bureau": 200, "clearing_staff": 200}),
    ("get", "/api/v1/disputes", {"bureau": 200, "clearing_staff": 200}),
    ("post", "/api/v1/disputes", {"bureau": 201, "clearing_staff": 403}),
    ("post", "/api/v1/disputes/{id}/escalate", {"bureau": 200, "clearing_staff": 403}),
    ("get", "/api/v1/keys", {"bureau": 200, "clearing_staff": 200, "anonymous": 200}),
]


@pytest.mark.parametrize("method,path,expected", ENDPOINTS)
@pytest.mark.parametrize("role", ["bureau", "clearing_staff", "anonymous", "cardholder_like"])
def test_scope_matrix(day_closed, method, path, expected, role):
    day, items = day_closed
    from clearing.models import Dispute

    e4 = items["E4"]  # 330000 → 310000
    dispute = Dispute.objects.create(
        setl_id="X" + e4.setl_id[1:],
        item=record("310000", "330000", "1.00", "X1"),
        payer="310000",
        payee="330000",
        fixmedins_code="X1",
        reason_code="other",
        amount="1.00",
        opened_by="t",
        opened_at=e4.created_at,
    )
    url = path.format(d=day, s=items["E5"].setl_id, id=dispute.pk)  # E5: 310000 → 340000
    body = {"amount": "1.00", "value_date": "2026-11-30", "reference": "r1"}
    if path == "/api/v1/disputes":
        body = {"setl_id": items["E5"].setl_id, "reason_code": "other"}
    if path.endswith("/close"):
        body = {"scheme": "medical"}  # the close's only field (spec/cards.md); strict bodies refuse others
    if role == "anonymous":
        resp = getattr(Client(), method)(
            url,
            *([json.dumps(body)] if method == "post" else []),
            **({"content_type": "application/json"} if method == "post" else {}),
        )
        assert resp.status_code == expected.get("anonymous", 401)
        return
    if role == "cardholder_like":
        client = staff_client("bureau", "310000")
        from accounts.models import StaffProfile

        StaffProfile.objects.filter(user__username__startswith="bureau-310000").update(role="cardholder")
        resp = getattr(client, method)(url, body) if method == "post" else client.get(url)
        assert resp.status_code == (200 if "anonymous" in expected else 403)
        return
    client = staff_client(role, "310000")
    resp = getattr(client, method)(url, body) if method == "post" else client.get(url)
    assert resp.status_code == expected[role], resp.content


def test_institution_clients_are_refused(examples, institution_client, day_closed):
    day, _ = day_closed
    client = institution_client("H31010400001")
    for path in (
        "/api/v1/cycles",
        f"/api/v1/cycles/{day}/statement",
        "/api/v1/prefunds",
        "/api/v1/alerts",
        "/api/v1/disputes",
    ):
        assert client.get(path).status_code == 403, path
    assert client.post("/api/v1/disputes", {"setl_id": "x", "reason_code": "other"}).status_code == 403
