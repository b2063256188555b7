"""Strict JSON parsing (spec/README.md §Errors: bad input → ``400 invalid`` naming the field).

Refuses, as ``400 invalid``, what PostgreSQL or Python would otherwise turn into a 500: a NUL
character (U+0000) anywhere in a string or key (PostgreSQL text cannot hold it), and bodies nested
so deeply that the decoder recurses out of stack.
"""
from __future__ import annotations

import codecs
import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework.parsers import JSONParser

from core.errors import Invalid, field_error

MAX_DEPTH = 32


def _path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def find_bad_value(data: Any, path: str = "", depth: int = 0) -> tuple[str, str] | None:
    """First ``(field path, code)`` holding a NUL character or nested deeper than ``MAX_DEPTH``."""
    if depth > MAX_DEPTH:
        return path or "body", "too_deep"
    if isinstance(data, str):
        return (path or "body", "invalid_character") if "\x00" in data else None
    if isinstance(data, dict):
        for k, v in data.items():
            if "\x00" in k:
                return _path(path, k.replace("\x00", "\\u0000")), "invalid_character"
            found = find_bad_value(v, _path(path, k), depth + 1)
            if found:
                return found
    elif isinstance(data, list):
        for i, v in enumerate(data):
            found = find_bad_value(v, _path(path, i), depth + 1)
            if found:
                return found
    return None


class StrictJSONParser(JSONParser):
    """DRF's JSON parser plus the NUL and depth checks above."""

    def parse(self, stream: Any, media_type: str | None = None,
              parser_context: Mapping[str, Any] | None = None) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
            data = json.loads(text)
        except RecursionError:
            raise Invalid([field_error("body", "too_deep", f"JSON nested deeper than {MAX_DEPTH} levels")])
        except (ValueError, UnicodeDecodeError) as exc:
            raise Invalid([field_error("body", "parse_error", f"The body is not valid JSON: {exc}")])
        bad = find_bad_value(data)
        if bad:
            field, code = bad
            message = ("must not contain control character U+0000" if code == "invalid_character"
                       else f"nested deeper than {MAX_DEPTH} levels")
            raise Invalid([field_error(field, code, message)])
        return data
