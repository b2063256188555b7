"""Strict parsing of settle requests (spec/hospital-api.md §POST /settlements, spec/README.md §Units).

Everything malformed is collected and raised at once as ``400 invalid`` naming each field
(``feedetail[2].pric``): JSON numbers where strings are due, amounts without exactly 2 places,
``cnt``/``pric`` with more than 4, unknown ``med_type``, empty or > 1000 lines, duplicate
``feedetl_sn``, a ``begntime``/``fee_ocur_time`` in the future, a ``certno`` failing its check digit,
control characters in strings (``invalid_character``), times with an offset beyond ±14:00 or out of
range, and lines whose total would not fit the 14-digit money format (``feedetail total_too_large``).
Nothing here touches the database.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from accounts.certno import InvalidCertno, normalize_certno
from core.canonical import canonical_bytes
from core.crypto import blind_index
from core.errors import Invalid, field_error
from core.money import parse_money, parse_quantity

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_LINES = 1000
MAX_MONEY = Decimal("99999999999999.99")  # the 14-digit money format (spec/README.md §Units)
MAX_OFFSET = dt.timedelta(hours=14)  # the widest real UTC offset; PostgreSQL refuses ±16:00 and beyond
CERT_TYPES = ("01", "02", "03")
INSUTYPES = ("310", "390")
MED_TYPE_GROUPS = {
    "11": "outpatient",
    "12": "outpatient",
    "13": "outpatient",
    "14": "outpatient",
    "21": "inpatient",
    "22": "inpatient",
    "23": "inpatient",
    "24": "inpatient",
    "41": "pharmacy",
}
CLR_TYPES = {"outpatient": "11", "inpatient": "21", "pharmacy": "41"}
EMERGENCY_MED_TYPES = ("13", "24")


@dataclass(frozen=True)
class FeeLine:
    feedetl_sn: str
    med_list_codg: str
    fee_ocur_time: dt.datetime
    cnt: Decimal
    pric: Decimal
    amount: Decimal


@dataclass(frozen=True)
class SettleRequest:
    """A parsed settle request. ``cert_no`` is normalised (certno folded for ``02``)."""

    medins_setl_id: str | None
    cert_type: str
    cert_no: str
    card_sn: str | None
    psn_name: str | None
    insutype: str
    med_type: str
    begntime: dt.datetime
    endtime: dt.datetime | None
    dise_codg: str
    acct_used_flag: str
    lines: tuple[FeeLine, ...]

    @property
    def med_type_group(self) -> str:
        return MED_TYPE_GROUPS[self.med_type]

    @property
    def clr_type(self) -> str:
        return CLR_TYPES[self.med_type_group]

    def fingerprint(self) -> str:
        """HMAC (blind-index key, purpose ``fingerprint``) of the business content: credential,
        ``insutype``, ``med_type``, times as UTC instants, ``acct_used_flag``, ``dise_codg`` and each
        line with numbers normalised (spec/hospital-api.md §Idempotency). Not ``psn_name``."""

        def instant(t: dt.datetime | None) -> str | None:
            return None if t is None else t.astimezone(dt.UTC).isoformat()

        def number(d: Decimal) -> str:
            return format(d.normalize(), "f") if d else "0"

        doc = {
            "mdtrt_cert_type": self.cert_type,
            "mdtrt_cert_no": self.cert_no,
            "card_sn": self.card_sn,
            "insutype": self.insutype,
            "med_type": self.med_type,
            "begntime": instant(self.begntime),
            "endtime": instant(self.endtime),
            "acct_used_flag": self.acct_used_flag,
            "dise_codg": self.dise_codg,
            "feedetail": [
                {
                    "feedetl_sn": ln.feedetl_sn,
                    "med_list_codg": ln.med_list_codg,
                    "fee_ocur_time": instant(ln.fee_ocur_time),
                    "cnt": number(ln.cnt),
                    "pric": number(ln.pric),
                    "det_item_fee_sumamt": number(ln.amount),
                }
                for ln in self.lines
            ],
        }
        return blind_index(canonical_bytes(doc).decode(), purpose="fingerprint")


class Errors:
    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, field: str, code: str, message: str) -> None:
        self.items.append(field_error(field, code, message))


def _string(
    data: dict,
    key: str,
    errs: Errors,
    *,
    name: str | None = None,
    required: bool = True,
    max_len: int = 30,
    choices: tuple[str, ...] | None = None,
) -> str | None:
    name = name or key
    value = data.get(key)
    if value is None:
        if required:
            errs.add(name, "required", "This field is required.")
        return None
    if not isinstance(value, str):
        errs.add(name, "not_a_string", "Must be a JSON string.")
        return None
    if required and not value.strip():
        errs.add(name, "blank", "Must not be blank.")
        return None
    if len(value) > max_len:
        errs.add(name, "max_length", f"At most {max_len} characters.")
        return None
    if has_control_character(value):
        errs.add(name, "invalid_character", "Must not contain control characters (such as U+0000).")
        return None
    if choices is not None and value not in choices:
        errs.add(name, "invalid_choice", f"Must be one of {', '.join(choices)}.")
        return None
    return value


def has_control_character(value: str) -> bool:
    """True when ``value`` holds a control character (Unicode category Cc: U+0000–U+001F, U+007F–U+009F).
    PostgreSQL text cannot store U+0000; none of them belongs in an identifier or code."""
    return any(unicodedata.category(c) == "Cc" for c in value)


def parse_time(value: Any) -> dt.datetime:
    """ISO 8601 date-time; without an offset it is read as Asia/Shanghai. Raises ``ValueError``, also
    for an offset beyond ±14:00 (PostgreSQL refuses e.g. +23:59) and for instants that cannot be
    expressed in UTC or Asia/Shanghai (year 1, year 9999)."""
    if not isinstance(value, str) or len(value) < 16 or "T" not in value.upper():
        raise ValueError("must be an ISO 8601 date-time string")
    t = dt.datetime.fromisoformat(value)
    t = t if t.tzinfo is not None else t.replace(tzinfo=SHANGHAI)
    offset = t.utcoffset()
    if offset is None or abs(offset) > MAX_OFFSET:
        raise ValueError("the UTC offset must lie within ±14:00")
    try:
        t.astimezone(dt.UTC)
        t.astimezone(SHANGHAI)
    except OverflowError:
        raise ValueError("the date-time is out of range") from None
    return t


def _time(
    data: dict, key: str, errs: Errors, now: dt.datetime, *, name: str | None = None, required: bool = True
) -> dt.datetime | None:
    name = name or key
    value = data.get(key)
    if value is None:
        if required:
            errs.add(name, "required", "This field is required.")
        return None
    try:
        t = parse_time(value)
    except ValueError:
        errs.add(name, "invalid_datetime",
                 "Must be an ISO 8601 date-time with an offset within ±14:00, in a representable year.")
        return None
    if t > now:
        errs.add(name, "in_future", "Must not be in the future.")
        return None
    return t


def _money_field(data: dict, key: str, errs: Errors, name: str) -> Decimal | None:
    try:
        return parse_money(data.get(key))
    except ValueError as e:
        errs.add(name, "invalid_amount" if key in data else "required", str(e))
        return None


def _qty(data: dict, key: str, errs: Errors, name: str, *, positive: bool) -> Decimal | None:
    try:
        return parse_quantity(data.get(key), positive=positive)
    except ValueError as e:
        errs.add(name, "invalid_number" if key in data else "required", str(e))
        return None


def credential(data: dict, errs: Errors) -> tuple[str | None, str | None, str | None]:
    cert_type = _string(data, "mdtrt_cert_type", errs, choices=CERT_TYPES)
    cert_no = _string(data, "mdtrt_cert_no", errs, max_len=64)
    card_sn = _string(data, "card_sn", errs, required=False, max_len=64)
    if cert_type == "02" and cert_no is not None:
        try:
            cert_no = normalize_certno(cert_no)
        except InvalidCertno as e:
            errs.add("mdtrt_cert_no", "invalid_certno", str(e))
            cert_no = None
    elif cert_type == "03":
        if cert_no is not None:
            cert_no = cert_no.strip()
        if not card_sn:
            errs.add("card_sn", "required", "card_sn is required with mdtrt_cert_type 03.")
    return cert_type, cert_no, (card_sn.strip() if card_sn else None)


def _lines(data: dict, errs: Errors, now: dt.datetime) -> list[FeeLine]:
    raw = data.get("feedetail")
    if not isinstance(raw, list):
        errs.add(
            "feedetail", "required" if raw is None else "not_a_list", "Must be a list of 1 to 1000 lines."
        )
        return []
    if not 1 <= len(raw) <= MAX_LINES:
        errs.add("feedetail", "length", f"Must have 1 to {MAX_LINES} lines (got {len(raw)}).")
        return []
    lines, seen = [], set()
    for i, item in enumerate(raw):
        p = f"feedetail[{i}]"
        if not isinstance(item, dict):
            errs.add(p, "not_an_object", "Each line must be an object.")
            continue
        sn = _string(item, "feedetl_sn", errs, name=f"{p}.feedetl_sn")
        if sn is not None:
            if sn in seen:
                errs.add(f"{p}.feedetl_sn", "duplicate", f"feedetl_sn {sn!r} appears more than once.")
            seen.add(sn)
        code = _string(item, "med_list_codg", errs, name=f"{p}.med_list_codg", max_len=50)
        at = _time(item, "fee_ocur_time", errs, now, name=f"{p}.fee_ocur_time")
        cnt = _qty(item, "cnt", errs, f"{p}.cnt", positive=True)
        pric = _qty(item, "pric", errs, f"{p}.pric", positive=False)
        amount = _money_field(item, "det_item_fee_sumamt", errs, f"{p}.det_item_fee_sumamt")
        if None not in (sn, code, at, cnt, pric, amount):
            lines.append(FeeLine(sn, code, at, cnt, pric, amount))  # type: ignore[arg-type]
    if len(lines) == len(raw) and sum((ln.amount for ln in lines), Decimal(0)) > MAX_MONEY:
        errs.add("feedetail", "total_too_large",
                 f"The sum of det_item_fee_sumamt (medfee_sumamt) must not exceed {MAX_MONEY}.")
    return lines


def parse_settle_request(data: Any, *, now: dt.datetime, require_serial: bool = True) -> SettleRequest:
    """Parse and validate a settle request body (a decoded JSON object). Raises ``400 invalid``
    listing every bad field. ``require_serial`` is False for previews."""
    if not isinstance(data, dict):
        raise Invalid([field_error("body", "not_an_object", "The body must be a JSON object.")])
    errs = Errors()
    serial = _string(data, "medins_setl_id", errs, required=require_serial)
    cert_type, cert_no, card_sn = credential(data, errs)
    psn_name = _string(data, "psn_name", errs, required=False, max_len=100)
    insutype = _string(data, "insutype", errs, choices=INSUTYPES)
    med_type = _string(data, "med_type", errs, choices=tuple(MED_TYPE_GROUPS))
    begntime = _time(data, "begntime", errs, now)
    # Only begntime and fee_ocur_time may not lie in the future (spec/policy.md); endtime is not checked.
    endtime = _time(data, "endtime", errs, dt.datetime.max.replace(tzinfo=dt.UTC), required=False)
    if begntime and endtime and endtime < begntime:
        errs.add("endtime", "before_begntime", "endtime must not be before begntime.")
    dise_codg = _string(data, "dise_codg", errs, required=False) or ""
    flag = _string(data, "acct_used_flag", errs, max_len=1, choices=("0", "1"))
    lines = _lines(data, errs, now)
    if errs.items:
        raise Invalid(errs.items)
    return SettleRequest(
        medins_setl_id=serial,
        cert_type=cert_type,
        cert_no=cert_no,
        card_sn=card_sn,  # type: ignore[arg-type]
        psn_name=psn_name,
        insutype=insutype,
        med_type=med_type,
        begntime=begntime,  # type: ignore[arg-type]
        endtime=endtime,
        dise_codg=dise_codg,
        acct_used_flag=flag,
        lines=tuple(lines),  # type: ignore[arg-type]
    )
