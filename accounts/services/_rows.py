"""Field checks shared by the reference-data importers. Each check returns the clean value or
raises :class:`RowError` naming the field and a stable code; importers turn it into a rejected row
``{"row", "field", "code"}`` (spec/bureau-api.md §Reference data)."""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Literal, overload

from accounts.models import Region

ADMDVS_RE = re.compile(r"^\d{6}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class RowError(Exception):
    def __init__(self, field: str, code: str) -> None:
        super().__init__(f"{field}: {code}")
        self.field, self.code = field, code


def has_control_character(value: str) -> bool:
    """True when ``value`` holds a control character (Unicode category Cc, e.g. U+0000, which
    PostgreSQL text cannot store)."""
    return any(unicodedata.category(c) == "Cc" for c in value)


def text(row: dict[str, str], field: str, *, required: bool = True, max_length: int | None = None) -> str:
    """NFKC-normalised, trimmed text; ``required`` → ``RowError(field, "required")`` when empty;
    a control character inside (NUL, tab, newline …) → ``RowError(field, "invalid_character")``.
    Every row field is read through here, so this is the one place that keeps such text out."""
    value = unicodedata.normalize("NFKC", row.get(field) or "").strip()
    if has_control_character(value):
        raise RowError(field, "invalid_character")
    if required and not value:
        raise RowError(field, "required")
    if max_length is not None and len(value) > max_length:
        raise RowError(field, "too_long")
    return value


def choice(row: dict[str, str], field: str, allowed: tuple[str, ...], *, default: str | None = None) -> str:
    value = text(row, field, required=default is None)
    if not value and default is not None:
        return default
    if value not in allowed:
        raise RowError(field, "invalid_choice")
    return value


@overload
def date(row: dict[str, str], field: str, *, required: Literal[True] = ...) -> dt.date: ...
@overload
def date(row: dict[str, str], field: str, *, required: bool) -> dt.date | None: ...
def date(row: dict[str, str], field: str, *, required: bool = True) -> dt.date | None:
    """ISO date ``YYYY-MM-DD`` (``None`` only when not ``required`` and empty)."""
    value = text(row, field, required=required)
    if not value:
        return None
    if not DATE_RE.match(value):
        raise RowError(field, "invalid_date")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise RowError(field, "invalid_date") from None


def known_provinces() -> frozenset[str]:
    return frozenset(Region.objects.filter(level=Region.Level.PROVINCE).values_list("admdvs", flat=True))


def admdvs(row: dict[str, str], field: str, provinces: frozenset[str], province: str | None) -> str:
    """A 6-digit region code whose province is listed; ``wrong_province`` when ``province`` is given
    and the code lies elsewhere."""
    value = text(row, field)
    if not ADMDVS_RE.match(value):
        raise RowError(field, "invalid_admdvs")
    prov = value[:2] + "0000"
    if prov not in provinces:
        raise RowError(field, "unknown_region")
    if province is not None and prov != province:
        raise RowError(field, "wrong_province")
    return value
