"""The batch body parser (spec/hospital-api.md §POST /settlements/batch: "one bad or contended item
never blocks or fails the others").

Like :class:`core.parsers.StrictJSONParser` (malformed or too deeply nested JSON → ``400 invalid``),
but a NUL character inside one of ``items`` is left to that item's own validation
(:mod:`settlement.request_parsing` answers it ``400 invalid_character`` as that item's result), so the
other items are still settled. A NUL anywhere else in the body still refuses the whole body.
"""
from __future__ import annotations

import codecs
import json
from typing import Any

from django.conf import settings

from core.errors import Invalid, field_error
from core.parsers import MAX_DEPTH, StrictJSONParser, find_bad_value


class BatchJSONParser(StrictJSONParser):
    """Strict JSON for ``{"items": [...]}`` with NUL checks per item deferred to the item."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(codecs.getreader(encoding)(stream).read())
        except RecursionError:
            message = f"JSON nested deeper than {MAX_DEPTH} levels"
            raise Invalid([field_error("body", "too_deep", message)]) from None
        except (ValueError, UnicodeDecodeError) as exc:
            message = f"The body is not valid JSON: {exc}"
            raise Invalid([field_error("body", "parse_error", message)]) from None
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(items, list):
            return self._checked(data, data)
        self._checked({k: v for k, v in data.items() if k != "items"}, data)
        for i, item in enumerate(items):
            bad = find_bad_value(item, f"items[{i}]", 2)
            if bad and bad[1] == "too_deep":
                raise Invalid([field_error(bad[0], "too_deep", f"nested deeper than {MAX_DEPTH} levels")])
        return data

    @staticmethod
    def _checked(part: Any, data: Any) -> Any:
        bad = find_bad_value(part)
        if bad:
            field, code = bad
            message = ("must not contain control character U+0000" if code == "invalid_character"
                       else f"nested deeper than {MAX_DEPTH} levels")
            raise Invalid([field_error(field, code, message)])
        return data
