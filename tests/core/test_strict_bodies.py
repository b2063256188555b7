"""Strict JSON bodies (spec/README.md §Errors; issue 10 item 4): duplicate keys at any depth, NaN and
Infinity, and unknown top-level fields of a write are ``400 invalid`` naming the field, and an
refused body records nothing. Each HTTP case here was accepted before ``core.parsers.strict_loads``.
"""
from __future__ import annotations

import json

import pytest

from accounts.models import Person
from core.errors import Invalid
from core.parsers import strict_loads
from settlement.models import Settlement
from tests.reliability.bills import bill, line

pytestmark = pytest.mark.django_db


def _only_error(resp) -> dict:  # noqa: ANN001
    assert resp.status_code == 400, resp.content
    assert resp["Content-Type"] == "application/problem+json"
    body = resp.json()
    assert body["code"] == "invalid"
    assert len(body["errors"]) == 1, body
    return body["errors"][0]


def _refusal(raw: str | bytes, **kw) -> tuple[str, str]:  # noqa: ANN003
    with pytest.raises(Invalid) as caught:
        strict_loads(raw, **kw)
    error = caught.value.errors[0]
    return error["field"], error["code"]


@pytest.mark.parametrize(("raw", "field", "code"), [
    ('{"a": 1, "a": 1}', "a", "duplicate_key"),
    ('{"feedetail": [{"x": "1"}, {"pric": "1.00", "cnt": "1", "pric": "2.00"}]}', "feedetail[1].pric",
     "duplicate_key"),
    ('[{"psn_no": "1"}, {"psn_no": "2", "psn_no": "3"}]', "[1].psn_no", "duplicate_key"),
    ('{"a": {"b": {"c": 1, "c": 2}}}', "a.b.c", "duplicate_key"),
    ('{"a": NaN}', "a", "not_a_number"),
    ('{"a": [1, Infinity]}', "a[1]", "not_a_number"),
    ('{"a": -Infinity}', "a", "not_a_number"),
    ('{"a": 1e999}', "a", "not_a_number"),
    ("NaN", "body", "not_a_number"),
    ('{"a": "x\\u0000"}', "a", "invalid_character"),
    ("[" * 40 + "]" * 40, "[0]" * 33, "too_deep"),
    ('{"a": 1', "body", "parse_error"),
    (b'{"a": "\xff"}', "body", "parse_error"),
])
def test_strict_loads_refuses_and_names_the_field(raw, field, code):  # noqa: ANN001
    assert _refusal(raw) == (field, code)


def test_strict_loads_keeps_what_plain_json_would_read():
    raw = '{"a": [1, 2.5, "x", null, true, {"b": "c"}], "d": -0.0}'
    assert strict_loads(raw) == json.loads(raw)
    assert strict_loads(raw.encode()) == json.loads(raw)


def test_nul_under_items_is_left_to_the_item_but_nothing_else_is():
    assert strict_loads('{"items": [{"a": "x\\u0000"}]}', nul_deferred_under="items") == {
        "items": [{"a": "x\x00"}]}
    assert _refusal('{"items": [{"a": 1, "a": 2}]}', nul_deferred_under="items") == (
        "items[0].a", "duplicate_key")
    assert _refusal('{"items": [{"a": NaN}]}', nul_deferred_under="items") == ("items[0].a", "not_a_number")
    assert _refusal('{"items": [], "items": []}', nul_deferred_under="items") == ("items", "duplicate_key")
    assert _refusal('{"x": "\\u0000", "items": []}', nul_deferred_under="items") == ("x", "invalid_character")


def _raw_bill(**replace: str) -> str:
    """The JSON text of a settle request with members spliced in as raw text (so a key can repeat)."""
    text = json.dumps(bill(), ensure_ascii=False)
    for marker, extra in replace.items():
        text = text.replace(f'"{marker}": ', f"{extra}, \"{marker}\": ", 1)
    return text


def test_a_certificate_number_sent_twice_is_refused_not_charged_to_the_second(examples, institution_client):
    client = institution_client("H31010400001")
    # the first 甲, the second 乙: a lenient reader charged 乙 while a signing proxy checked 甲
    body = _raw_bill(mdtrt_cert_no='"mdtrt_cert_no": "340104198001011234"').replace(
        '"mdtrt_cert_no": "340104198001011234", "mdtrt_cert_no": "340104198001011234"',
        '"mdtrt_cert_no": "340104198001011234", "mdtrt_cert_no": "320102197505124565"')
    assert body.count('"mdtrt_cert_no"') == 2
    resp = client.post("/api/v1/settlements", raw=body.encode())
    assert _only_error(resp) == {"field": "mdtrt_cert_no", "code": "duplicate_key",
                                 "message": "键或列名重复出现。"}  # zh-hans default
    assert Settlement.objects.count() == 0


def test_a_fee_line_key_sent_twice_is_refused(examples, institution_client):
    client = institution_client("H31010400001")
    request = bill(lines=[line(1), line(2)])
    text = json.dumps(request)
    amount = '"det_item_fee_sumamt": "12.50"}'
    text = text.replace(amount, '"det_item_fee_sumamt": "12.50", "det_item_fee_sumamt": "1.00"}', 1)
    resp = client.post("/api/v1/settlements", raw=text.encode())
    assert _only_error(resp)["field"] == "feedetail[0].det_item_fee_sumamt"
    assert _only_error(resp)["code"] == "duplicate_key"
    assert Settlement.objects.count() == 0


def test_items_sent_twice_in_a_batch_are_refused(examples, institution_client):
    client = institution_client("H31010400001")
    one, two = json.dumps([bill()]), json.dumps([bill(), bill()])
    resp = client.post("/api/v1/settlements/batch", raw=f'{{"items": {one}, "items": {two}}}'.encode())
    assert _only_error(resp)["field"] == "items" and _only_error(resp)["code"] == "duplicate_key"
    assert Settlement.objects.count() == 0


@pytest.mark.parametrize("member", ['"dise_codg": NaN', '"psn_name": Infinity', '"extra": -Infinity'])
def test_nan_in_a_settle_request_is_refused(examples, institution_client, member):  # noqa: ANN001
    client = institution_client("H31010400001")
    text = json.dumps(bill())
    text = "{" + member + ", " + text[1:]
    resp = client.post("/api/v1/settlements", raw=text.encode())
    assert _only_error(resp) == {"field": member.split('"')[1], "code": "not_a_number",
                                 "message": "NaN 和 Infinity 不是数字。"}
    assert Settlement.objects.count() == 0


def test_unknown_top_level_field_of_a_write_is_refused(examples, institution_client, staff_client):
    client = institution_client("H31010400001")
    resp = client.post("/api/v1/settlements", {**bill(), "fund_pay_sumamt": "0.00"})
    assert _only_error(resp) == {"field": "fund_pay_sumamt", "code": "unknown_field",
                                 "message": "未知字段。"}
    resp = client.post("/api/v1/settlements/preview", {**bill(), "discount": "1"})
    assert _only_error(resp)["field"] == "discount"
    resp = client.post("/api/v1/persons/lookup", {"mdtrt_cert_type": "02",
                                                  "mdtrt_cert_no": "340104198001011234", "psn_no": "x"})
    assert _only_error(resp)["field"] == "psn_no"
    staff = staff_client("clearing_staff")
    resp = staff.post("/api/v1/prefunds/340000/deposits", {"amount": "1.00", "value_date": "2026-11-27",
                                                            "reference": "r-1", "admdvs": "310000"})
    assert _only_error(resp) == {"field": "admdvs", "code": "unknown_field",
                                 "message": "未知字段。"}
    assert Settlement.objects.count() == 0


def test_unknown_field_of_a_batch_item_is_that_items_refusal(examples, institution_client):
    client = institution_client("H31010400001")
    resp = client.post("/api/v1/settlements/batch", {"items": [{**bill(), "hifp_pay": "9.99"}, bill()]})
    assert resp.status_code == 200
    first, second = resp.json()["results"]
    assert first["status"] == 400
    assert first["problem"]["errors"] == [{"field": "hifp_pay", "code": "unknown_field",
                                           "message": "未知字段。"}]
    assert second["status"] == 201
    assert Settlement.objects.count() == 1


def test_bureau_uploads_cardholder_and_staff_sign_in_read_strictly(examples, staff_client, client):  # noqa: ANN001
    bureau = staff_client("bureau", "340000")
    row = '{"psn_no": "34019900000000000001", "psn_no": "34019900000000000002"}'
    resp = bureau.post("/api/v1/persons", raw=f"[{row}]".encode())
    assert _only_error(resp)["field"] == "[0].psn_no"
    csv = "psn_no,certno,psn_name,insutype,insuplc_admdvs,certno\n1,2,3,310,340100,4\n"
    resp = bureau.post("/api/v1/persons", raw=csv.encode(), content_type="text/csv")
    assert _only_error(resp) == {"field": "certno", "code": "duplicate_key",
                                 "message": "键或列名重复出现。"}
    resp = bureau.post("/api/v1/catalogue", raw=b'{"items": [], "items": [{}]}')
    assert _only_error(resp)["field"] == "items"
    resp = bureau.post("/api/v1/filings", {"psn_no": "34010000000000000001", "filing_type": "12",
                                           "mdtrtarea_admvs": "310000", "begndate": "2026-01-01", "x": 1})
    assert _only_error(resp)["field"] == "x"
    assert Person.objects.filter(psn_no__startswith="340199").count() == 0
    resp = client.post("/api/v1/auth/token", data='{"username": "a", "username": "b", "password": "p"}',
                       content_type="application/json")
    assert _only_error(resp)["field"] == "username"
    resp = client.post("/api/v1/cardholder/token", data='{"certno": "x", "password": NaN}',
                       content_type="application/json")
    assert _only_error(resp)["field"] == "password" and _only_error(resp)["code"] == "not_a_number"


def test_whoami_parses_strictly_but_takes_any_field(examples, institution_client):
    client = institution_client("H31010400001")
    assert client.post("/api/v1/whoami", {"anything": 1}).status_code == 200
    assert _only_error(client.post("/api/v1/whoami", raw=b'{"a": 1, "a": 1}'))["field"] == "a"
