"""Adversary (engineer H): inputs that must be refused with 400 problem+json but answer 500
(spec/README.md §Errors: "bad input → 400 invalid naming the field"; never 500)."""
from __future__ import annotations

import base64

import pytest

from tests.adversary.helpers import bill, line

pytestmark = pytest.mark.django_db

NUL_FIELDS = {
    "medins_setl_id": lambda: bill(serial="ADV-\x00-1"),
    "dise_codg": lambda: bill(dise_codg="K35\x00"),
    "feedetail[0].med_list_codg": lambda: bill(lines=[line(code="XA01\x00AAA001")]),
    "feedetail[0].feedetl_sn": lambda: bill(lines=[line(sn="1\x00")]),
}


@pytest.mark.postgres
@pytest.mark.parametrize("field", list(NUL_FIELDS))
def test_settle_with_nul_character_is_400(examples, institution_client, field):
    from settlement.models import Settlement

    r = institution_client("H31010400001").post("/api/v1/settlements", NUL_FIELDS[field]())
    assert r.status_code == 400, (r.status_code, r.content[:200])
    assert r.json()["code"] == "invalid"
    assert not Settlement.objects.exists()


@pytest.mark.postgres
@pytest.mark.parametrize("target", [
    "/api/v1/settlements?psn_no=%00",
    "/api/v1/settlements?medins_setl_id=%00",
    "/api/v1/settlements/%00",
])
def test_institution_reads_with_nul_are_not_500(examples, institution_client, target):
    r = institution_client("H31010400001").get(target)
    assert r.status_code in (400, 404), (r.status_code, r.content[:200])


@pytest.mark.postgres
def test_reversal_of_nul_setl_id_is_404(examples, institution_client):
    r = institution_client("H31010400001").post("/api/v1/settlements/%00/reversal",
                                                {"medins_setl_id": "ADV-REV-NUL"})
    assert r.status_code == 404, (r.status_code, r.content[:200])


@pytest.mark.postgres
def test_reconciliation_details_with_nul_setl_id_is_400(examples, institution_client):
    day = "2026-11-27"
    r = institution_client("H31010400001").post("/api/v1/reconciliation/details", {
        "stmt_begndate": day, "stmt_enddate": day,
        "items": [{"setl_id": "S\x00", "medfee_sumamt": "1.00", "fund_pay_sumamt": "0.00",
                   "acct_pay": "0.00", "refd_setl_flag": "0"}]})
    assert r.status_code == 400, (r.status_code, r.content[:200])


NUL_CURSOR = base64.urlsafe_b64encode(b'{"after": "\\u0000"}').decode()


@pytest.mark.postgres
@pytest.mark.parametrize("query", [
    "counterparty=%00",
    f"cursor={NUL_CURSOR}",
])
def test_items_list_with_nul_is_400(examples, staff_client, query):
    from clearing.services.close import cycle_close
    from clearing.services.cycles import open_cycle_date

    day = open_cycle_date()
    cycle_close(clr_date=day, actor="test")
    r = staff_client("clearing_staff", "000000").get(f"/api/v1/cycles/{day}/items?{query}")
    assert r.status_code == 400, (r.status_code, r.content[:200])


@pytest.mark.postgres
def test_fee_time_with_offset_23_59_is_not_500(examples, institution_client):
    from settlement.models import Settlement

    body = bill(lines=[line(at="2026-11-01T08:00:00+23:59")])
    r = institution_client("H31010400001").post("/api/v1/settlements", body)
    assert r.status_code in (201, 400), (r.status_code, r.content[:200])
    assert Settlement.objects.count() == (1 if r.status_code == 201 else 0)


def test_fee_time_in_year_one_is_400(examples, institution_client):
    body = bill(lines=[line(at="0001-01-01T00:00:00+08:00")], begntime="0001-01-01T00:00:00+08:00",
                endtime=None)
    r = institution_client("H31010400001").post("/api/v1/settlements", body)
    assert r.status_code == 400, (r.status_code, r.content[:200])


def test_deeply_nested_json_is_400(examples, institution_client):
    raw = b"[" * 100_000 + b"]" * 100_000
    r = institution_client("H31010400001").post("/api/v1/settlements", raw=raw)
    assert r.status_code == 400, (r.status_code, r.content[:200])


@pytest.mark.parametrize("who,target", [
    ("institution", "/api/v1/settlements?page=99999999999999999999"),
    ("staff", "/api/v1/disputes?page=99999999999999999999"),
    ("staff", "/api/v1/prefunds?page=99999999999999999999"),
    ("staff", "/api/v1/cycles?page=99999999999999999999"),
])
def test_huge_page_number_is_not_500(examples, institution_client, staff_client, who, target):
    client = institution_client("H31010400001") if who == "institution" else staff_client("clearing_staff")
    r = client.get(target)
    assert r.status_code in (200, 400, 404), (r.status_code, r.content[:200])


@pytest.mark.postgres
@pytest.mark.parametrize("method,target", [
    ("get", "/api/v1/filings?psn_no=%00"),
    ("get", "/api/v1/settlements/%00"),
    ("post", "/api/v1/persons/%00/account-credits"),
])
def test_bureau_calls_with_nul_are_not_500(examples, staff_client, method, target):
    bureau = staff_client("bureau", "340000")
    if method == "get":
        r = bureau.get(target)
    else:
        r = bureau.post(target, {"amount": "1.00", "value_date": "2026-11-27", "reference": "ADV-NUL"})
    assert r.status_code in (400, 404), (r.status_code, r.content[:200])
