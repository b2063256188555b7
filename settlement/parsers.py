"""The batch body parser (spec/hospital-api.md §POST /settlements/batch: "one bad or contended item
never blocks or fails the others").

:class:`core.parsers.StrictJSONParser` with one difference: a U+0000 inside one of ``items`` is left
to that item's own validation (:mod:`settlement.request_parsing` answers it ``400 invalid_character``
as that item's result), so the other items are still settled. A duplicate key or ``NaN`` anywhere, or a
U+0000 outside ``items``, still refuses the whole body (core/parsers.py says why).
"""
from __future__ import annotations

from core.parsers import StrictJSONParser


class BatchJSONParser(StrictJSONParser):
    """Strict JSON for ``{"items": [...]}`` with U+0000 checks per item deferred to the item."""

    nul_deferred_under = "items"
