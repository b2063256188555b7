"""Typed, immutable requests of the settlement services (spec/hospital-api.md).

The API layer (:mod:`settlement.request_parsing`) turns a body into one of these; other front
doors (the NHSA gateway) build them from their own messages. Services take these objects and never
see a raw body. Nothing here touches the database or parses text.

Extending (other front doors):

- a pre-issued visit id: :attr:`SettlementRequest.mdtrt_id` (``None``: the house issues one);
- more lines per visit: nothing to change here; the API's own limit is
  :data:`settlement.request_parsing.MAX_LINES`;
- a new reversal kind (e.g. 冲正): a field of :class:`ReversalRequest` with a default, read by
  :func:`settlement.services.reverse.settlement_reverse`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from core.canonical import canonical_bytes
from core.crypto import blind_index
from core.timezones import SHANGHAI

__all__ = [
    "CERT_TYPES", "CLR_TYPES", "EMERGENCY_MED_TYPES", "INSUTYPES", "MED_TYPES", "MED_TYPE_GROUPS",
    "SHANGHAI", "FeeLine", "LookupRequest", "ReversalRequest", "SettlementRequest",
]

CERT_TYPES = ("01", "02", "03")  # 电子凭证, 身份证, 社保卡
INSUTYPES = ("310", "390")  # employees, residents
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
MED_TYPES = tuple(MED_TYPE_GROUPS)
CLR_TYPES = {"outpatient": "11", "inpatient": "21", "pharmacy": "41"}
EMERGENCY_MED_TYPES = ("13", "24")


@dataclass(frozen=True)
class FeeLine:
    """One fee line: ``cnt`` > 0 and ``pric`` ≥ 0 (≤ 4 places), ``amount`` = ``det_item_fee_sumamt``
    (yuan, 2 places); ``fee_ocur_time`` aware."""

    feedetl_sn: str
    med_list_codg: str
    fee_ocur_time: dt.datetime
    cnt: Decimal
    pric: Decimal
    amount: Decimal


@dataclass(frozen=True)
class SettlementRequest:
    """A settle (or preview) request, already valid in format (spec/hospital-api.md §POST /settlements).

    ``cert_no`` is normalised (certno folded for ``02``); times are aware; ``medins_setl_id`` is
    None only for a preview. ``mdtrt_id``: a visit id issued before settling (the NHSA gateway's
    2401), else None and the house issues one.
    """

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
    mdtrt_id: str | None = None

    @property
    def med_type_group(self) -> str:
        return MED_TYPE_GROUPS[self.med_type]

    @property
    def clr_type(self) -> str:
        return CLR_TYPES[self.med_type_group]

    @property
    def serial(self) -> str:
        """``medins_setl_id`` or ``""`` (previews)."""
        return self.medins_setl_id or ""

    def fee_days(self) -> list[dt.date]:
        """Each line's Asia/Shanghai date (the catalogue row valid that day applies)."""
        return [ln.fee_ocur_time.astimezone(SHANGHAI).date() for ln in self.lines]

    def fingerprint(self) -> str:
        """HMAC (blind-index key, purpose ``fingerprint``) of the business content: credential,
        ``insutype``, ``med_type``, times as UTC instants, ``acct_used_flag``, ``dise_codg`` and each
        line with numbers normalised (spec/hospital-api.md §Idempotency). Not ``psn_name``. A
        pre-issued ``mdtrt_id`` is part of it (absent, it leaves the fingerprint as before)."""

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
        if self.mdtrt_id is not None:
            doc["mdtrt_id"] = self.mdtrt_id
        return blind_index(canonical_bytes(doc).decode(), purpose="fingerprint")


@dataclass(frozen=True)
class ReversalRequest:
    """Reverse the whole settlement ``setl_id`` under the new serial ``medins_setl_id``
    (spec/hospital-api.md §POST /settlements/{setl_id}/reversal); ``reason`` ≤ 200 characters.
    ``kind``: ``reversal`` (REST, 2208/2305) or ``correction`` (冲正 by the NHSA gateway's 2601,
    spec/nhsa-gateway.md §4.2 change 3), recorded on the reversal row."""

    setl_id: str
    medins_setl_id: str
    reason: str = ""
    kind: str = "reversal"


@dataclass(frozen=True)
class LookupRequest:
    """Who is this patient (spec/hospital-api.md §POST /persons/lookup): a normalised credential."""

    cert_type: str
    cert_no: str
    card_sn: str | None
