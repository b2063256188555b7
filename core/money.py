"""Money, ratio and quantity formats (spec/README.md §Units and formats). No Django imports.

Amounts are ``Decimal`` yuan with 2 places; ratios 4 places; rounding is ROUND_HALF_UP and only
where the spec says "round".
"""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
RATIO_PLACES = Decimal("0.0001")
ZERO = Decimal("0.00")
MAX_MONEY = Decimal("99999999999999.99")  # the largest amount of the money format ^-?\d{1,14}\.\d{2}$

# ASCII digits only, and the whole string (``$`` alone would let a trailing newline through, ``\d``
# alone full-width digits such as "１２５.００").
MONEY_RE = re.compile(r"-?\d{1,14}\.\d{2}", re.ASCII)
QTY_RE = re.compile(r"\d{1,12}(\.\d{1,4})?", re.ASCII)
RATIO_RE = re.compile(r"\d{1,3}(\.\d{1,4})?", re.ASCII)


def round2(value: Decimal) -> Decimal:
    """ROUND_HALF_UP to 0.01 (the spec's "round")."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def round4(value: Decimal) -> Decimal:
    """ROUND_HALF_UP to 4 places (computed ratios, as the last step)."""
    return value.quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


def parse_money(value: object, *, allow_negative: bool = False) -> Decimal:
    """Parse a money string ``"125.00"``. Raises ``ValueError`` for anything else (numbers, 1 or 3
    places, exponents, NaN, a minus sign unless ``allow_negative``)."""
    if not isinstance(value, str) or not MONEY_RE.fullmatch(value):
        raise ValueError("must be a string with exactly 2 decimal places, like \"125.00\"")
    if value.startswith("-") and not allow_negative:
        raise ValueError("must not be negative")
    return Decimal(value)


def parse_quantity(value: object, *, positive: bool = False) -> Decimal:
    """Parse ``cnt``/``pric``: string ``^\\d{1,12}(\\.\\d{1,4})?$``; ``positive`` demands > 0."""
    if not isinstance(value, str) or not QTY_RE.fullmatch(value):
        raise ValueError("must be a decimal string with at most 4 places")
    d = Decimal(value)
    if positive and d <= 0:
        raise ValueError("must be greater than 0")
    return d


def parse_ratio(value: object) -> Decimal:
    """Parse a ratio in [0, 1] written as a plain decimal string with at most 4 places (CSV may write
    ``0.85`` or ``0``). Exponents, NaN, signs and numbers that are not strings → ``ValueError``."""
    text = value.strip() if isinstance(value, str) else ""
    if not RATIO_RE.fullmatch(text):
        raise ValueError("must be a decimal ratio like \"0.85\" (at most 4 places)")
    d = Decimal(text)
    if d > 1:
        raise ValueError("must be a ratio between 0 and 1 with at most 4 places")
    return d


def fmt_money(value: Decimal | None) -> str | None:
    """2-place string, never ``-0.00``."""
    if value is None:
        return None
    q = round2(Decimal(value))
    if q == 0:
        q = ZERO
    return f"{q:.2f}"


def fmt_ratio(value: Decimal | None) -> str | None:
    if value is None:
        return None
    q = round4(Decimal(value))
    if q == 0:
        q = Decimal("0.0000")
    return f"{q:.4f}"
