"""The request envelope (spec/nhsa-gateway.md §3.1) and the business-content fingerprint (§3.2).

:func:`parse_envelope` checks the envelope in the table's order and returns an immutable
:class:`Envelope`; ``input`` may be an object or a string holding one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from accounts.regions import pooling_region, province_of
from core.canonical import canonical_bytes
from core.crypto import blind_index
from gateway import wire
from gateway.errors import Refusal, invalid

MSGID_RE = re.compile(r"[A-Z][0-9A-Z]{11}(\d{14})\d{4}", re.ASCII)
MSGID_AHEAD = dt.timedelta(seconds=300)
OPTER_TYPES = ("1", "2", "3")
# infno with a person (psn_no): insuplc_admdvs is checked against the person (§3.1)
NO_PERSON = ("9001", "9002", "1101", "3201", "3202", "9101", "9102")


@dataclass(frozen=True)
class Envelope:
    infno: str
    msgid: str
    mdtrtarea_admvs: str
    insuplc_admdvs: str
    opter_type: str
    opter: str
    opter_name_sha256: str
    inf_time: str
    fixmedins_code: str
    sign_no: str
    dev_no: str
    signtype: str
    dev_safe_info_sha256: str
    cainfo_sha256: str
    input: dict


def _sha(v: Any) -> str:
    return hashlib.sha256(str(v or "").encode()).hexdigest() if v else ""


def _field(body: dict, key: str, *, required: bool, max_len: int) -> str:
    v = body.get(key)
    if v is None or v == "":
        if required:
            raise invalid(key, "不能为空")
        return ""
    if not isinstance(v, str) or len(v) > max_len:
        raise invalid(key, "格式错误")
    return v


def parse_envelope(body: Any, *, institution: Any, received: dt.datetime, served: Any) -> Envelope:
    """Check the envelope of a decoded body for ``institution`` (the client's) at ``received``.
    ``served(infno)`` raises the ``unsupported_infno`` refusal of §1 for an infno not served.
    Raises :class:`Refusal` (``invalid``, ``unsupported_infno``, ``invalid_msgid``, ``admdvs_mismatch``,
    ``fixmedins_mismatch``, ``unsupported_encryption``)."""
    if not isinstance(body, dict):
        raise invalid("body", "不是JSON对象")
    infno = _field(body, "infno", required=True, max_len=4)
    served(infno)
    msgid = _field(body, "msgid", required=True, max_len=30)
    fixmedins_code = _field(body, "fixmedins_code", required=True, max_len=12)
    _check_msgid(msgid, fixmedins_code, received)
    area = _field(body, "mdtrtarea_admvs", required=True, max_len=6)
    if area not in {institution.admdvs, pooling_region(institution.admdvs), province_of(institution.admdvs)}:
        raise Refusal("admdvs_mismatch")
    insuplc = _field(body, "insuplc_admdvs", required=infno not in NO_PERSON, max_len=6)
    opter_type = _field(body, "opter_type", required=True, max_len=3)
    if opter_type not in OPTER_TYPES:
        raise invalid("opter_type", "取值错误")
    opter = _field(body, "opter", required=True, max_len=30)
    opter_name = _field(body, "opter_name", required=True, max_len=50)
    inf_time = _field(body, "inf_time", required=True, max_len=19)
    wire.time(body, "inf_time", "", required=True) if len(inf_time) == 19 else _bad("inf_time")
    if fixmedins_code != institution.fixmedins_code:
        raise Refusal("fixmedins_mismatch")
    if body.get("enc_type") not in (None, ""):
        raise Refusal("unsupported_encryption")
    for key, n in (
        ("dev_no", 100),
        ("dev_safe_info", 2000),
        ("cainfo", 1024),
        ("signtype", 10),
        ("infver", 10),
        ("recer_sys_code", 10),
        ("sign_no", 30),
    ):
        _field(body, key, required=False, max_len=n)
    return Envelope(
        infno=infno,
        msgid=msgid,
        mdtrtarea_admvs=area,
        insuplc_admdvs=insuplc,
        opter_type=opter_type,
        opter=opter,
        opter_name_sha256=_sha(opter_name),
        inf_time=inf_time,
        fixmedins_code=fixmedins_code,
        sign_no=body.get("sign_no") or "",
        dev_no=body.get("dev_no") or "",
        signtype=body.get("signtype") or "",
        dev_safe_info_sha256=_sha(body.get("dev_safe_info")),
        cainfo_sha256=_sha(body.get("cainfo")),
        input=_input(body.get("input"), infno),
    )


def _bad(key: str) -> None:
    raise invalid(key, "时间格式错误")


def _check_msgid(msgid: str, code: str, received: dt.datetime) -> None:
    m = MSGID_RE.fullmatch(msgid)
    if m is None or not msgid.startswith(code):
        raise Refusal("invalid_msgid")
    try:
        at = dt.datetime.strptime(m.group(1), "%Y%m%d%H%M%S").replace(tzinfo=wire.SHANGHAI)
    except ValueError:
        raise Refusal("invalid_msgid") from None
    if at - received > MSGID_AHEAD:
        raise Refusal("invalid_msgid")


def _input(v: Any, infno: str) -> dict:
    """``input`` as an object, or a string that parses to one (hsa-his); ``{}`` allowed for 9002."""
    if isinstance(v, str):
        v = wire.loads(v, "input")
    if not isinstance(v, dict):
        raise Refusal("invalid", "input 格式错误")
    return v


# ---------------------------------------------------------------- fingerprint (§3.2)
AMOUNT_KEYS = frozenset(
    {
        "medfee_sumamt",
        "det_item_fee_sumamt",
        "cnt",
        "pric",
        "fulamt_ownpay_amt",
        "overlmt_selfpay",
        "preselfpay_amt",
        "inscp_scp_amt",
        "fund_pay_sumamt",
        "acct_pay",
        "cash_payamt",
        "fixmedins_setl_cnt",
    }
)
_TIMEISH = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}.*", re.ASCII)


def _normal(key: str, v: Any) -> Any:
    if isinstance(v, dict):
        out = {k: _normal(k, x) for k, x in v.items()}
        return {k: x for k, x in out.items() if x is not None}
    if isinstance(v, list):
        return [_normal(key, x) for x in v]
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, int | Decimal) or (key in AMOUNT_KEYS and isinstance(v, str)):
        try:
            d = Decimal(str(v).strip())
            return format(d.normalize(), "f") if d else "0"
        except ArithmeticError:
            return str(v)
    if isinstance(v, str) and _TIMEISH.fullmatch(v):
        try:
            t = wire.time({"t": v}, "t", "")
            return t.astimezone(dt.UTC).isoformat() if t else None
        except Refusal:
            return v
    return v


def fingerprint(env: Envelope) -> str:
    """HMAC (blind-index key) over the normalised business content: ``infno``, ``insuplc_admdvs``
    where checked, and ``input`` with exact decimals and times as UTC instants (a one-object
    ``feedetail`` as a list). Not ``inf_time``, ``opter*``, ``sign_no``, ``dev_*``, ``cainfo``."""
    inp = dict(env.input)
    if isinstance(inp.get("feedetail"), dict):
        inp["feedetail"] = [inp["feedetail"]]
    doc = {
        "infno": env.infno,
        "insuplc_admdvs": "" if env.infno in NO_PERSON else env.insuplc_admdvs,
        "input": _normal("input", inp),
    }
    return blind_index(canonical_bytes(doc).decode(), purpose="gateway-fingerprint")
