"""Hostile upload rows and login bodies (engineer B2): a control character in any text cell rejects
that row ``invalid_character`` and the rest is imported; a policy of an unlisted province is
``unknown_region``; a non-string username is ``400 invalid`` (spec/bureau-api.md §Reference data,
spec/security.md §People)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

PERSONS = ("psn_no,psn_cert_type,certno,psn_name,gend,brdy,insutype,insuplc_admdvs,psn_insu_stas,"
           "card_no,card_sn,acct_balc\n")
GOOD_PERSON = ("34010000000000000091,01,340104199001010113,名字,1,1990-01-01,310,340100,1,A3400091,sn91,"
               "10.00\n")


def _csv(client, path: str, text: str):
    return client.post(path, raw=text.encode(), content_type="text/csv")


@pytest.mark.parametrize("bad", ["\x00", "\t", "\x1b", "\x85"])
def test_persons_row_with_control_character_is_rejected_rest_imported(examples, staff_client, bad):
    row2 = (f"34010000000000000092,01,340104199001010076,名{bad}字,1,1990-01-01,310,340100,1,A3400092,"
            "sn92,1.00\n")
    r = _csv(staff_client("bureau", "340000"), "/api/v1/persons", PERSONS + GOOD_PERSON + row2)
    assert r.status_code == 200, r.content[:300]
    assert r.json()["created"] == 1
    assert r.json()["rejected"] == [{"row": 2, "field": "psn_name", "code": "invalid_character"}]


def test_filings_row_with_nul_psn_no_is_rejected(examples, staff_client):
    text = ("psn_no,filing_type,mdtrtarea_admvs,begndate,enddate\n"
            "3401000000000000000\x001,12,320000,2020-01-01,2099-12-31\n"
            "34010000000000000001,12,320000,2020-01-01,2099-12-31\n")
    r = _csv(staff_client("bureau", "340000"), "/api/v1/filings", text)
    assert r.status_code == 200, r.content[:300]
    assert r.json()["created"] == 1
    assert r.json()["rejected"] == [{"row": 1, "field": "psn_no", "code": "invalid_character"}]


def test_institutions_rows_with_nul_code_are_rejected(examples):
    from accounts.services.regions import institutions_import

    rows = [{"fixmedins_code": "H3\x00", "fixmedins_name": "x", "fixmedins_type": "1", "hosp_lv": "3",
             "admdvs": "310104"}]
    result = institutions_import(rows=rows, province=None, principal=None)
    assert result.rejected == [{"row": 1, "field": "fixmedins_code", "code": "invalid_character"}]


def test_catalogue_row_with_control_character_in_name_is_rejected(examples, staff_client):
    text = ("admdvs,med_list_codg,med_list_name,list_type,chrgitm_lv,selfpay_prop,pric_uplmt_amt,"
            "begndate,enddate\n"
            "340000,B2X1,bad\x07name,101,01,0,,2020-01-01,2099-12-31\n"
            "340000,B2X2,good name,101,01,0,,2020-01-01,2099-12-31\n")
    r = _csv(staff_client("bureau", "340000"), "/api/v1/catalogue", text)
    assert r.status_code == 200, r.content[:300]
    assert r.json()["created"] == 1
    assert r.json()["rejected"] == [{"row": 1, "field": "med_list_name", "code": "invalid_character"}]


def test_accumulators_row_with_nul_psn_no_is_rejected(examples, staff_client):
    text = ("psn_no,year,insutype,med_type_group,deductible_used,fund_paid\n"
            "3401000000000000000\x001,2026,310,inpatient,1.00,0.00\n")
    r = _csv(staff_client("bureau", "340000"), "/api/v1/accumulators", text)
    assert r.status_code == 200, r.content[:300]
    assert r.json()["rejected"] == [{"row": 1, "field": "psn_no", "code": "invalid_character"}]


def test_policy_of_unlisted_province_is_unknown_region(examples, staff_client):
    text = ("insuplc_admdvs,insutype,med_type_group,hosp_lv,deductible,deductible_basis,pool_prop,annual_cap,"
            "temp_prop_reduction,begndate,enddate\n"
            "990000,310,inpatient,3,1000.00,visit,0.85,300000.00,0.10,2020-01-01,2099-12-31\n"
            "340000,310,pharmacy,1,100.00,visit,0.85,300000.00,0.10,2020-01-01,2099-12-31\n")
    r = _csv(staff_client("bureau", "340000"), "/api/v1/policies", text)
    assert r.status_code == 200, r.content[:300]
    assert r.json()["created"] == 1
    assert r.json()["rejected"] == [{"row": 1, "field": "insuplc_admdvs", "code": "unknown_region"}]


@pytest.mark.parametrize("bad", [123, 1.5, True, ["a"], {"a": "b"}])
def test_token_with_non_string_username_is_400(client, bad):
    r = client.post("/api/v1/auth/token", {"username": bad, "password": "x"}, content_type="application/json")
    assert r.status_code == 400
    assert r.json()["code"] == "invalid"
    assert [e["field"] for e in r.json()["errors"]] == ["username"]


def test_token_with_non_string_password_is_400(client):
    r = client.post("/api/v1/auth/token", {"username": "u", "password": 12345678},
                    content_type="application/json")
    assert r.status_code == 400
    assert [e["field"] for e in r.json()["errors"]] == ["password"]


def test_account_credit_that_would_overflow_the_balance_is_422(examples, staff_client):
    from accounts.models import AccountCredit, Person

    before = Person.objects.get(psn_no="34010000000000000001").acct_balance
    r = staff_client("bureau", "340000").post(
        "/api/v1/persons/34010000000000000001/account-credits",
        {"amount": "99999999999999.99", "value_date": "2026-11-27", "reference": "B2-BIG"})
    assert r.status_code == 422, r.content[:300]
    assert r.json()["code"] == "balance_overflow"
    assert Person.objects.get(psn_no="34010000000000000001").acct_balance == before
    assert not AccountCredit.objects.exists()
