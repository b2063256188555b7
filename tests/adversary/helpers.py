"""Bills for the adversary tests (engineer H): the example persons of ``data/examples``."""
from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.utils import timezone

JIA = "340104198001011234"  # 示例甲, 340100, 310, filing 12 → 310000
DING = "330106196808307898"  # 示例丁, 330100, 310, no filing (emergency only)


def recent(minutes: int = 60) -> str:
    return (timezone.now() - dt.timedelta(minutes=minutes)).isoformat()


def line(sn: str = "1", code: str = "XA01AAA001", cnt: str = "1", pric: str = "1.00",
         amount: str | None = None, at: str | None = None) -> dict[str, Any]:
    return {"feedetl_sn": sn, "med_list_codg": code, "fee_ocur_time": at or recent(), "cnt": cnt,
            "pric": pric, "det_item_fee_sumamt": amount if amount is not None else pric}


def bill(*, certno: str = JIA, med_type: str = "21", lines: list[dict] | None = None,
         serial: str | None = None, acct: str = "0", **extra: Any) -> dict[str, Any]:
    body = {
        "medins_setl_id": serial or f"ADV-{secrets.token_hex(8)}",
        "mdtrt_cert_type": "02", "mdtrt_cert_no": certno, "card_sn": None,
        "insutype": "310", "med_type": med_type,
        "begntime": recent(120), "endtime": recent(30),
        "acct_used_flag": acct, "feedetail": lines or [line()],
    }
    body.update(extra)
    return body
