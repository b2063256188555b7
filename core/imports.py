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
    """Parse UTF-8 (BOM allowed) CSV with a header row into string dicts (values stripped)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid([field_error("body", "encoding", "CSV must be UTF-8")])
    reader = csv.DictReader(io.StringIO(text))
    return [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]


def rows_from_json(data: Any) -> list[dict[str, str]]:
    """Accept a JSON list of objects (or ``{"items": [...]}``); values are turned into strings,
    JSON numbers refused for money-like fields by the per-entity validators."""
    if isinstance(data, dict) and "items" in data:
        data = data["items"]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise Invalid([field_error("body", "not_a_list", "expected a JSON list of objects")])
    out = []
    for r in data:
        out.append({str(k): ("" if v is None else v if isinstance(v, str) else json.dumps(v))
                    for k, v in r.items()})
    return out
