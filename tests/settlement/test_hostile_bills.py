"""Hostile settle bodies (engineer B2): one bad batch item is only that item's result, outages still
503, times and totals outside what can be stored are 400 naming the field, huge pages are 400
(spec/hospital-api.md §batch, spec/README.md §Units and §Errors)."""
from __future__ import annotations

import datetime as dt

import pytest
from django.db import OperationalError
from django.utils import timezone

from tests.adversary.helpers import bill, line

pytestmark = pytest.mark.django_db
BIG = "99999990000000.00"


def _serials() -> list[str]:
    from settlement.models import Settlement

    return sorted(Settlement.objects.values_list("medins_setl_id", flat=True))


def _failing_on(monkeypatch, serial: str, exc: Exception) -> None:
    from settlement.services import batch

    real = batch.settlement_draft

    def fake(lk, req, *args):
        if req.medins_setl_id == serial:
            raise exc
        return real(lk, req, *args)

    monkeypatch.setattr(batch, "settlement_draft", fake)


def test_batch_unexpected_error_of_one_item_is_422_item_failed(examples, institution_client, monkeypatch):
    _failing_on(monkeypatch, "B2-BAD", RuntimeError("boom"))
    items = [bill(serial="B2-GOOD-1"), bill(serial="B2-BAD"), bill(serial="B2-GOOD-2")]
    r = institution_client("H31010400001").post("/api/v1/settlements/batch", {"items": items})
    assert r.status_code == 200, r.content[:300]
    results = r.json()["results"]
    assert [x["status"] for x in results] == [201, 422, 201]
    assert results[1]["problem"]["code"] == "item_failed"
    assert _serials() == ["B2-GOOD-1", "B2-GOOD-2"]


def test_batch_database_outage_is_503_and_records_nothing(examples, institution_client, monkeypatch):
    _failing_on(monkeypatch, "B2-BAD", OperationalError("connection lost"))
    items = [bill(serial="B2-GOOD-1"), bill(serial="B2-BAD")]
    r = institution_client("H31010400001").post("/api/v1/settlements/batch", {"items": items})
    assert r.status_code == 503, r.content[:300]
    assert _serials() == []


def test_batch_nul_in_one_item_is_that_items_400(examples, institution_client):
    items = [bill(serial="B2-GOOD-1"), bill(serial="B2-NUL", dise_codg="K\x0035")]
    r = institution_client("H31010400001").post("/api/v1/settlements/batch", {"items": items})
    assert r.status_code == 200, r.content[:300]
    results = r.json()["results"]
    assert [x["status"] for x in results] == [201, 400]
    assert results[1]["problem"]["errors"] == [
        {"field": "dise_codg", "code": "invalid_character",
         "message": "不得包含控制字符（如 U+0000）。"}]  # zh-hans: no Accept-Language
    assert _serials() == ["B2-GOOD-1"]


def test_batch_nul_outside_items_refuses_the_body(examples, institution_client):
    body = {"items": [bill(serial="B2-GOOD-1")], "note\x00": "x"}
    r = institution_client("H31010400001").post("/api/v1/settlements/batch", body)
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"] == "invalid_character"
    assert _serials() == []


def test_batch_overflowing_item_is_400_naming_feedetail(examples, institution_client):
    big = [line(sn=str(i), code="C0301020300000100001", cnt="100000000000", pric="999.9999", amount=BIG)
           for i in (1, 2)]
    items = [bill(serial="B2-BIG", lines=big), bill(serial="B2-GOOD-1")]
    r = institution_client("H31010400001").post("/api/v1/settlements/batch", {"items": items})
    results = r.json()["results"]
    assert [x["status"] for x in results] == [400, 201]
    errors = results[0]["problem"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("feedetail", "total_too_large")]


@pytest.mark.parametrize("path", ["/api/v1/settlements", "/api/v1/settlements/preview"])
def test_total_beyond_14_digits_is_400_naming_feedetail(examples, institution_client, path):
    big = [line(sn=str(i), code="C0301020300000100001", cnt="100000000000", pric="999.9999", amount=BIG)
           for i in (1, 2)]
    r = institution_client("H31010400001").post(path, bill(lines=big))
    assert r.status_code == 400
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [("feedetail", "total_too_large")]
    assert _serials() == []


def test_largest_total_still_settles(examples, institution_client):
    # 99999990000000.00 + 9999999.99 = 99999999999999.99, the largest amount of the money format
    lines = [line(sn="1", code="C0301020300000100001", cnt="100000000000", pric="999.9999", amount=BIG),
             line(sn="2", code="C0301020300000100001", cnt="1", pric="9999999.99")]
    r = institution_client("H31010400001").post("/api/v1/settlements/preview", bill(lines=lines))
    assert r.status_code == 200, r.content[:300]
    assert r.json()["setlinfo"]["medfee_sumamt"] == "99999999999999.99"


def _at(hours: int, minutes: int = 0) -> str:
    zone = dt.timezone(dt.timedelta(hours=hours, minutes=minutes))
    return (timezone.now() - dt.timedelta(hours=1)).astimezone(zone).isoformat()


@pytest.mark.parametrize("field,body", [
    ("feedetail[0].fee_ocur_time", lambda: bill(lines=[line(at=_at(14, 1))])),
    ("feedetail[0].fee_ocur_time", lambda: bill(lines=[line(at=_at(-15))])),
    ("begntime", lambda: bill(begntime="0001-01-01T00:00:00+08:00")),
    ("endtime", lambda: bill(endtime="9999-12-31T23:00:00-12:00")),
])
def test_unstorable_times_are_400_naming_the_field(examples, institution_client, field, body):
    r = institution_client("H31010400001").post("/api/v1/settlements", body())
    assert r.status_code == 400, r.content[:300]
    assert (field, "invalid_datetime") in [(e["field"], e["code"]) for e in r.json()["errors"]]
    assert _serials() == []


def test_offset_of_plus_14_settles(examples, institution_client):
    at = _at(14)  # one instant: a fee_ocur_time before begntime is refused (docs/decisions.md §Claim dates)
    body = bill(serial="B2-TZ14", lines=[line(at=at)], begntime=at)
    r = institution_client("H31010400001").post("/api/v1/settlements", body)
    assert r.status_code == 201, r.content[:300]


@pytest.mark.parametrize("page", ["1000001", "99999999999999999999", "0", "9" * 5000])
def test_page_out_of_range_is_400(examples, institution_client, page):
    r = institution_client("H31010400001").get(f"/api/v1/settlements?page={page}")
    assert r.status_code == 400
    assert [e["field"] for e in r.json()["errors"]] == ["page"]


def test_last_allowed_page_is_empty(examples, institution_client):
    r = institution_client("H31010400001").get("/api/v1/settlements?page=1000000")
    assert r.status_code == 200
    assert r.json()["results"] == []


def test_reconciliation_difference_beyond_the_money_format_is_400(examples, institution_client):
    client = institution_client("H31010400001")
    assert client.post("/api/v1/settlements", bill(serial="B2-REC")).status_code == 201
    day = timezone.localdate(timezone=dt.timezone(dt.timedelta(hours=8))).isoformat()
    body = {"stmt_begndate": "2000-01-01", "stmt_enddate": day, "medfee_sumamt": "-99999999999999.99",
            "fund_pay_sumamt": "0.00", "acct_pay": "0.00", "fixmedins_setl_cnt": 1}
    r = client.post("/api/v1/reconciliation/totals", body)
    assert r.status_code == 400, r.content[:300]
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [("medfee_sumamt", "out_of_range")]


def test_accumulator_that_would_leave_the_money_format_is_422(examples, institution_client):
    from decimal import Decimal

    from accounts.models import Person
    from clearing.services.cycles import business_day
    from settlement.models import Accumulator

    person = Person.objects.get(psn_no="34010000000000000001")
    Accumulator.objects.update_or_create(
        person=person, year=business_day(timezone.now()).year, insutype="310", med_type_group="inpatient",
        defaults={"deductible_used": Decimal("99999999999999.00"), "fund_paid": Decimal("0.00")})
    r = institution_client("H31010400001").post("/api/v1/settlements", bill(lines=[line(pric="10.00")]))
    assert r.status_code == 422, r.content[:300]
    assert r.json()["code"] == "accumulator_overflow"
    assert _serials() == []
