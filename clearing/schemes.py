"""Scheme-specific parts of a close that live outside clearing (spec/cards.md §The card scheme's
clearing). The card app registers, in its ``AppConfig.ready``, a function giving a card
statement's ``settlement_agent`` and ``benefit_waived`` (data of its acceptance records), so the
close can sign them without clearing importing that app, and the issuer of a card adjustment's
``acpt_id`` (an upheld dispute, :mod:`clearing.services.disputes`). No Django imports.
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


AdjustmentId = Callable[[dt.datetime], str]
ADJUSTMENT_IDS: dict[str, AdjustmentId] = {}


def register_adjustment_id(scheme: str, fn: AdjustmentId) -> None:
    """``fn(now) -> id`` issues the id of an upheld dispute's ``adjustment`` item of ``scheme``
    (spec/cards.md: a card adjustment gets an ``acpt_id`` of the acceptances' form, issued when the
    dispute is resolved). Must run inside the resolving transaction."""
    ADJUSTMENT_IDS[scheme] = fn


def adjustment_id(scheme: str, now: dt.datetime, default: AdjustmentId) -> str:
    """The id of a new ``adjustment`` item of ``scheme`` at ``now``: the scheme's registered issuer,
    else ``default`` (the medical scheme's ``setl_id``, :func:`core.ids.new_setl_id`)."""
    return ADJUSTMENT_IDS.get(scheme, default)(now)
