"""Statements and clearing items as spreadsheets (.xlsx with openpyxl) and CSV, for the dashboard
and the API's ``?format=xlsx|csv`` (spec/bureau-api.md §Cycles and statements;
docs/decisions.md §Exports).

The API's ``?format=csv`` keeps the contract's machine headers (spec/bureau-api.md: the leaf
fields for items; ``section,code,…`` for statements) with province names appended as the last
columns. The workbooks and the dashboard's CSV downloads are for people: headers in the active
language (zh-hans by default: ``清算日期``, ``付款省份``, …), each province as code *and* name.
Money stays exact: CSV writes the 2-place string; xlsx a number cell with the ``#,##0.00``
format whose stored digits read back as exactly the decimal (checked per value by
:func:`excel_exact`; an amount that would not — beyond Excel's 15 significant digits — is written
as text instead of being rounded). CSV is UTF-8 with a BOM (for spreadsheet users) and CRLF line ends.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
MONEY_FORMAT = "#,##0.00"
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit less the header row
BOM = "\ufeff"


def item_headers() -> list[str]:
    return [
        _("Settlement ID"),
        _("Kind"),
        _("Payer province code"),
        _("Payer province"),
        _("Payee province code"),
        _("Payee province"),
        _("Clearing amount (yuan)"),
        _("Institution code"),
        _("Clearing date"),
    ]


def kind_label(kind: str) -> str:
    return {
        "settlement": _("settlement"),
        "reversal": _("reversal"),
        "adjustment": _("adjustment"),
        "acceptance": _("acceptance"),
    }.get(kind, kind)


def item_row(item: Any, names: dict[str, str]) -> list[Any]:
    """One item as a row: ``clr_amt`` stays a ``Decimal``, the date a ``date``."""
    return [
        item.setl_id,
        kind_label(item.kind),
        item.payer,
        names.get(item.payer, ""),
        item.payee,
        names.get(item.payee, ""),
        item.clr_amt,
        item.fixmedins_code,
        item.clr_date,
    ]


def statement_sections(
    doc: dict[str, Any], names: dict[str, str]
) -> list[tuple[str, list[str], list[list[Any]]]]:
    """The statement as ``(sheet title, headers, rows)``: summary, bilateral lines, remittances.
    Money as ``Decimal`` from the signed document's strings."""
    d = Decimal
    summary = [
        [_("Clearing date"), doc["clr_date"]],
        [_("Province code"), doc["admdvs"]],
        [_("Province"), names.get(doc["admdvs"], "")],
        [_("Payable (yuan)"), d(doc["payable"])],
        [_("Receivable (yuan)"), d(doc["receivable"])],
        [_("Net (yuan)"), d(doc["net"])],
        [_("Cross-province items"), doc["item_cnt"]],
        [_("Intra-province items"), doc["intra_province"]["cnt"]],
        [_("Intra-province amount (yuan)"), d(doc["intra_province"]["amount"])],
        *(
            [
                [_("Prefund before (yuan)"), d(doc["prefund"]["before"])],
                [_("Prefund after (yuan)"), d(doc["prefund"]["after"])],
            ]
            if "prefund" in doc
            else []
        ),
        [_("Cycle head SHA-256"), doc["head_sha256"]],
    ]
    bilateral = [
        [
            b["counterparty"],
            names.get(b["counterparty"], ""),
            d(b["payable"]),
            d(b["receivable"]),
            d(b["receivable"]) - d(b["payable"]),
            b["payable_cnt"],
            b["receivable_cnt"],
        ]
        for b in doc["bilateral"]
    ]
    # the card scheme's statements list acceptors (acceptor_remittance) instead of institutions
    remittance = [
        [r.get("fixmedins_code") or r.get("acceptor_code", ""), label, d(r["amount"]), r["cnt"]]
        for section, label in (
            ("hospital_remittance", _("cross-province")),
            ("acceptor_remittance", _("cross-province")),
            ("intra_province_remittance", _("intra-province")),
        )
        for r in doc.get(section, [])
    ]
    return [
        (_("Summary"), [_("Item"), _("Value")], summary),
        (
            _("Bilateral"),
            [
                _("Counterparty code"),
                _("Counterparty"),
                _("Payable (yuan)"),
                _("Receivable (yuan)"),
                _("Net (yuan)"),
                _("Payable items"),
                _("Receivable items"),
            ],
            bilateral,
        ),
        (
            _("Institution remittance"),
            [_("Institution code"), _("Type"), _("Amount (yuan)"), _("Items")],
            remittance,
        ),
    ]


def excel_exact(value: Decimal) -> bool:
    """True when the number openpyxl writes for ``value`` (``"%.16g"`` of its double) reads back
    as exactly ``value`` (checked per value; fails only near Excel's 15 significant digits)."""
    # openpyxl's own conversion (compat.strings.safe_string), reproduced to detect its loss
    return Decimal(format(float(value), ".16g")) == value


def _cell(ws: WriteOnlyWorksheet, value: Any, *, bold: bool = False) -> WriteOnlyCell:
    if isinstance(value, Decimal) and not excel_exact(value):
        value = f"{value:.2f}"  # kept exact as text rather than rounded to a double
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, Decimal):
        cell.number_format = MONEY_FORMAT
    elif hasattr(value, "isoformat"):
        cell.number_format = "yyyy-mm-dd"
    if bold:
        cell.font = Font(bold=True)
    return cell


def _sheet(
    wb: Workbook, title: str, headers: list[str], rows: Iterable[list[Any]], widths: list[int]
) -> None:
    ws = wb.create_sheet(title=title[:31])
    for i, w in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = w
    ws.freeze_panes = "A2"
    ws.append([_cell(ws, h, bold=True) for h in headers])
    for row in rows:
        ws.append([_cell(ws, v) for v in row])


def _save(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def statement_xlsx(doc: dict[str, Any], names: dict[str, str]) -> bytes:
    """The statement as a workbook of three sheets (summary, bilateral, remittance)."""
    wb = Workbook(write_only=True)
    for title, headers, rows in statement_sections(doc, names):
        _sheet(wb, title, headers, rows, [22] + [18] * (len(headers) - 1))
    return _save(wb)


MACHINE_ITEM_FIELDS = [
    "setl_id",
    "kind",
    "payer",
    "payee",
    "clr_amt",
    "fixmedins_code",
    "clr_date",
    "payer_name",
    "payee_name",
]
MACHINE_STATEMENT_FIELDS = [
    "section",
    "code",
    "payable",
    "receivable",
    "payable_cnt",
    "receivable_cnt",
    "amount",
    "cnt",
    "name",
]


def statement_csv_machine(doc: dict[str, Any], names: dict[str, str]) -> bytes:
    """The API's statement CSV: the contract's machine header (``section,code,payable,…,cnt``)
    and section names, plus the counterparty's ``name`` as a last column."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(MACHINE_STATEMENT_FIELDS)
    for b in doc["bilateral"]:
        w.writerow(
            [
                "bilateral",
                b["counterparty"],
                b["payable"],
                b["receivable"],
                b["payable_cnt"],
                b["receivable_cnt"],
                "",
                "",
                names.get(b["counterparty"], ""),
            ]
        )
    for section in ("hospital_remittance", "acceptor_remittance", "intra_province_remittance"):
        for r in doc.get(section, []):
            code = r.get("fixmedins_code") or r.get("acceptor_code", "")
            w.writerow([section, code, "", "", "", "", r["amount"], r["cnt"], ""])
    return (BOM + out.getvalue()).encode()


CARD_ITEM_NAMES = {"setl_id": "acpt_id", "fixmedins_code": "acceptor_code"}  # spec/cards.md leaf


def items_csv_machine(
    items: Iterable[Any], names: dict[str, str], *, scheme: str = "medical"
) -> Iterator[bytes]:
    """The API's items CSV: the leaf fields of the contract as the header (``setl_id,kind,payer,
    payee,clr_amt,fixmedins_code,clr_date``; card items ``acpt_id`` and ``acceptor_code`` in their
    places, as their leaf names them), then ``payer_name,payee_name``; streamed."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    card = scheme == "card"
    w.writerow([CARD_ITEM_NAMES.get(f, f) if card else f for f in MACHINE_ITEM_FIELDS])
    yield (BOM + buf.getvalue()).encode()
    for item in items:
        buf.seek(0)
        buf.truncate()
        w.writerow(
            [
                item.setl_id,
                item.kind,
                item.payer,
                item.payee,
                f"{item.clr_amt:.2f}",
                item.fixmedins_code,
                item.clr_date.isoformat(),
                names.get(item.payer, ""),
                names.get(item.payee, ""),
            ]
        )
        yield buf.getvalue().encode()


def statement_csv(doc: dict[str, Any], names: dict[str, str]) -> bytes:
    """The dashboard's statement CSV for people: headers in the active language, bilateral and
    remittance lines in one table (``section`` first)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(
        [
            _("Section"),
            _("Code"),
            _("Name"),
            _("Payable (yuan)"),
            _("Receivable (yuan)"),
            _("Payable items"),
            _("Receivable items"),
            _("Amount (yuan)"),
            _("Items"),
        ]
    )
    for code, name, pay, rec, _net, pay_n, rec_n in statement_sections(doc, names)[1][2]:
        w.writerow([_("Bilateral"), code, name, f"{pay:.2f}", f"{rec:.2f}", pay_n, rec_n, "", ""])
    for code, kind, amount, cnt in statement_sections(doc, names)[2][2]:
        w.writerow([kind, code, "", "", "", "", "", f"{amount:.2f}", cnt])
    return (BOM + out.getvalue()).encode()


def items_csv(items: Iterable[Any], names: dict[str, str]) -> Iterator[bytes]:
    """The dashboard's items CSV for people (headers in the active language), streamed, header
    first (with the BOM); one chunk per row."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(item_headers())
    yield (BOM + buf.getvalue()).encode()
    for item in items:
        buf.seek(0)
        buf.truncate()
        row = item_row(item, names)
        row[6], row[8] = f"{row[6]:.2f}", row[8].isoformat()
        w.writerow(row)
        yield buf.getvalue().encode()


def items_xlsx(items: Iterable[Any], names: dict[str, str]) -> bytes:
    """The items as one sheet (write-only workbook: rows are streamed into the zip, not held as
    cell objects). The caller refuses more than ``XLSX_MAX_ROWS`` items first."""
    wb = Workbook(write_only=True)
    _sheet(
        wb,
        _("Items"),
        item_headers(),
        (item_row(i, names) for i in items),
        [26, 10, 12, 14, 12, 14, 16, 18, 12],
    )
    return _save(wb)
