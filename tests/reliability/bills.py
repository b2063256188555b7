"""Settle requests for the example world (data/examples), dated now (Asia/Shanghai)."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any
from zoneinfo import ZoneInfo

SH = ZoneInfo("Asia/Shanghai")
PERSONS = {  # data/examples/persons.csv: psn_no -> (certno, name, card_no, card_sn)
    "34010000000000000001": ("340104198001011234", "示例甲", "A34000001", "5f1c0e6a9b2d4c7e8a3b6d9f0c1e2a41"),
    "32010000000000000002": ("320102197505124565", "示例乙", "A32000002", "0b7e2d41c9a34f6e8d1a5c3b7e9f2a62"),
    "34010000000000000003": ("34010219900215321X", "示例丙", "A34000003", "9c3a7e5b1d6f4e2a8b0c4d7e1f3a5b83"),
    "33010000000000000004": ("330106196808307898", "示例丁", "A33000004", "2e6b9d3f7a1c4e8b0d5f2a6c9e3b7d14"),
    "31000000000000000005": ("310101198511206547", "示例戊", "A31000005", "7a4c1e8b3d6f9a2c5e0b7d4f1a8c3e65"),
    "34010000000000000006": ("340104196210030870", "示例己", "A34000006", "4d8f2b6e0a3c7e1b9d5f3a8c2e6b0d96"),
    "32050000000000000007": ("32050819930707042X", "示例庚", "A32000007", "8b1d5f9a3c7e2b6d0f4a8c1e5b9d3f27"),
}
INSTITUTIONS = ("H31010400001", "H32010200001", "H33010600001", "H34010400001", "P34010400001")


def now_iso(hours: float = 0.0) -> str:
    return (dt.datetime.now(SH) + dt.timedelta(hours=hours)).isoformat(timespec="seconds")


def line(
    sn: int, code: str = "XA01AAA001", cnt: str = "1", pric: str = "12.50", amount: str = "12.50"
) -> dict:
    return {
        "feedetl_sn": str(sn),
        "med_list_codg": code,
        "fee_ocur_time": now_iso(-1),
        "cnt": cnt,
        "pric": pric,
        "det_item_fee_sumamt": amount,
    }


def bill(
    certno: str = "340104198001011234",
    *,
    insutype: str = "310",
    med_type: str = "21",
    lines: list[dict] | None = None,
    serial: str | None = None,
    acct: str = "0",
) -> dict[str, Any]:
    """A settle request; default: person 甲 (insured in 340100, long-term filing to 310000) at the
    Shanghai hospital H31010400001, one 甲-class line of 12.50 (an inpatient bill: payer 340000,
    payee 310000)."""
    return {
        "medins_setl_id": serial or f"G-{secrets.token_hex(8)}",
        "mdtrt_cert_type": "02",
        "mdtrt_cert_no": certno,
        "card_sn": None,
        "insutype": insutype,
        "med_type": med_type,
        "begntime": now_iso(-48),
        "endtime": now_iso(-0.5),
        "acct_used_flag": acct,
        "feedetail": lines or [line(1)],
    }


def bill_320_at_330(serial: str | None = None) -> dict[str, Any]:
    """Person 乙 (insured 320100, posted-worker filing to 330000) at Hangzhou H33010600001, outpatient:
    payer 320000, payee 330000."""
    return bill(
        "320102197505124565",
        med_type="11",
        lines=[line(1, "XA01AAA001", "2", "10.00", "20.00")],
        serial=serial,
    )
