"""Acceptance records as typed requests (spec/cards.md §Acceptance records, check step 1).

:func:`parse_acceptance` turns one JSON object into a frozen :class:`AcceptanceRequest` or
raises ``400 invalid`` naming each field. Money as in spec/README.md (2-place strings); a time
without an offset is Asia/Shanghai; ``used_at`` more than 300 s ahead of the server → invalid.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.utils import timezone

from core.errors import Invalid, field_error
from core.money import parse_money

SERIAL_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
CARD_NO_RE = re.compile(r"^[A-Za-z0-9]{9}$")
CARD_SN_RE = re.compile(r"^[0-9A-Za-z]{32}$")
SVC_TYPES = ("transit_fare", "admission", "loan")
PAY_SRCS = ("epurse", "fin_acct", "none")
MODES = ("online", "offline")
FIELDS = (
    "acpt_serial",
    "card_no",
    "card_sn",
    "svc_type",
    "used_at",
    "mode",
    "list_version",
    "list_amt",
    "amt",
    "pay_src",
)
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
MAX_FUTURE = dt.timedelta(seconds=300)
MAX_VERSION = 2**62


@dataclass(frozen=True)
class AcceptanceRequest:
    """One acceptance record as sent (normalised: upper-case ``card_no``/``card_sn``, aware
    ``used_at``, Decimal yuan)."""

    acpt_serial: str
    card_no: str
    card_sn: str
    svc_type: str
    used_at: dt.datetime
    mode: str
    list_version: int | None
    list_amt: Decimal
    amt: Decimal
    pay_src: str

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the canonical request: equal for a byte-different resend of the same
        record (exactly-once, check step 2). The text is ``json.dumps(fields, sort_keys=True)``
        of the normalised fields (``used_at`` in UTC ISO form, amounts as 2-place strings),
        written out directly: every string field passed the format checks of
        :func:`parse_acceptance` (``[A-Za-z0-9_-]``, fixed choices, ISO times), so none needs a
        JSON escape. Stored fingerprints keep this exact text (``tests/cards/test_speed.py``)."""
        version = "null" if self.list_version is None else str(self.list_version)
        text = (
            f'{{"acpt_serial": "{self.acpt_serial}", "amt": "{self.amt:.2f}", '
            f'"card_no": "{self.card_no}", "card_sn": "{self.card_sn}", '
            f'"list_amt": "{self.list_amt:.2f}", "list_version": {version}, "mode": "{self.mode}", '
            f'"pay_src": "{self.pay_src}", "svc_type": "{self.svc_type}", '
            f'"used_at": "{self.used_at.astimezone(dt.UTC).isoformat()}"}}'
        )
        return hashlib.sha256(text.encode()).hexdigest()


def _time(value: Any, field: str, errs: list[dict[str, str]]) -> dt.datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        errs.append(field_error(field, "invalid", "an ISO 8601 time"))
        return None
    try:
        at = dt.datetime.fromisoformat(value)
    except ValueError:
        errs.append(field_error(field, "invalid", "an ISO 8601 time"))
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=SHANGHAI)


def _money(value: Any, field: str, errs: list[dict[str, str]]) -> Decimal | None:
    try:
        return parse_money(value)
    except ValueError:
        errs.append(field_error(field, "invalid", 'a 2-place decimal string such as "4.00"'))
        return None


def _choice(data: dict, field: str, allowed: tuple[str, ...], errs: list[dict[str, str]]) -> str:
    value = data.get(field)
    if value not in allowed:
        errs.append(field_error(field, "invalid", " | ".join(allowed)))
        return ""
    return value


def parse_acceptance(data: Any, *, now: dt.datetime | None = None) -> AcceptanceRequest:
    """Check step 1 (format). Raises ``400 invalid`` with every bad field named."""
    if not isinstance(data, dict):
        raise Invalid([field_error("body", "invalid", "a JSON object")])
    errs: list[dict[str, str]] = []
    for extra in sorted(set(data) - set(FIELDS)):
        errs.append(field_error(str(extra)[:60], "unknown_field", "not a field of an acceptance record"))
    serial = data.get("acpt_serial")
    if not isinstance(serial, str) or not SERIAL_RE.match(serial):
        errs.append(field_error("acpt_serial", "invalid", "1 to 40 characters [A-Za-z0-9_-]"))
    card_no = data.get("card_no")
    if not isinstance(card_no, str) or not CARD_NO_RE.match(card_no):
        errs.append(field_error("card_no", "invalid", "9 characters A-Z 0-9"))
    card_sn = data.get("card_sn")
    if not isinstance(card_sn, str) or not CARD_SN_RE.match(card_sn):
        errs.append(field_error("card_sn", "invalid", "32 characters 0-9 A-Z a-z"))
    svc = _choice(data, "svc_type", SVC_TYPES, errs)
    mode = _choice(data, "mode", MODES, errs)
    pay_src = _choice(data, "pay_src", PAY_SRCS, errs)
    used_at = _time(data.get("used_at"), "used_at", errs)
    now = now or timezone.now()
    if used_at is not None and used_at > now + MAX_FUTURE:
        errs.append(field_error("used_at", "in_future", "more than 300 s ahead of server time"))
    version = data.get("list_version")
    if mode == "offline" and version is None:
        errs.append(field_error("list_version", "required", "an offline record names the list it held"))
    elif version is not None and (type(version) is not int or not 1 <= version <= MAX_VERSION):
        errs.append(field_error("list_version", "invalid", "a positive integer"))
    list_amt = _money(data.get("list_amt"), "list_amt", errs)
    amt = _money(data.get("amt"), "amt", errs)
    if list_amt is not None and amt is not None and amt > list_amt:
        errs.append(field_error("amt", "exceeds_list_amt", "amt must not exceed list_amt"))
    if amt is not None and pay_src:
        if (pay_src == "none") != (amt == 0):
            errs.append(field_error("pay_src", "invalid", 'pay_src "none" if and only if amt is "0.00"'))
    if pay_src == "fin_acct" and mode == "offline":
        errs.append(field_error("pay_src", "invalid", "fin_acct needs mode online"))
    if errs:
        raise Invalid(errs)
    # no error: every field was read (the checks above append an error for each missing one)
    assert isinstance(serial, str) and isinstance(card_no, str) and isinstance(card_sn, str)
    assert used_at is not None and list_amt is not None and amt is not None
    return AcceptanceRequest(
        acpt_serial=serial,
        card_no=card_no.upper(),
        card_sn=card_sn.upper(),
        svc_type=svc,
        used_at=used_at,
        mode=mode,
        list_version=version if mode == "offline" else None,
        list_amt=list_amt,
        amt=amt,
        pay_src=pay_src,
    )
