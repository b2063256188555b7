"""The API layer's strict parser: request bodies → typed requests (spec/hospital-api.md §POST
/settlements, spec/README.md §Units, docs/decisions.md §Claim dates).

Everything malformed is collected and raised at once as ``400 invalid`` naming each field
(``feedetail[2].pric``): JSON numbers where strings are due, amounts without exactly 2 places,
``cnt``/``pric`` with more than 4, unknown ``med_type``, empty or > 1000 lines, duplicate
``feedetl_sn``, a ``certno`` failing its check digit, control characters in strings
(``invalid_character``), times with an offset beyond ±14:00 or out of range, lines whose total would
not fit the 14-digit money format (``feedetail total_too_large``) and impossible claim dates:
``begntime`` or a ``fee_ocur_time`` in the future, ``endtime`` more than 300 s ahead, a
``fee_ocur_time`` outside [``begntime``, ``endtime``], ``begntime`` more than 366 days before now.
Nothing here touches the database. Choice lists come from :mod:`settlement.requests`.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from accounts.certno import InvalidCertno, normalize_certno
from core.errors import DomainError, Invalid, field_error, is_outage
from core.money import MAX_MONEY
from core.parsers import unknown_field_errors
from settlement.errors import item_failed
from settlement.request_fields import (
    Errors,
    has_control_character,
    parse_time,
    read_money,
    read_quantity,
    read_string,
    read_time,
)
from settlement.requests import (
    CERT_TYPES,
    INSUTYPES,
    MED_TYPES,
    FeeLine,
    LookupRequest,
    ReversalRequest,
    SettlementRequest,
)
from settlement.serializers import SettleRequestIn

__all__ = ["Errors", "credential", "has_control_character", "parse_batch_items", "parse_lookup_request",
           "parse_reversal_request", "parse_settlement_request", "parse_time"]
logger = logging.getLogger("kuasheng.settlement")
MAX_LINES = 1000
MAX_ITEMS = 1000  # items of one batch
CLOCK_SKEW = dt.timedelta(seconds=300)  # an endtime this far ahead of our clock is accepted
MAX_CLAIM_AGE = dt.timedelta(days=366)  # begntime at most this long before the settlement
MIN_TIME = dt.datetime.min.replace(tzinfo=dt.UTC)
SETTLE_FIELDS = frozenset(SettleRequestIn().fields)  # the top-level fields a settle request may carry


def credential(data: dict, errs: Errors) -> tuple[str | None, str | None, str | None]:
    """``mdtrt_cert_type``, ``mdtrt_cert_no`` (normalised for ``02``), ``card_sn`` (required for ``03``)."""
    cert_type = read_string(data, "mdtrt_cert_type", errs, choices=CERT_TYPES)
    cert_no = read_string(data, "mdtrt_cert_no", errs, max_len=64)
    card_sn = read_string(data, "card_sn", errs, required=False, max_len=64)
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


def _line(item: Any, p: str, errs: Errors, window: Window, seen: set[str]) -> FeeLine | None:
    """One fee line; ``window`` is (``begntime``, ``endtime``, now) — ``fee_ocur_time`` must lie
    within [``begntime``, ``endtime``] (``begntime`` may be unknown: ``datetime.min``)."""
    if not isinstance(item, dict):
        errs.add(p, "not_an_object", "Each line must be an object.")
        return None
    sn = read_string(item, "feedetl_sn", errs, name=f"{p}.feedetl_sn")
    if sn is not None:
        if sn in seen:
            errs.add(f"{p}.feedetl_sn", "duplicate", f"feedetl_sn {sn!r} appears more than once.")
        seen.add(sn)
    code = read_string(item, "med_list_codg", errs, name=f"{p}.med_list_codg", max_len=50)
    at = read_time(item, "fee_ocur_time", errs, window[2], name=f"{p}.fee_ocur_time")
    if at is not None and at < window[0]:
        errs.add(f"{p}.fee_ocur_time", "before_begntime", "fee_ocur_time must not be before begntime.")
    elif at is not None and window[1] is not None and at > window[1]:
        errs.add(f"{p}.fee_ocur_time", "after_endtime", "fee_ocur_time must not be after endtime.")
    cnt = read_quantity(item, "cnt", errs, f"{p}.cnt", positive=True)
    pric = read_quantity(item, "pric", errs, f"{p}.pric", positive=False)
    amount = read_money(item, "det_item_fee_sumamt", errs, f"{p}.det_item_fee_sumamt")
    if sn is None or code is None or at is None or cnt is None or pric is None or amount is None:
        return None
    return FeeLine(sn, code, at, cnt, pric, amount)


Window = tuple[dt.datetime, dt.datetime | None, dt.datetime]


def _lines(data: dict, errs: Errors, window: Window) -> list[FeeLine]:
    raw = data.get("feedetail")
    if not isinstance(raw, list):
        errs.add(
            "feedetail", "required" if raw is None else "not_a_list", "Must be a list of 1 to 1000 lines."
        )
        return []
    if not 1 <= len(raw) <= MAX_LINES:
        errs.add("feedetail", "length", f"Must have 1 to {MAX_LINES} lines (got {len(raw)}).")
        return []
    seen: set[str] = set()
    lines = [ln for i, item in enumerate(raw) if (ln := _line(item, f"feedetail[{i}]", errs, window, seen))]
    if len(lines) == len(raw) and sum((ln.amount for ln in lines), Decimal(0)) > MAX_MONEY:
        errs.add("feedetail", "total_too_large",
                 f"The sum of det_item_fee_sumamt (medfee_sumamt) must not exceed {MAX_MONEY}.")
    return lines


def _claim_window(
    begntime: dt.datetime | None, endtime: dt.datetime | None, now: dt.datetime, errs: Errors
) -> Window:
    """The claim's dates must be possible (docs/decisions.md §Claim dates): ``begntime`` at most 366
    days before the settlement and not after ``endtime`` (which may lie at most 300 s ahead: checked
    where it is parsed). Returns the window every ``fee_ocur_time`` must lie in, and now."""
    if begntime is not None and begntime < now - MAX_CLAIM_AGE:
        errs.add("begntime", "too_old", "begntime must lie at most 366 days before the settlement.")
    if begntime is not None and endtime is not None and endtime < begntime:
        errs.add("endtime", "before_begntime", "endtime must not be before begntime.")
        return MIN_TIME, None, now
    return begntime or MIN_TIME, endtime, now


def _not_an_object() -> Invalid:
    return Invalid([field_error("body", "not_an_object", "The body must be a JSON object.")])


def parse_settlement_request(
    data: Any, *, now: dt.datetime, require_serial: bool = True
) -> SettlementRequest:
    """A settle request body (decoded JSON) → :class:`SettlementRequest`. Raises ``400 invalid``
    listing every bad field. ``require_serial`` is False for previews."""
    if not isinstance(data, dict):
        raise _not_an_object()
    errs = Errors()
    # the parser checks a body's top level; a batch item's top level is checked here, as its own result
    errs.items.extend(unknown_field_errors(data, SETTLE_FIELDS))
    serial = read_string(data, "medins_setl_id", errs, required=require_serial)
    cert_type, cert_no, card_sn = credential(data, errs)
    psn_name = read_string(data, "psn_name", errs, required=False, max_len=100)
    insutype = read_string(data, "insutype", errs, choices=INSUTYPES)
    med_type = read_string(data, "med_type", errs, choices=MED_TYPES)
    begntime = read_time(data, "begntime", errs, now)
    endtime = read_time(data, "endtime", errs, now + CLOCK_SKEW, required=False)
    dise_codg = read_string(data, "dise_codg", errs, required=False) or ""
    flag = read_string(data, "acct_used_flag", errs, max_len=1, choices=("0", "1"))
    lines = _lines(data, errs, _claim_window(begntime, endtime, now, errs))
    if errs.items or None in (cert_type, cert_no, insutype, med_type, begntime, flag):
        raise Invalid(errs.items)
    return SettlementRequest(
        medins_setl_id=serial,
        cert_type=cert_type,  # type: ignore[arg-type]  # None refused just above
        cert_no=cert_no,  # type: ignore[arg-type]
        card_sn=card_sn,
        psn_name=psn_name,
        insutype=insutype,  # type: ignore[arg-type]
        med_type=med_type,  # type: ignore[arg-type]
        begntime=begntime,  # type: ignore[arg-type]
        endtime=endtime,
        dise_codg=dise_codg,
        acct_used_flag=flag,  # type: ignore[arg-type]
        lines=tuple(lines),
    )


def parse_batch_items(data: Any, *, now: dt.datetime) -> list[SettlementRequest | DomainError]:
    """``{"items": [...]}`` (1–1000) → per item its request, or the ``400 invalid`` refusing it (an
    item's result, not the batch's). Raises ``400 invalid`` only when ``items`` itself is malformed."""
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
        raise Invalid([field_error("items", "length", f"items must be a list of 1 to {MAX_ITEMS} requests")])
    out: list[SettlementRequest | DomainError] = []
    for item in items:
        try:
            out.append(parse_settlement_request(item, now=now))
        except DomainError as e:
            out.append(e)
        except Exception as e:  # noqa: BLE001 — one item's failure is its own result
            if is_outage(e):
                raise
            logger.exception("batch item could not be parsed")
            out.append(item_failed())
    return out


def parse_reversal_request(data: Any, *, setl_id: str) -> ReversalRequest:
    """``{"medins_setl_id", "reason"}`` → :class:`ReversalRequest` of ``setl_id``. Raises ``400 invalid``."""
    if not isinstance(data, dict):
        raise _not_an_object()
    serial, reason = data.get("medins_setl_id"), data.get("reason", "")
    errs = []
    if not isinstance(serial, str) or not serial.strip() or len(serial) > 30:
        errs.append(
            field_error(
                "medins_setl_id",
                "required" if serial is None else "invalid",
                "A string of 1 to 30 characters is required.",
            )
        )
    if reason is None:
        reason = ""
    if not isinstance(reason, str) or len(reason) > 200:
        errs.append(field_error("reason", "invalid", "At most 200 characters."))
    if errs:
        raise Invalid(errs)
    return ReversalRequest(setl_id=setl_id, medins_setl_id=serial, reason=reason)  # type: ignore[arg-type]


def parse_lookup_request(data: Any) -> LookupRequest:
    """``{"mdtrt_cert_type", "mdtrt_cert_no", "card_sn"}`` → :class:`LookupRequest`.
    Raises ``400 invalid``."""
    if not isinstance(data, dict):
        raise _not_an_object()
    errs = Errors()
    cert_type, cert_no, card_sn = credential(data, errs)
    if errs.items or cert_type is None or cert_no is None:
        raise Invalid(errs.items)
    return LookupRequest(cert_type=cert_type, cert_no=cert_no, card_sn=card_sn)
