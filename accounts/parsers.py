"""Upload parsers: bureau endpoints accept a JSON list or ``text/csv`` (spec/bureau-api.md).

Use ``parser_classes = [JSONParser, CsvRowsParser]`` on an upload view, then
``core.imports.rows_from_json(request.data)`` for JSON or take ``request.data`` as the rows for CSV;
:func:`upload_rows` does both.
"""
from __future__ import annotations

from typing import Any

from rest_framework.parsers import BaseParser

from core.imports import rows_from_csv_bytes, rows_from_json

UPLOAD_BODY_FIELDS = frozenset({"items"})  # the top-level fields of an upload sent as a JSON object


class CsvRowsParser(BaseParser):
    """``text/csv`` (UTF-8, BOM allowed, header row) → ``list[dict[str, str]]`` (values stripped)."""

    media_type = "text/csv"

    def parse(  # type: ignore[override] # DRF hands request.data on as parsed; rows are a list
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> list[dict[str, str]]:
        data = stream.read() if stream is not None else b""
        return CsvRows(rows_from_csv_bytes(data or b""))


class CsvRows(list):
    """Marks rows that came from CSV (already strings), so :func:`upload_rows` does not re-check them."""


def upload_rows(data: Any) -> list[dict[str, str]]:
    """Rows of an upload body whatever its media type: CSV rows as parsed, or a JSON list of objects
    (``{"items": [...]}`` also accepted). Raises ``400 invalid`` (field ``body``) otherwise."""
    if isinstance(data, CsvRows):
        return list(data)
    return rows_from_json(data)
