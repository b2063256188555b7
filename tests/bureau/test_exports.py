"""Statements and items as .xlsx and CSV from the API (``?format=``): Chinese headers and
province names, exact money, JSON unchanged as the default."""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from bureau import exports
from tests.clearing.helpers import staff_client

pytestmark = pytest.mark.django_db
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _book(resp):  # noqa: ANN001, ANN202
    assert resp.status_code == 200, resp.content[:300]
    assert resp["Content-Type"] == XLSX and resp["Content-Disposition"].startswith("attachment;")
    return openpyxl.load_workbook(io.BytesIO(resp.content))


def _raw_values(content: bytes, sheet: int) -> list[str]:
    """The ``<v>`` texts of a sheet as stored in the file (what Excel parses)."""
    xml = zipfile.ZipFile(io.BytesIO(content)).read(f"xl/worksheets/sheet{sheet}.xml").decode()
    return re.findall(r"<v>([^<]*)</v>", xml)


def test_statement_xlsx_exact_values(closed_day):
    day, _items = closed_day
    resp = staff_client("bureau", "320000").get(f"/api/v1/cycles/{day}/statement?format=xlsx")
    book = _book(resp)
    assert book.sheetnames == ["汇总", "双边", "医药机构划拨"]
    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(min_row=2, values_only=True)}
    assert summary["省份"] == "江苏省" and summary["清算日期"] == day.isoformat()
    assert Decimal(str(summary["净额（元）"])) == Decimal("398.22")
    rows = list(book["双边"].iter_rows(values_only=True))
    assert rows[0] == (
        "对方省份代码",
        "对方省份",
        "应付（元）",
        "应收（元）",
        "净额（元）",
        "应付笔数",
        "应收笔数",
    )
    assert rows[1:] == [
        ("330000", "浙江省", 101.78, 0, -101.78, 2, 0),
        ("340000", "安徽省", 0, 500, 500, 0, 1),
    ]
    # the file stores exactly the decimals (no binary noise digits) and formats them with 2 places
    assert _raw_values(resp.content, 2) == ["101.78", "0", "-101.78", "2", "0", "0", "500", "500", "0", "1"]
    assert book["双边"]["C2"].number_format == "#,##0.00"
    remit = list(book["医药机构划拨"].iter_rows(min_row=2, values_only=True))
    assert remit == [("H32010200001", "跨省", 500, 1), ("H32010200001", "省内", 20, 1)]


def test_statement_csv_keeps_the_machine_header_on_the_api(closed_day):
    day, _items = closed_day
    b = staff_client("bureau", "320000")
    resp = b.get(f"/api/v1/cycles/{day}/statement?format=csv")
    assert resp["Content-Type"] == "text/csv; charset=utf-8"
    lines = resp.content.decode("utf-8").split("\r\n")
    assert lines[0] == "\ufeffsection,code,payable,receivable,payable_cnt,receivable_cnt,amount,cnt,name"
    assert lines[1:5] == [
        "bilateral,330000,101.78,0.00,2,0,,,浙江省",
        "bilateral,340000,0.00,500.00,0,1,,,安徽省",
        "hospital_remittance,H32010200001,,,,,500.00,1,",
        "intra_province_remittance,H32010200001,,,,,20.00,1,",
    ]
    en = b.get(f"/api/v1/cycles/{day}/statement?format=csv", HTTP_ACCEPT_LANGUAGE="en")
    assert en.content == resp.content  # a machine header does not change with the language


def test_dashboard_csv_downloads_are_for_people(closed_day):
    from tests.bureau.conftest import sign_in

    day, _items = closed_day
    c = sign_in("bureau", "320000")
    lines = c.get(f"/bureau/cycles/{day}/statement.csv").content.decode("utf-8").split("\r\n")
    assert lines[0] == "\ufeff部分,代码,名称,应付（元）,应收（元）,应付笔数,应收笔数,金额（元）,笔数"
    assert lines[1:5] == [
        "双边,330000,浙江省,101.78,0.00,2,0,,",
        "双边,340000,安徽省,0.00,500.00,0,1,,",
        "跨省,H32010200001,,,,,,500.00,1",
        "省内,H32010200001,,,,,,20.00,1",
    ]
    en = c.get(f"/bureau/cycles/{day}/statement.csv", HTTP_ACCEPT_LANGUAGE="en").content.decode("utf-8")
    assert en.startswith("\ufeffSection,Code,Name,Payable (yuan),") and "Bilateral,330000,浙江省,101.78" in en
    items = c.get(f"/bureau/cycles/{day}/items.csv").getvalue().decode().split("\r\n")
    assert items[0].startswith("\ufeff结算ID,类型,付款省份代码,付款省份,")


def test_items_xlsx_and_csv_scope(closed_day):
    day, items = closed_day
    b = staff_client("bureau", "320000")
    book = _book(b.get(f"/api/v1/cycles/{day}/items?format=xlsx"))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0] == (
        "结算ID",
        "类型",
        "付款省份代码",
        "付款省份",
        "收款省份代码",
        "收款省份",
        "清算金额（元）",
        "定点医药机构编码",
        "清算日期",
    )
    e3 = items["E3"].setl_id
    assert [r for r in rows if r[0] == e3] == [
        (e3, "结算", "340000", "安徽省", "320000", "江苏省", 500, "H32010200001", rows[1][8])
    ]
    assert len(rows) == 1 + 4 and rows[1][8].date() == day
    csv_lines = (
        b"".join(b.get(f"/api/v1/cycles/{day}/items?format=csv&counterparty=330000").streaming_content)
        .decode()
        .split("\r\n")
    )
    assert (
        csv_lines[0] == "\ufeffsetl_id,kind,payer,payee,clr_amt,fixmedins_code,clr_date,payer_name,payee_name"
    )
    rows = [line.split(",") for line in csv_lines[1:] if line]
    assert sorted(r[4] for r in rows) == ["31.78", "70.00"]
    assert {(r[1], r[2], r[3], r[7], r[8]) for r in rows} == {
        ("settlement", "320000", "330000", "江苏省", "浙江省")
    }


def test_json_stays_the_default_and_bad_formats(closed_day):
    day, _items = closed_day
    b = staff_client("bureau", "320000")
    env = b.get(f"/api/v1/cycles/{day}/statement").json()
    assert set(env) == {"statement", "key_id", "signature"} and env["statement"]["net"] == "398.22"
    page = b.get(f"/api/v1/cycles/{day}/items?format=json").json()
    assert set(page) == {"next", "previous", "results"} and len(page["results"]) == 4
    bad = b.get(f"/api/v1/cycles/{day}/statement?format=pdf")
    assert bad.status_code in (400, 404) and bad["Content-Type"] == "application/problem+json"
    staff = staff_client("clearing_staff", "000000")
    missing = staff.get(f"/api/v1/cycles/{day}/statement?format=xlsx")
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "admdvs"


def test_items_xlsx_refuses_more_rows_than_a_sheet(closed_day, monkeypatch):
    day, _items = closed_day
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 3)
    resp = staff_client("bureau", "320000").get(f"/api/v1/cycles/{day}/items?format=xlsx")
    assert resp.status_code == 422 and resp.json()["code"] == "too_many_rows"


def test_amounts_beyond_excel_precision_are_text_not_rounded():
    assert exports.excel_exact(Decimal("2493.22")) and exports.excel_exact(Decimal("-9999999999999.99"))
    assert not exports.excel_exact(Decimal("99999999999999.99"))  # "%.16g" → 99999999999999.98
    book = openpyxl.load_workbook(
        io.BytesIO(
            exports.statement_xlsx(
                {
                    "clr_date": "2026-01-02",
                    "admdvs": "320000",
                    "payable": "99999999999999.99",
                    "receivable": "0.00",
                    "net": "-99999999999999.99",
                    "item_cnt": 1,
                    "intra_province": {"cnt": 0, "amount": "0.00"},
                    "prefund": {"before": "0.10", "after": "0.20"},
                    "head_sha256": "ab",
                    "bilateral": [],
                    "hospital_remittance": [],
                    "intra_province_remittance": [],
                },
                {"320000": "江苏省"},
            )
        )
    )
    values = [row[1] for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert values[3] == "99999999999999.99" and values[5] == "-99999999999999.99"
    assert values[9] == 0.1 and values[10] == 0.2
