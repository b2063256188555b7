"""Own records, accumulators and verifiable receipts (spec/cardholder-api.md, spec/policy.md E1/E2,
spec/clearing.md §Receipts). Settlements go through the signed hospital API; the day is closed with
``clearing.services.close.cycle_close``."""
from __future__ import annotations

import base64
import hashlib
import json

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cardholder.verify import verify_receipt
from core.crypto import signing_key
from tests.cardholder.conftest import E1, E2, close_today


# --- an independent RFC 9162 verifier, derived from the recursive definition of PATH (§2.1.3.1) ---
def _h_leaf(b: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + b).digest()


def _h_node(a: bytes, b: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + a + b).digest()


def _root_via_path(leaf: bytes, m: int, n: int, path: list[bytes]) -> bytes:
    """PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n]) when m < k, else PATH(m-k, D[k:n]) : MTH(D[0:k]),
    so the last element is the sibling at the top. Rebuilding the root from the bottom up."""
    if n == 1:
        assert path == [] and m == 0
        return _h_leaf(leaf)
    assert path, "path too short"
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return _h_node(_root_via_path(leaf, m, k, path[:-1]), path[-1])
    return _h_node(path[-1], _root_via_path(leaf, m - k, n - k, path[:-1]))


def independent_verify(receipt: dict, public_key: Ed25519PublicKey) -> bool:
    try:
        root = _root_via_path(receipt["leaf"].encode(), receipt["leaf_index"], receipt["tree_size"],
                              [bytes.fromhex(p) for p in receipt["audit_path"]])
    except AssertionError:
        return False
    head = receipt["head"]
    if root.hex() != receipt["merkle_root"] or head["merkle_root"] != receipt["merkle_root"]:
        return False
    if head["tree_size"] != receipt["tree_size"]:
        return False
    try:
        public_key.verify(base64.b64decode(receipt["head_signature"]), rfc8785.dumps(head))
    except Exception:  # noqa: BLE001 - InvalidSignature
        return False
    return True


def _with_leaf_amount(receipt: dict, amount: str) -> dict:
    leaf = json.loads(receipt["leaf"])
    leaf["clr_amt"] = amount
    return {**receipt, "leaf": rfc8785.dumps(leaf).decode()}


# --- the tests ---------------------------------------------------------------------------------------
def test_cardholder_sees_exactly_own_records(cardholder, settle):
    e1 = settle("E1")
    e2a = settle("E2a")
    mine = cardholder(E1).get("/api/v1/me/settlements")
    assert mine.status_code == 200
    body = mine.json()
    assert body["count"] == 1 and [r["setl_id"] for r in body["results"]] == [e1["setl_id"]]
    row = body["results"][0]
    assert {k: row[k] for k in ("medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt",
                                "inscp_scp_amt", "act_pay_dedc", "pool_prop_selfpay", "hifp_pay",
                                "fund_pay_sumamt", "psn_part_amt", "acct_pay", "psn_cash_pay", "balc",
                                "clr_amt")} == {
        "medfee_sumamt": "4160.52", "fulamt_ownpay_amt": "680.00", "overlmt_selfpay": "100.00",
        "preselfpay_amt": "35.55", "inscp_scp_amt": "3344.97", "act_pay_dedc": "1000.00",
        "pool_prop_selfpay": "0.8500", "hifp_pay": "1993.22", "fund_pay_sumamt": "1993.22",
        "psn_part_amt": "2167.30", "acct_pay": "500.00", "psn_cash_pay": "1667.30", "balc": "0.00",
        "clr_amt": "2493.22"}
    assert row["status"] == "settled" and row["med_type"] == "21" and row["cycle_closed"] is False
    assert row["fixmedins_code"] == "H31010400001" and row["fixmedins_name"] == "上海示例第一医院"
    assert row["mdtrtarea_admvs"] == "310000" and row["clr_date"] == e1["clr_date"]
    theirs = cardholder(E2).get("/api/v1/me/settlements").json()
    assert [r["setl_id"] for r in theirs["results"]] == [e2a["setl_id"]]


def test_other_persons_setl_id_is_404(cardholder, settle):
    settle("E1")
    e2a = settle("E2a")
    resp = cardholder(E1).get(f"/api/v1/me/settlements/{e2a['setl_id']}/receipt")
    assert resp.status_code == 404 and resp.json()["code"] == "not_found"


def test_me_balance_after_e1(cardholder, settle):
    settle("E1")
    assert cardholder(E1).get("/api/v1/me").json()["acct_balc"] == "0.00"


def test_year_filter(cardholder, settle):
    e1 = settle("E1")
    c = cardholder(E1)
    year = e1["clr_date"][:4]
    assert c.get(f"/api/v1/me/settlements?year={year}").json()["count"] == 1
    assert c.get(f"/api/v1/me/settlements?year={int(year) - 1}").json()["count"] == 0
    bad = c.get("/api/v1/me/settlements?year=20x6")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "year"


def test_accumulators_after_e2a_e2b(cardholder, settle):
    settle("E2a")
    e2b = settle("E2b")
    assert (e2b["act_pay_dedc"], e2b["hifp_pay"], e2b["psn_cash_pay"]) == ("0.00", "70.00", "30.00")
    body = cardholder(E2).get(f"/api/v1/me/accumulators?year={e2b['clr_date'][:4]}").json()
    assert body["results"] == [{
        "insutype": "310", "med_type_group": "outpatient",
        "deductible": "200.00", "deductible_basis": "year", "deductible_used": "200.00",
        "deductible_remaining": "0.00",
        "annual_cap": "6000.00", "fund_paid": "101.78", "fund_remaining": "5898.22",
    }]


def test_receipt_409_before_close_then_verifies(cardholder, settle):
    e1 = settle("E1")
    c = cardholder(E1)
    path = f"/api/v1/me/settlements/{e1['setl_id']}/receipt"
    early = c.get(path)
    assert early.status_code == 409 and early.json()["code"] == "not_yet_cleared"
    settle("E2a")
    settle("E2b")
    close_today()
    resp = c.get(path)
    assert resp.status_code == 200
    receipt = resp.json()
    leaf = json.loads(receipt["leaf"])
    assert leaf == {"clr_amt": "2493.22", "clr_date": e1["clr_date"], "fixmedins_code": "H31010400001",
                    "kind": "settlement", "payee": "310000", "payer": "340000", "setl_id": e1["setl_id"]}
    assert receipt["tree_size"] == 3
    public = signing_key(receipt["key_id"]).public
    assert independent_verify(receipt, public) is True
    assert independent_verify(_with_leaf_amount(receipt, "2493.23"), public) is False
    # the page's verifier agrees on both
    expected = {"setl_id": e1["setl_id"], "clr_amt": "2493.22"}
    assert verify_receipt(receipt, public, expected).ok is True
    tampered = verify_receipt(_with_leaf_amount(receipt, "2493.23"), public)
    assert tampered.ok is False and tampered.steps["inclusion"] is False
    listed = c.get("/api/v1/me/settlements").json()["results"][0]
    assert listed["cycle_closed"] is True


def test_newest_first_and_paginated(cardholder, settle):
    e2a = settle("E2a")
    e2b = settle("E2b")
    c = cardholder(E2)
    everything = c.get("/api/v1/me/settlements").json()
    assert [r["setl_id"] for r in everything["results"]] == [e2b["setl_id"], e2a["setl_id"]]
    first = c.get("/api/v1/me/settlements?page_size=1").json()
    assert first["count"] == 2 and [r["setl_id"] for r in first["results"]] == [e2b["setl_id"]]
    assert first["previous"] is None and "/api/v1/me/settlements?cursor=" in first["next"]
    followed = c.get(first["next"]).json()
    assert [r["setl_id"] for r in followed["results"]] == [e2a["setl_id"]] and followed["next"] is None
    second = c.get("/api/v1/me/settlements?page_size=1&page=2").json()
    assert [r["setl_id"] for r in second["results"]] == [e2a["setl_id"]] and second["next"] is None
    bad = c.get("/api/v1/me/settlements?page_size=1001")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "page_size"


def test_reversal_is_listed_with_negated_amounts(cardholder, settle, institution_client):
    e1 = settle("E1")
    hospital = institution_client("H31010400001")
    resp = hospital.post(f"/api/v1/settlements/{e1['setl_id']}/reversal",
                         {"medins_setl_id": f"R-{e1['medins_setl_id']}", "reason": "test"})
    assert resp.status_code == 201, resp.content
    reversal = resp.json()["setlinfo"]
    c = cardholder(E1)
    rows = c.get("/api/v1/me/settlements").json()["results"]
    assert [(r["setl_id"], r["status"], r["orig_setl_id"]) for r in rows] == [
        (reversal["setl_id"], "reversal", e1["setl_id"]), (e1["setl_id"], "reversed", None)]
    negated = (rows[0]["medfee_sumamt"], rows[0]["acct_pay"], rows[0]["clr_amt"])
    assert negated == ("-4160.52", "-500.00", "-2493.22")
    assert c.get("/api/v1/me").json()["acct_balc"] == "500.00"
    close_today()
    receipt = c.get(f"/api/v1/me/settlements/{reversal['setl_id']}/receipt").json()
    assert json.loads(receipt["leaf"])["kind"] == "reversal"
    assert independent_verify(receipt, signing_key(receipt["key_id"]).public) is True
