"""Bureau reference-data endpoints of accounts (spec/bureau-api.md §Reference data; scopes of
spec/security.md §Scopes)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import AccountCredit, Filing, Person
from core.models import AuditRecord

CSV = ("psn_no,psn_cert_type,certno,psn_name,gend,brdy,insutype,insuplc_admdvs,psn_insu_stas,card_no,card_sn,"
       "acct_balc\n"
       "34019900000000000001,01,34010419850505123x,　张三 ,1,,310,340100,1,,,80.00\n"
       "32019900000000000002,01,340104198505051248,李四,1,,310,320100,1,,,0.00\n")
P1 = "34010000000000000001"  # 示例甲, Anhui, balance 500.00
P3 = "34010000000000000003"  # 示例丙, Anhui, insutype 390


@pytest.fixture
def anhui(examples, staff_client):
    return staff_client("bureau", "340000")


def test_persons_upload_csv_counts_and_wrong_province(anhui):
    resp = anhui.post("/api/v1/persons", raw=CSV.encode(), content_type="text/csv")
    assert resp.status_code == 200
    assert resp.json() == {"received": 2, "created": 1, "updated": 0, "unchanged": 0,
                           "rejected": [{"row": 2, "field": "insuplc_admdvs", "code": "wrong_province"}]}
    assert Person.objects.get(psn_no="34019900000000000001").acct_balance == Decimal("80.00")
    resp = anhui.post("/api/v1/persons", raw=CSV.encode(), content_type="text/csv")
    assert resp.json()["unchanged"] == 1 and resp.json()["created"] == 0
    assert AuditRecord.objects.filter(action="persons_import", role="bureau").count() == 2


def test_persons_upload_json(anhui):
    row = {"psn_no": "34019900000000000001", "certno": "34010419850505123X", "psn_name": "张三",
           "insutype": "310", "insuplc_admdvs": "340100"}
    resp = anhui.post("/api/v1/persons", [row])
    assert resp.json()["created"] == 1
    resp = anhui.post("/api/v1/persons", {"not": "a list"})
    assert resp.status_code == 400 and resp.json()["errors"][0]["field"] == "not"
    assert resp.json()["errors"][0]["code"] == "unknown_field"
    resp = anhui.post("/api/v1/persons", {})
    assert resp.status_code == 400 and resp.json()["errors"][0]["field"] == "body"


def test_persons_upload_other_bureau_rows_rejected(examples, staff_client):
    jiangsu = staff_client("bureau", "320000")
    resp = jiangsu.post("/api/v1/persons", raw=CSV.encode(), content_type="text/csv")
    # row 1 is an Anhui person: refused; row 2 is a Jiangsu person: created by its own bureau
    assert resp.json() == {"received": 2, "created": 1, "updated": 0, "unchanged": 0,
                           "rejected": [{"row": 1, "field": "insuplc_admdvs", "code": "wrong_province"}]}
    assert not Person.objects.filter(psn_no="34019900000000000001").exists()


@pytest.mark.parametrize("role", ["clearing_staff", "institution", "anonymous"])
def test_persons_upload_refused_for_other_roles(examples, staff_client, institution_client, role):
    if role == "clearing_staff":
        staff = staff_client("clearing_staff")
        resp = staff.post("/api/v1/persons", raw=CSV.encode(), content_type="text/csv")
        assert resp.status_code == 403
    elif role == "institution":
        resp = institution_client("H31010400001").post("/api/v1/persons", [])
        assert resp.status_code == 403
    else:
        resp = Client().post("/api/v1/persons", data=CSV, content_type="text/csv")
        assert resp.status_code == 401
    assert resp["Content-Type"] == "application/problem+json"
    assert not Person.objects.filter(psn_no="34019900000000000001").exists()


def test_person_get_masked_and_scoped(anhui, staff_client):
    resp = anhui.get(f"/api/v1/persons/{P1}")
    assert resp.status_code == 200
    body = resp.json()
    assert body["certno"] == "3401**********1234"
    assert body["psn_name"] == "示**"  # 示例甲
    assert body["acct_balc"] == "500.00" and body["insuplc_admdvs"] == "340100"
    assert AuditRecord.objects.filter(action="person_read", object_id=P1).count() == 1
    assert staff_client("bureau", "320000").get(f"/api/v1/persons/{P1}").status_code == 404
    assert staff_client("clearing_staff").get(f"/api/v1/persons/{P1}").status_code == 200
    assert anhui.get("/api/v1/persons/nobody").status_code == 404


def test_account_credit_idempotent(anhui, staff_client):
    body = {"amount": "120.50", "value_date": "2026-11-29", "reference": "HZ-2026-11-001"}
    first = anhui.post(f"/api/v1/persons/{P1}/account-credits", body)
    assert first.status_code == 201
    assert first.json()["acct_balc"] == "620.50" and first.json()["amount"] == "120.50"
    again = anhui.post(f"/api/v1/persons/{P1}/account-credits", body)
    assert again.status_code == 200 and again.json() == first.json()
    assert Person.objects.get(psn_no=P1).acct_balance == Decimal("620.50")
    assert AccountCredit.objects.count() == 1
    conflict = anhui.post(f"/api/v1/persons/{P1}/account-credits", dict(body, amount="1.00"))
    assert conflict.status_code == 409 and conflict.json()["code"] == "reference_conflict"
    assert AuditRecord.objects.filter(action="account_credit").count() == 1
    # bad amounts are 400 naming the field, nothing moves
    for bad in ("120.5", "-1.00", "0.00", 12):
        resp = anhui.post(f"/api/v1/persons/{P1}/account-credits", dict(body, amount=bad, reference="X"))
        assert resp.status_code == 400 and resp.json()["errors"][0]["field"] == "amount"
    assert Person.objects.get(psn_no=P1).acct_balance == Decimal("620.50")
    # resident insurance has no personal account; other provinces' persons are not found
    resp = anhui.post(f"/api/v1/persons/{P3}/account-credits", body)
    assert resp.status_code == 422 and resp.json()["code"] == "no_personal_account"
    other = staff_client("bureau", "320000").post(f"/api/v1/persons/{P1}/account-credits", body)
    assert other.status_code == 404


def test_filings_create_list_revoke(anhui, staff_client):
    today = dt.date(2026, 11, 29)
    body = {"psn_no": P1, "filing_type": "21", "mdtrtarea_admvs": "330100",
            "begndate": today.isoformat(), "enddate": (today + dt.timedelta(days=30)).isoformat()}
    resp = anhui.post("/api/v1/filings", body)
    assert resp.status_code == 201
    filing = resp.json()
    assert filing["temporary"] is True and filing["revoked_at"] is None
    listed = anhui.get(f"/api/v1/filings?psn_no={P1}").json()
    assert listed["count"] == 2 and [f["filing_type"] for f in listed["results"]] == ["12", "21"]
    assert staff_client("bureau", "320000").get(f"/api/v1/filings?psn_no={P1}").status_code == 404
    assert staff_client("clearing_staff").get(f"/api/v1/filings?psn_no={P1}").json()["count"] == 2
    assert staff_client("bureau", "320000").delete(f"/api/v1/filings/{filing['id']}").status_code == 404
    resp = anhui.delete(f"/api/v1/filings/{filing['id']}")
    assert resp.status_code == 200 and resp.json()["revoked_at"] is not None
    again = anhui.delete(f"/api/v1/filings/{filing['id']}")
    assert again.status_code == 409 and again.json()["code"] == "already_revoked"
    assert AuditRecord.objects.filter(action__in=["filing_create", "filing_revoke"]).count() == 2


def test_filing_past_not_revocable(anhui):
    person = Person.objects.get(psn_no=P1)
    past = Filing.objects.create(person=person, filing_type="21", mdtrtarea_admvs="320000",
                                 begndate=dt.date(2025, 1, 1), enddate=dt.date(2025, 1, 10))
    resp = anhui.delete(f"/api/v1/filings/{past.id}")
    assert resp.status_code == 422 and resp.json()["code"] == "filing_ended"
    assert Filing.objects.get(id=past.id).revoked_at is None


def test_filing_create_rejections(anhui, staff_client):
    body = {"psn_no": P1, "filing_type": "21", "mdtrtarea_admvs": "340200",
            "begndate": "2026-11-29", "enddate": "2026-12-29"}
    resp = anhui.post("/api/v1/filings", body)
    assert resp.status_code == 400 and resp.json()["errors"][0] == {
        "field": "mdtrtarea_admvs", "code": "not_out_of_area",
        "message": "就医地在参保地内：不属于跨省结算。"}  # zh-hans: the code's text
    resp = staff_client("bureau", "320000").post("/api/v1/filings", dict(body, mdtrtarea_admvs="330100"))
    assert resp.status_code == 404
    resp = anhui.post("/api/v1/filings", dict(body, enddate="2026-11-01", mdtrtarea_admvs="330100"))
    assert resp.status_code == 400 and resp.json()["errors"][0]["field"] == "enddate"


def test_filings_upload_csv(anhui):
    csv = ("psn_no,filing_type,mdtrtarea_admvs,begndate,enddate\n"
           f"{P1},12,310000,2020-01-01,2099-12-31\n"
           f"{P3},21,330100,2026-11-01,2026-12-31\n"
           "32010000000000000002,21,330100,2026-11-01,2026-12-31\n")
    resp = anhui.post("/api/v1/filings", raw=csv.encode(), content_type="text/csv")
    assert resp.json() == {"received": 3, "created": 1, "updated": 0, "unchanged": 1,
                           "rejected": [{"row": 3, "field": "psn_no", "code": "wrong_province"}]}
