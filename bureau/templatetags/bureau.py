"""Template filters of the bureau pages: ``money`` (``1,234.56``, never ``-0.00``), ``get_item``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

register = template.Library()


@register.filter
def money(value: Decimal | str | None) -> str:
    """Yuan with thousands separators and exactly 2 places; ``""`` for ``None``."""
    if value is None or value == "":
        return ""
    amount = Decimal(value)
    return f"{amount + 0:,.2f}" if amount != 0 else "0.00"


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key, key)


@register.filter
def signed(value: Decimal) -> str:
    """``money`` with an explicit ``+`` on positive amounts (net positions)."""
    text = money(value)
    return f"+{text}" if value and Decimal(value) > 0 else text
