"""Scheme-specific parts of a close that live outside clearing (spec/cards.md §The card scheme's
clearing). The card app registers, in its ``AppConfig.ready``, a function giving a card
statement's ``settlement_agent`` and ``benefit_waived`` (data of its acceptance records), so the
close can sign them without clearing importing that app. No Django imports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

StatementExtra = Callable[..., dict[str, Any]]
STATEMENT_EXTRAS: dict[str, StatementExtra] = {}


def register_statement_extra(scheme: str, fn: StatementExtra) -> None:
    """``fn(*, clr_date, admdvs) -> {"settlement_agent": str, "benefit_waived": [...]}`` for the
    statements of ``scheme``."""
    STATEMENT_EXTRAS[scheme] = fn


def statement_extra(scheme: str, *, clr_date: dt.date, admdvs: str) -> dict[str, Any]:
    """The registered extra fields of ``admdvs``'s statement of ``scheme`` for ``clr_date``
    (``{}`` when the scheme registered none)."""
    fn = STATEMENT_EXTRAS.get(scheme)
    return fn(clr_date=clr_date, admdvs=admdvs) if fn is not None else {}
