"""Bureau uploads of catalogue, policies and accumulators (spec/bureau-api.md §Reference data)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from settlement.models import Accumulator, CatalogueItem, Policy
from settlement.services.reference import accumulators_import, catalogue_import, policies_import
from tests.settlement.conftest import CERT, bill

pytestmark = pytest.mark.django_db

CAT_HEADER = (
    "admdvs,med_list_codg,med_list_name,list_type,chrgitm_lv,selfpay_prop,pric_uplmt_amt,begndate,enddate\n"
)


def cat_row(**kw: str) -> dict[str, str]:
    row = {
        "admdvs": "310000",
        "med_list_codg": "NEW001",
        "med_list_name": "新药",
        "list_type": "101",
        "chrgitm_lv": "02",
        "selfpay_prop": "0.15",
        "pric_uplmt_amt": "",
        "begndate": "2026-01-01",
        "enddate": "2026-12-31",
    }
    return row | kw


def test_examples_reimport_unchanged(examples):
    from core.imports import rows_from_csv_bytes

    for name, func in (
        ("catalogue", catalogue_import),
        ("policies", policies_import),
        ("accumulators", accumulators_import),
    ):
        rows = rows_from_csv_bytes((examples / f"{name}.csv").read_bytes())
        r = func(rows=rows, province=None, principal=None)
        assert (r.received, r.created, r.updated, r.unchanged, r.rejected) == (
            len(rows),
            0,
            0,
            len(rows),
            [],
        ), name


def test_catalogue_versions_and_overlap(examples):
    r = catalogue_import(
        rows=[cat_row(), cat_row(begndate="2027-01-01", enddate="2099-12-31")],
        province="310000",
        principal=None,
    )
    assert (r.created, r.rejected) == (2, [])
    r = catalogue_import(rows=[cat_row(selfpay_prop="0.2000")], province="310000", principal=None)
    assert (r.updated, r.created, r.unchanged) == (1, 0, 0)
    assert CatalogueItem.objects.get(med_list_codg="NEW001", begndate="2026-01-01").selfpay_prop == D("0.2")
    n = CatalogueItem.objects.count()
    r = catalogue_import(
        rows=[cat_row(med_list_codg="OTHER"), cat_row(begndate="2026-06-01", enddate="2026-06-30")],
        province="310000",
        principal=None,
    )
    assert r.rejected == [{"row": 2, "field": "begndate", "code": "overlapping_catalogue"}]
    assert (r.created, r.updated, r.unchanged) == (0, 0, 0) and CatalogueItem.objects.count() == n
    r = catalogue_import(
        rows=[
            cat_row(admdvs="320000", med_list_codg="Z"),
            cat_row(chrgitm_lv="04", med_list_codg="Y"),
            cat_row(med_list_codg="W", pric_uplmt_amt="abc"),
        ],
        province="310000",
        principal=None,
    )
    assert [(x["field"], x["code"]) for x in r.rejected] == [
        ("admdvs", "wrong_province"),
        ("chrgitm_lv", "invalid_choice"),
        ("pric_uplmt_amt", "invalid_number"),
    ]


def test_catalogue_api_csv_and_overlap(examples, staff_client):
    bureau = staff_client("bureau", "310000")
    csv = CAT_HEADER + "310000,NEW002,新药,101,01,0,12.50,2026-01-01,2099-12-31\n"
    r = bureau.post("/api/v1/catalogue", raw=csv.encode("utf-8-sig"), content_type="text/csv")
    assert r.status_code == 200, r.content
    assert r.json() == {"received": 1, "created": 1, "updated": 0, "unchanged": 0, "rejected": []}
    overlap = CAT_HEADER + "310000,NEW002,新药,101,01,0,12.50,2026-03-01,2026-12-31\n"
    r = bureau.post("/api/v1/catalogue", raw=overlap.encode(), content_type="text/csv")
    assert (r.status_code, r.json()["code"]) == (422, "overlapping_catalogue")
    assert r.json()["rejected"][0]["code"] == "overlapping_catalogue"
    other = staff_client("bureau", "320000").post("/api/v1/catalogue", [cat_row(med_list_codg="Q")])
    assert other.json()["rejected"][0]["code"] == "wrong_province"
    assert (
        staff_client("bureau", "310000").post("/api/v1/policies", [{"insuplc_admdvs": "310000"}]).status_code
        == 200
    )


def test_policies_overlap_and_validation(examples):
    row = {
        "insuplc_admdvs": "340000",
        "insutype": "310",
        "med_type_group": "inpatient",
        "hosp_lv": "2",
        "deductible": "800.00",
        "deductible_basis": "visit",
        "pool_prop": "0.9",
        "annual_cap": "300000.00",
        "temp_prop_reduction": "0.10",
        "begndate": "2020-01-01",
        "enddate": "2099-12-31",
    }
    assert policies_import(rows=[row], province="340000", principal=None).created == 1
    r = policies_import(rows=[row | {"begndate": "2026-01-01"}], province="340000", principal=None)
    assert r.rejected == [{"row": 1, "field": "begndate", "code": "overlapping_policy"}]
    r = policies_import(
        rows=[row | {"deductible": "800", "pool_prop": "1.5", "deductible_basis": "day"}],
        province="340000",
        principal=None,
    )
    assert r.rejected[0]["code"] == "invalid_amount"
    assert Policy.objects.filter(insuplc_admdvs="340000", hosp_lv="2").count() == 1


def test_accumulators_never_overwrite_settlements(world):
    import datetime as dt

    year = str(dt.date.today().year)
    row = {
        "psn_no": "33010000000000000004",
        "year": year,
        "insutype": "310",
        "med_type_group": "inpatient",
        "deductible_used": "10.00",
        "fund_paid": "20.00",
    }
    assert accumulators_import(rows=[row], province="330000", principal=None).created == 1
    assert accumulators_import(rows=[row], province="330000", principal=None).unchanged == 1
    assert (
        accumulators_import(rows=[row], province="340000", principal=None).rejected[0]["code"]
        == "wrong_province"
    )
    r = world["H31010400001"].post(
        "/api/v1/settlements", bill(CERT["丁"], "310", "24", [("001201000010000", "1", "3000.00", "3000.00")])
    )
    assert r.status_code == 201
    r = accumulators_import(
        rows=[row | {"fund_paid": "0.00"}, row | {"psn_no": "nobody"}], province=None, principal=None
    )
    assert [x["code"] for x in r.rejected] == ["accumulator_in_use", "unknown_person"]
    acc = Accumulator.objects.get(person__psn_no="33010000000000000004", med_type_group="inpatient")
    assert acc.fund_paid == D("20.00") + D("1400.00")


def test_upload_roles(examples, staff_client, institution_client):
    assert staff_client("clearing_staff", "000000").post("/api/v1/catalogue", [cat_row()]).status_code == 403
    assert institution_client("H31010400001").post("/api/v1/policies", []).status_code == 403
    r = staff_client("bureau", "320000").post(
        "/api/v1/accumulators",
        [
            {
                "psn_no": "34010000000000000001",
                "year": "2026",
                "insutype": "310",
                "med_type_group": "inpatient",
                "deductible_used": "1.00",
                "fund_paid": "1.00",
            }
        ],
    )
    assert r.json()["rejected"] == [{"row": 1, "field": "psn_no", "code": "wrong_province"}]
    bad_json = staff_client("bureau", "340000").post(
        "/api/v1/accumulators",
        [
            {
                "psn_no": "34010000000000000001",
                "year": "2026",
                "insutype": "310",
                "med_type_group": "inpatient",
                "deductible_used": 1.5,
                "fund_paid": "1.00",
            }
        ],
    )
    assert bad_json.json()["rejected"] == [{"row": 1, "field": "deductible_used", "code": "invalid_amount"}]
