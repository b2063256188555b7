"""Shared shape of every bulk upload and ``import_reference`` file (spec/bureau-api.md):
``{"received", "created", "updated", "unchanged", "rejected": [{"row", "field", "code"}]}``.

Rows are ``dict[str, str]`` whatever the source (CSV or JSON); ``row`` numbers are 1-based data
rows (the CSV header is not counted).
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from core.errors import Invalid, field_error


@dataclass
class ImportResult:
    received: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, row: int, field_name: str, code: str) -> None:
        self.rejected.append({"row": row, "field": field_name, "code": code})

    def as_dict(self) -> dict[str, Any]:
        return {"received": self.received, "created": self.created, "updated": self.updated,
                "unchanged": self.unchanged, "rejected": self.rejected}


def rows_from_csv_bytes(data: bytes) -> list[dict[str, str]]:
    """Parse UTF-8 (BOM allowed) CSV with a header row into string dicts (values stripped). A column
    named twice in the header → ``400 invalid`` ``duplicate_key`` naming it (spec/README.md §Errors)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid([field_error("body", "encoding", "CSV must be UTF-8")])
    reader = csv.DictReader(io.StringIO(text))
    header = [(name or "").strip() for name in reader.fieldnames or ()]
    repeated = next((name for i, name in enumerate(header) if name in header[:i]), None)
    if repeated is not None:  # DictReader would keep the last column: the CSV form of a duplicate key
        message = "the CSV header names this column more than once"
        raise Invalid([field_error(repeated, "duplicate_key", message)])
    return [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]


def _cell(value: Any) -> str:
    """A JSON value as the CSV cell it stands for. A JSON number with a fraction becomes text that no
    money or ratio validator accepts ("JSON numbers are refused", spec/README.md §Units), rather
    than ``"12.34"`` slipping through as if it had been sent as a string."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return f"<JSON number {value!r}>"
    return json.dumps(value, ensure_ascii=False)


def rows_from_json(data: Any) -> list[dict[str, str]]:
    """Accept a JSON list of objects (or ``{"items": [...]}``); values are turned into strings
    (:func:`_cell`), so money and ratios sent as JSON numbers are refused by the validators."""
    if isinstance(data, dict) and "items" in data:
        data = data["items"]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise Invalid([field_error("body", "not_a_list", "expected a JSON list of objects")])
    return [{str(k): _cell(v) for k, v in r.items()} for r in data]
