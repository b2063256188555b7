"""Cell readers of the reference uploads (:mod:`settlement.services.reference`): each reads one
cell of a CSV/JSON row and raises :class:`RowError` naming the field and code when it is bad."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from accounts.services._rows import has_control_character
from core.money import parse_money, parse_ratio


class RowError(Exception):
    def __init__(self, field: str, code: str) -> None:
        super().__init__(code)
        self.field, self.code = field, code


def cell_raw(row: dict[str, str], key: str) -> str:
    """The trimmed text of a cell ("" when absent). Every cell is read through here: a control
    character inside (NUL, tab, newline …) rejects the row with ``invalid_character``."""
    value = (row.get(key) or "").strip()
    if has_control_character(value):
        raise RowError(key, "invalid_character")
    return value


def cell_req(row: dict[str, str], key: str) -> str:
    value = cell_raw(row, key)
    if not value:
        raise RowError(key, "required")
    return value


def cell_date(row: dict[str, str], key: str) -> dt.date:
    try:
        return dt.date.fromisoformat(cell_req(row, key))
    except ValueError:
        raise RowError(key, "invalid_date") from None


def cell_dates(row: dict[str, str]) -> tuple[dt.date, dt.date]:
    begin, end = cell_date(row, "begndate"), cell_date(row, "enddate")
    if end < begin:
        raise RowError("enddate", "before_begndate")
    return begin, end


def cell_money(row: dict[str, str], key: str) -> Decimal:
    try:
        return parse_money(cell_req(row, key))
    except ValueError:
        raise RowError(key, "invalid_amount") from None


def cell_ratio(row: dict[str, str], key: str, default: str | None = None) -> Decimal:
    raw = cell_raw(row, key) or default
    if raw is None:
        raise RowError(key, "required")
    try:
        return parse_ratio(raw)
    except ValueError:
        raise RowError(key, "invalid_ratio") from None


def cell_admdvs(
    row: dict[str, str], key: str, province: str | None, provinces: frozenset[str] | None = None
) -> str:
    """A 6-digit code of ``province`` (when given); with ``provinces`` (the listed ones), a code of an
    unlisted province → ``unknown_region`` (as in the persons upload)."""
    value = cell_req(row, key)
    if len(value) != 6 or not value.isascii() or not value.isdigit():
        raise RowError(key, "invalid_admdvs")
    if provinces is not None and value[:2] + "0000" not in provinces:
        raise RowError(key, "unknown_region")
    if province is not None and value[:2] + "0000" != province:
        raise RowError(key, "wrong_province")
    return value


def cell_choice(row: dict[str, str], key: str, choices: tuple[str, ...], *, allow_blank: bool = False) -> str:
    value = cell_raw(row, key)
    if value == "" and allow_blank:
        return ""
    if value not in choices:
        raise RowError(key, "required" if not value else "invalid_choice")
    return value
