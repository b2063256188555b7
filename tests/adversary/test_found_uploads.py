"""Adversary (engineer H): bureau uploads with a NUL character in a key column answer 500 instead of
rejecting the row (spec/bureau-api.md: every upload answers the counts with ``rejected`` rows)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

PERSONS_HEADER = ("psn_no,psn_cert_type,certno,psn_name,gend,brdy,insutype,insuplc_admdvs,psn_insu_stas,"
                  "card_no,card_sn,acct_balc\n")
CATALOGUE_HEADER = ("admdvs,med_list_codg,med_list_name,list_type,chrgitm_lv,selfpay_prop,pric_uplmt_amt,"
                    "begndate,enddate\n")


@pytest.mark.postgres
def test_persons_upload_with_nul_in_psn_no_rejects_the_row(examples, staff_client):
    row = "3401000000000000009\x00,01,340104199001010113,名字,1,1990-01-01,310,340100,1,A3400092,sn92,10.00\n"
    r = staff_client("bureau", "340000").post("/api/v1/persons", raw=(PERSONS_HEADER + row).encode(),
                                             content_type="text/csv")
    assert r.status_code == 200, (r.status_code, r.content[:200])
    assert r.json()["created"] == 0
    assert [x["field"] for x in r.json()["rejected"]] == ["psn_no"]


@pytest.mark.postgres
def test_catalogue_upload_with_nul_in_code_rejects_the_row(examples, staff_client):
    row = "340000,X\x00Y,name,101,01,0,,2020-01-01,2099-12-31\n"
    r = staff_client("bureau", "340000").post("/api/v1/catalogue", raw=(CATALOGUE_HEADER + row).encode(),
                                             content_type="text/csv")
    assert r.status_code == 200, (r.status_code, r.content[:200])
    assert [x["field"] for x in r.json()["rejected"]] == ["med_list_codg"]
