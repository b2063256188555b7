"""Reference-data importers: honest counts, named rejections, opening balances
(spec/bureau-api.md §Reference data, spec/operations.md §Commands)."""
from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts.models import Filing, Institution, Person
from accounts.selectors import person_by_credential, person_certno, person_name
from accounts.services import filings_import, persons_import
from core.models import AuditRecord
from tests.fixtures import EXAMPLES_DIR

ROW = {"psn_no": "34019900000000000001", "psn_cert_type": "01", "certno": "34010419850505123X",
       "psn_name": "测试", "gend": "1", "brdy": "1985-05-05", "insutype": "310", "insuplc_admdvs": "340100",
       "psn_insu_stas": "1", "card_no": "B1", "card_sn": "sn1", "acct_balc": "100.00"}


def _import(rows, province=None):
    return persons_import(rows=rows, province=province, principal=None).as_dict()


def test_import_reference_twice_reports_unchanged(db):
    out = io.StringIO()
    call_command("import_reference", str(EXAMPLES_DIR), stdout=out)
    first = out.getvalue()
    assert "persons.csv: received=7 created=7 updated=0 unchanged=0 rejected=0" in first
    assert "institutions.csv: received=5 created=5 updated=0 unchanged=0 rejected=0" in first
    assert "filings.csv: received=4 created=4 updated=0 unchanged=0 rejected=0" in first
    out = io.StringIO()
    call_command("import_reference", str(EXAMPLES_DIR), stdout=out)
    second = out.getvalue()
    assert "persons.csv: received=7 created=0 updated=0 unchanged=7 rejected=0" in second
    assert "institutions.csv: received=5 created=0 updated=0 unchanged=5 rejected=0" in second
    assert "filings.csv: received=4 created=0 updated=0 unchanged=4 rejected=0" in second
    assert "regions.csv: received=72 created=0 updated=0 unchanged=72 rejected=0" in second
    assert Person.objects.count() == 7 and Institution.objects.count() == 5 and Filing.objects.count() == 4


def test_examples_fixture_loads_persons(examples):
    p = Person.objects.get(psn_no="34010000000000000003")
    assert person_certno(p) == "34010219900215321X"
    assert person_name(p) == "示例丙"
    assert p.acct_balance == Decimal("0.00")
    assert person_by_credential(cert_type="02", cert_no="340104198001011234").psn_no == "34010000000000000001"
    found = person_by_credential(cert_type="03", cert_no="A34000001",
                                 card_sn="5f1c0e6a9b2d4c7e8a3b6d9f0c1e2a41")
    assert found.psn_no == "34010000000000000001"
    assert Person.objects.get(psn_no="34010000000000000001").acct_balance == Decimal("500.00")


def test_counts_created_updated_unchanged(examples):
    assert _import([ROW]) == {"received": 1, "created": 1, "updated": 0, "unchanged": 0, "rejected": []}
    assert _import([ROW]) == {"received": 1, "created": 0, "updated": 0, "unchanged": 1, "rejected": []}
    changed = dict(ROW, psn_name=" 测试二 ", psn_insu_stas="2")
    assert _import([changed, ROW | {"psn_no": "34019900000000000002", "certno": "340104196210030870"}]) == {
        "received": 2, "created": 0, "updated": 1, "unchanged": 0,
        "rejected": [{"row": 2, "field": "certno", "code": "duplicate_certno"}]}
    p = Person.objects.get(psn_no=ROW["psn_no"])
    assert person_name(p) == "测试二" and p.psn_insu_stas == "2"
    # the same row once more: unchanged, including a different opening balance
    assert _import([changed | {"acct_balc": "999.00"}])["unchanged"] == 1


def test_normalised_input_counts_unchanged(examples):
    _import([ROW])
    same = dict(ROW, certno="３４０１０４１９８５０５０５１２３ｘ", psn_name=" 测试　")
    assert _import([same])["unchanged"] == 1


def test_bad_rows_named_with_row_and_field(examples):
    rows = [
        ROW,
        dict(ROW, psn_no="X2", certno="340104198505051249"),
        dict(ROW, psn_no="X3", certno="340104198002300000"),
        dict(ROW, psn_no="X4", insutype="999"),
        dict(ROW, psn_no="X5", acct_balc="12.5"),
        dict(ROW, psn_no="X6", brdy="1980-13-01"),
        dict(ROW, psn_no="", certno="310101198511206547"),
        dict(ROW, psn_no="X8", insuplc_admdvs="990100"),
        dict(ROW, psn_no="X9", psn_name=""),
    ]
    result = _import(rows)
    assert result["created"] == 1
    assert result["rejected"] == [
        {"row": 2, "field": "certno", "code": "invalid_certno"},
        {"row": 3, "field": "certno", "code": "invalid_certno"},
        {"row": 4, "field": "insutype", "code": "invalid_choice"},
        {"row": 5, "field": "acct_balc", "code": "invalid_money"},
        {"row": 6, "field": "brdy", "code": "invalid_date"},
        {"row": 7, "field": "psn_no", "code": "required"},
        {"row": 8, "field": "insuplc_admdvs", "code": "unknown_region"},
        {"row": 9, "field": "psn_name", "code": "required"},
    ]


def test_wrong_province_rejected(examples):
    result = _import([ROW, dict(ROW, psn_no="32019900000000000009", certno="320102197505124565",
                                insuplc_admdvs="320100")], province="340000")
    # row 2 is a Jiangsu person (and its certno is another person's: province wins, checked first)
    assert result["rejected"] == [{"row": 2, "field": "insuplc_admdvs", "code": "wrong_province"}]
    # an existing psn_no of another province cannot be taken over by moving it here
    moved = [dict(ROW, psn_no="32010000000000000002", certno="320102197505124565")]
    assert _import(moved, province="340000")["rejected"] == [
        {"row": 1, "field": "psn_no", "code": "wrong_province"}]


def test_opening_balance_never_overwrites_balance_in_use(examples):
    _import([ROW])
    Person.objects.filter(psn_no=ROW["psn_no"]).update(acct_balance=Decimal("37.50"))  # spent at a desk
    result = _import([dict(ROW, acct_balc="100.00", psn_name="新名")])
    assert result["updated"] == 1
    assert Person.objects.get(psn_no=ROW["psn_no"]).acct_balance == Decimal("37.50")


def test_import_audited_without_personal_data(examples):
    _import([ROW])
    rec = AuditRecord.objects.filter(action="persons_import").last()
    dumped = json.dumps(rec.detail, ensure_ascii=False)
    assert rec.detail["created"] == 1
    assert "34010419850505123X" not in dumped and "测试" not in dumped


def test_filings_import_counts(examples):
    rows = [{"psn_no": "34010000000000000001", "filing_type": "21", "mdtrtarea_admvs": "320100",
             "begndate": "2026-11-01", "enddate": "2026-12-31"}]
    assert filings_import(rows=rows, province="340000", principal=None).as_dict()["created"] == 1
    assert filings_import(rows=rows, province="340000", principal=None).as_dict()["unchanged"] == 1
    rows2 = [dict(rows[0], enddate="2027-01-31"),
             dict(rows[0], psn_no="nobody"),
             dict(rows[0], mdtrtarea_admvs="340200"),
             dict(rows[0], enddate="2026-10-01"),
             dict(rows[0], psn_no="32010000000000000002")]
    result = filings_import(rows=rows2, province="340000", principal=None).as_dict()
    assert result == {"received": 5, "created": 0, "updated": 1, "unchanged": 0, "rejected": [
        {"row": 2, "field": "psn_no", "code": "unknown_person"},
        {"row": 3, "field": "mdtrtarea_admvs", "code": "not_out_of_area"},
        {"row": 4, "field": "enddate", "code": "before_begndate"},
        {"row": 5, "field": "psn_no", "code": "wrong_province"},
    ]}


@pytest.mark.parametrize("n", [3])
def test_create_client_output_shape(examples, n):
    out = io.StringIO()
    call_command("create_client", "H31010400001", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1
    doc = json.loads(lines[0])
    assert sorted(doc) == ["client_id", "secret"]
    assert len(doc["secret"]) >= 43  # 32 random bytes, base64url
    from accounts.models import InstitutionClient
    from core.crypto import decrypt
    stored = InstitutionClient.objects.get(client_id=doc["client_id"])
    assert doc["secret"] not in stored.secret_enc and decrypt(stored.secret_enc) == doc["secret"]


def test_institutions_update_and_csv_bom(examples):
    from accounts.services import institutions_import
    from core.imports import rows_from_csv_bytes

    data = ("\ufefffixmedins_code,fixmedins_name,fixmedins_type,hosp_lv,admdvs\n"
            "H34010400001,合肥示例医院（新名）,1,3,340100\n"
            "P34010400001,合肥示例大药房,2,,340100\n"
            "P34010400009,药房,2,2,340100\n"
            "H31010400001,上海示例第一医院,1,3,310000\n").encode()
    result = institutions_import(rows=rows_from_csv_bytes(data), province="340000", principal=None).as_dict()
    assert result == {"received": 4, "created": 0, "updated": 1, "unchanged": 1, "rejected": [
        {"row": 3, "field": "hosp_lv", "code": "must_be_empty"},
        {"row": 4, "field": "admdvs", "code": "wrong_province"}]}
    inst = Institution.objects.get(fixmedins_code="H34010400001")
    assert inst.name == "合肥示例医院(新名)" and inst.hosp_lv == "3"  # NFKC folds full-width brackets
