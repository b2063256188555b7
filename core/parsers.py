"""The one strict JSON reader of request bodies (spec/README.md §Errors: "JSON bodies are strict").

The signature covers bytes, so two readers of one body must never see two different requests.
:func:`strict_loads` is the only way a body becomes data; :class:`StrictJSONParser` is DRF's door to
it (the default parser, ``config/settings.py``). Refused as ``400 invalid``, each error naming the
field (``feedetail[1].pric``, ``items[3].mdtrt_cert_no``):

- ``duplicate_key``: an object with the same key twice, at any depth (Python would keep the last);
- ``not_a_number``: ``NaN``, ``Infinity``, ``-Infinity`` or a number too large for a float
  (``1e999``): not JSON (RFC 8259), and no figure of this service can be one;
- ``unknown_field``: a top-level field the write does not take (:func:`declared_fields`);
- ``invalid_character``: U+0000 in a string or key (PostgreSQL text cannot hold it);
- ``too_deep``: nesting deeper than ``MAX_DEPTH`` (the decoder would recurse out of stack);
- ``parse_error``: not JSON, or not UTF-8.

A view says which top-level fields its body may carry with ``body_fields`` (a frozenset, or
``None`` for "any", e.g. ``/whoami`` which ignores its body); without it they are the fields of its
``InputSerializer``, and a view with neither takes no fields. ``nul_deferred_under = "items"``
leaves U+0000 inside each of ``items`` to that item's own validation (the batch: one bad item must
not fail the others); everything else is refused for the whole body, because a duplicate key or a
``NaN`` makes the bytes ambiguous or not JSON at all.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import cache
from typing import Any

from django.conf import settings
from rest_framework.parsers import JSONParser

from core.errors import Invalid, field_error

MAX_DEPTH = 32

MESSAGES = {
    "duplicate_key": "appears more than once in its object",
    "not_a_number": "NaN and Infinity are not JSON numbers",
    "invalid_character": "must not contain control character U+0000",
    "too_deep": f"nested deeper than {MAX_DEPTH} levels",
}


class _DuplicateKeys(dict):
    """An object that had a key twice; ``duplicate`` is the first repeated key."""

    duplicate: str = ""


class _NotANumber:
    """Stands where the body had ``NaN``/``Infinity``, so the walk can name its field."""

    __slots__ = ()


NOT_A_NUMBER = _NotANumber()


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    marked = _DuplicateKeys(obj)
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            marked.duplicate = key
            break
        seen.add(key)
    return marked


def _constant(_name: str) -> _NotANumber:
    return NOT_A_NUMBER


def _float(text: str) -> float | _NotANumber:
    value = float(text)
    return value if math.isfinite(value) else NOT_A_NUMBER


def _path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    key = key.replace("\x00", "\\u0000")
    return f"{parent}.{key}" if parent else key


_SCALARS = (int, float, bool, type(None), Decimal)  # values with nothing to check


def find_bad_value(data: Any, path: str = "", depth: int = 0, *,
                   skip_nul: bool = False) -> tuple[str, str] | None:
    """First ``(field path, code)`` of :data:`MESSAGES` in decoded ``data``, depth-first in body
    order; ``None`` when clean. ``skip_nul`` ignores U+0000 (left to the caller's validation).
    A clean scalar member is passed over without building its path (a 1,000-item batch has
    ten thousand of them); anything that may be bad is walked into as before."""
    if depth > MAX_DEPTH:
        return path or "body", "too_deep"
    if isinstance(data, str):
        return (path or "body", "invalid_character") if "\x00" in data and not skip_nul else None
    if data is NOT_A_NUMBER:
        return path or "body", "not_a_number"
    child = depth + 1
    if isinstance(data, dict):
        if isinstance(data, _DuplicateKeys):
            return _path(path, data.duplicate), "duplicate_key"
        for k, v in data.items():
            if "\x00" in k and not skip_nul:
                return _path(path, k), "invalid_character"
            kind = type(v)
            if child <= MAX_DEPTH and ((kind is str and (skip_nul or "\x00" not in v)) or kind in _SCALARS):
                continue
            found = find_bad_value(v, _path(path, k), child, skip_nul=skip_nul)
            if found:
                return found
    elif isinstance(data, list):
        for i, v in enumerate(data):
            kind = type(v)
            if child <= MAX_DEPTH and ((kind is str and (skip_nul or "\x00" not in v)) or kind in _SCALARS):
                continue
            found = find_bad_value(v, _path(path, i), child, skip_nul=skip_nul)
            if found:
                return found
    return None


def _refuse(field: str, code: str) -> Invalid:
    return Invalid([field_error(field, code, MESSAGES[code])])


def strict_loads(raw: bytes | str, *, encoding: str = "utf-8", nul_deferred_under: str | None = None,
                 exact: bool = False) -> Any:
    """Decode a request body strictly (the rules of this module). ``raw`` is bytes in ``encoding``
    or text. ``exact``: JSON numbers with a fraction or exponent as ``Decimal`` (the NHSA gateway,
    whose amounts may come as numbers). Raises :class:`core.errors.Invalid` (``400 invalid``)
    naming the first bad field."""
    try:
        text = raw.decode(encoding) if isinstance(raw, bytes) else raw
        data = json.loads(text, object_pairs_hook=_object, parse_constant=_constant,
                          parse_float=Decimal if exact else _float)
    except RecursionError:
        raise _refuse("body", "too_deep") from None
    except (ValueError, LookupError) as exc:  # UnicodeDecodeError is a ValueError
        raise Invalid([field_error("body", "parse_error", f"The body is not valid JSON: {exc}")]) from None
    under = nul_deferred_under or ""
    deferred = data.get(under) if under and isinstance(data, dict) else None
    if isinstance(deferred, list) and not isinstance(data, _DuplicateKeys):
        rest = {k: v for k, v in data.items() if k != under}
        bad = find_bad_value(rest) or find_bad_value(deferred, under, 1, skip_nul=True)
    else:
        bad = find_bad_value(data)
    if bad:
        raise _refuse(*bad)
    return data


def unknown_field_errors(data: Any, allowed: Iterable[str], prefix: str = "") -> list[dict[str, str]]:
    """``unknown_field`` errors for the keys of a JSON object ``data`` not in ``allowed`` (in body
    order; ``[]`` when ``data`` is not an object). ``prefix`` names where the object sits (``items[2]``)."""
    if not isinstance(data, dict):
        return []
    known = frozenset(allowed)
    return [field_error(_path(prefix, k), "unknown_field", "is not a field of this request")
            for k in data if k not in known]


@cache
def _serializer_fields(serializer_class: type) -> frozenset[str]:
    return frozenset(serializer_class().fields)


def declared_fields(view: Any) -> frozenset[str] | None:
    """The top-level fields a write to ``view`` may carry: its ``body_fields`` if it sets it (``None``
    = not checked), else the fields of its ``InputSerializer``, else none."""
    if hasattr(view, "body_fields"):
        return view.body_fields
    serializer_class = getattr(view, "InputSerializer", None)
    return _serializer_fields(serializer_class) if serializer_class is not None else frozenset()


class StrictJSONParser(JSONParser):
    """DRF's JSON parser reading through :func:`strict_loads`, then refusing top-level fields the
    view does not declare (:func:`declared_fields`)."""

    nul_deferred_under: str | None = None

    def parse(self, stream: Any, media_type: str | None = None,
              parser_context: Mapping[str, Any] | None = None) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read() if stream is not None else b""
        data = strict_loads(raw, encoding=encoding, nul_deferred_under=self.nul_deferred_under)
        view = parser_context.get("view")
        allowed = declared_fields(view) if view is not None else None
        if allowed is not None:
            errors = unknown_field_errors(data, allowed)
            if errors:
                raise Invalid(errors)
        return data
