"""Settlement test helpers: the example world with a signed client per institution, and bills."""

from __future__ import annotations

import datetime as dt
import secrets
from zoneinfo import ZoneInfo

import pytest

SH = ZoneInfo("Asia/Shanghai")
CODES = ("H31010400001", "H32010200001", "H33010600001", "H34010400001", "P34010400001")
CERT = {
    "甲": "340104198001011234",
    "乙": "320102197505124565",
    "丙": "34010219900215321X",
    "丁": "330106196808307898",
    "戊": "310101198511206547",
    "己": "340104196210030870",
    "庚": "32050819930707042X",
}


def now_iso(hours: float = 0.0) -> str:
    return (dt.datetime.now(SH) + dt.timedelta(hours=hours)).isoformat(timespec="seconds")


def bill(
    certno: str,
    insutype: str,
    med_type: str,
    lines: list[tuple[str, str, str, str]],
    acct: str = "0",
    serial: str | None = None,
) -> dict:
    return {
        "medins_setl_id": serial or f"T-{secrets.token_hex(8)}",
        "mdtrt_cert_type": "02",
        "mdtrt_cert_no": certno,
        "insutype": insutype,
        "med_type": med_type,
        "begntime": now_iso(-48),
        "endtime": now_iso(-0.5),
        "acct_used_flag": acct,
        "feedetail": [
            {
                "feedetl_sn": str(i + 1),
                "med_list_codg": c,
                "fee_ocur_time": now_iso(-1),
                "cnt": n,
                "pric": p,
                "det_item_fee_sumamt": a,
            }
            for i, (c, n, p, a) in enumerate(lines)
        ],
    }


def load_current_year_accumulators() -> None:
    """accumulators.csv is for 2026; copy its rows to the current settlement year when it differs."""
    from core.imports import rows_from_csv_bytes
    from settlement.services.reference import accumulators_import
    from tests.fixtures import EXAMPLES_DIR

    year = str(dt.datetime.now(SH).year)
    rows = rows_from_csv_bytes((EXAMPLES_DIR / "accumulators.csv").read_bytes())
    if rows and rows[0]["year"] != year:
        accumulators_import(rows=[r | {"year": year} for r in rows], province=None, principal=None)


@pytest.fixture
def world(examples, institution_client):
    """Examples loaded and one signed client per example institution: ``world[code].post(...)``."""
    load_current_year_accumulators()
    return {code: institution_client(code) for code in CODES}
