"""Field readers of the API layer's strict parser (:mod:`settlement.request_parsing`): each reads
one member of a decoded JSON object, records a ``{"field", "code", "message"}`` error in an
:class:`Errors` when it is malformed, and returns the typed value or None. No database."""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal
from typing import Any

from core.errors import field_error
from core.money import parse_money, parse_quantity
from core.timezones import SHANGHAI

MAX_OFFSET = dt.timedelta(hours=14)  # the widest real UTC offset; PostgreSQL refuses ±16:00 and beyond


class Errors:
    """The bad fields of one body, raised together as ``400 invalid``."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, field: str, code: str, message: str) -> None:
        self.items.append(field_error(field, code, message))


def read_string(
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


def read_time(
    data: dict, key: str, errs: Errors, latest: dt.datetime, *, name: str | None = None, required: bool = True
) -> dt.datetime | None:
    """The time at ``key``, which must not lie after ``latest`` (``in_future``)."""
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
    if t > latest:
        errs.add(name, "in_future", "Must not be in the future.")
        return None
    return t


def read_money(data: dict, key: str, errs: Errors, name: str) -> Decimal | None:
    try:
        return parse_money(data.get(key))
    except ValueError as e:
        errs.add(name, "invalid_amount" if key in data else "required", str(e))
        return None


def read_quantity(data: dict, key: str, errs: Errors, name: str, *, positive: bool) -> Decimal | None:
    try:
        return parse_quantity(data.get(key), positive=positive)
    except ValueError as e:
        errs.add(name, "invalid_number" if key in data else "required", str(e))
        return None
