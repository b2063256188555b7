"""The one pagination of every list (spec/README.md §Units: ``{"count", "next", "previous",
"results"}``, ``?page=``, ``?page_size=`` ≤ 1000, a stable order).

- Limits live here: ``page_size`` 1 to :data:`MAX_PAGE_SIZE` (default :data:`DEFAULT_PAGE_SIZE`),
  ``page`` 1 to :data:`MAX_PAGE` (far inside a bigint ``OFFSET``); anything else, and a cursor this
  module did not issue, is ``400 invalid`` naming the parameter.
- ``?page=N`` answers the N-th page as the list stands now (the spec's parameter keeps working).
- ``next`` and ``previous`` are **keyset** links (``?cursor=``): the sort key of the last (first) row
  of this page, so following them never repeats or skips a row when rows are added meanwhile
  (a newest-first list would otherwise shift by the rows added). The cursor is opaque:
  URL-safe base64 of ``{"d": "n"|"p", "k": [sort key values as text]}``.
- A queryset is paged by keyset on its ``order_by`` when that is a list of concrete fields of its
  model ending in a unique one (``("-setl_time", "-id")``); other sources (a Python list, an
  expression ordering) get page-number links.

Use: ``return Response(paginate(request, qs, serialize))`` and, in ``extend_schema``,
``parameters=[*PAGE_PARAMETERS, ...]`` with ``responses={200: page_schema("FooPage", FooSerializer)}``.
"""
from __future__ import annotations

import base64
import binascii
import json
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Field, Q, QuerySet
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request

from core.errors import Invalid, field_error

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100
MAX_PAGE = 1_000_000  # × MAX_PAGE_SIZE rows: far beyond any list, far inside a bigint OFFSET
MAX_CURSOR = 512  # characters

PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description=f"page number from 1 (≤ {MAX_PAGE}), counted as the list "
                     "stands now; default 1"),
    OpenApiParameter("page_size", int, description=f"rows per page, 1 to {MAX_PAGE_SIZE}; default "
                     f"{DEFAULT_PAGE_SIZE}"),
    OpenApiParameter("cursor", str, description="opaque keyset position from a `next`/`previous` link: "
                     "following the links never repeats or skips a row when rows are added"),
]


def page_schema(name: str, item: Any) -> Any:
    """OpenAPI component of a page: ``{"count", "next", "previous", "results": [item]}``."""
    return inline_serializer(name=name, fields={
        "count": serializers.IntegerField(help_text="rows of the whole list"),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": item(many=True) if isinstance(item, type) else item,
    })


def _invalid(name: str, message: str) -> Invalid:
    return Invalid([field_error(name, "invalid", message)])


def _number(request: Request, name: str, default: int, top: int) -> int:
    raw = request.query_params.get(name, str(default))
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 7 and 1 <= int(raw) <= top):
        raise _invalid(name, f"an integer from 1 to {top}")
    return int(raw)


def page_size_param(request: Request) -> int:
    """``?page_size=`` (1 to ``MAX_PAGE_SIZE``, default ``DEFAULT_PAGE_SIZE``); else ``400``."""
    return _number(request, "page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


@dataclass(frozen=True)
class _Key:
    """A keyset ordering: ``(field, descending)`` pairs of concrete fields, the last one unique."""

    fields: tuple[tuple[Field, bool], ...]

    @classmethod
    def of(cls, qs: Any) -> _Key | None:
        if not isinstance(qs, QuerySet) or not qs.query.order_by:
            return None
        fields = []
        for term in qs.query.order_by:
            if not isinstance(term, str):
                return None
            name = term.lstrip("-")
            try:
                field = qs.model._meta.pk if name == "pk" else qs.model._meta.get_field(name)
            except FieldDoesNotExist:
                return None
            if not getattr(field, "concrete", False) or field.is_relation or field.null:
                return None
            fields.append((field, term.startswith("-")))
        return cls(tuple(fields)) if fields[-1][0].unique else None

    def values(self, row: Any) -> list[Any]:
        return [getattr(row, f.attname) for f, _ in self.fields]

    def beyond(self, values: Sequence[Any], forward: bool) -> Q:
        """Rows after (``forward``) or before ``values`` in this order: a lexicographic comparison."""
        terms = []
        for i, (field, desc) in enumerate(self.fields):
            equal = {f.attname: v for (f, _), v in zip(self.fields[:i], values, strict=False)}
            terms.append(Q(**equal, **{f"{field.attname}__{'lt' if desc == forward else 'gt'}": values[i]}))
        return reduce(operator.or_, terms)

    def encode(self, direction: str, row: Any) -> str:
        texts = [f.value_to_string(row) for f, _ in self.fields]
        return base64.urlsafe_b64encode(json.dumps({"d": direction, "k": texts}).encode()).decode()

    def decode(self, cursor: str) -> tuple[str, list[Any]]:
        """``(direction, values)`` of a cursor issued for this ordering; else ``400 invalid``."""
        try:
            if len(cursor) > MAX_CURSOR or not cursor.isascii():
                raise ValueError
            data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
            direction, texts = data["d"], data["k"]
            if set(data) != {"d", "k"} or direction not in ("n", "p") or len(texts) != len(self.fields):
                raise ValueError
            if not all(isinstance(t, str) and "\x00" not in t for t in texts):
                raise ValueError
            values = [f.to_python(t) for (f, _), t in zip(self.fields, texts, strict=True)]
            for (f, _), v in zip(self.fields, values, strict=True):
                f.get_prep_value(v)  # refuses what the database would refuse (e.g. out of range)
                if isinstance(v, int) and not -(2**63) <= v < 2**63:
                    raise ValueError
        except (ValueError, TypeError, KeyError, AttributeError, binascii.Error, ValidationError,
                OverflowError):
            raise _invalid("cursor", "not a cursor this list issued") from None
        return direction, values


def _rows_from_cursor(source: QuerySet, key: _Key, cursor: str, size: int) -> tuple[list[Any], bool, bool]:
    """``(rows, has_next, has_previous)`` of the page next to (``n``) or before (``p``) a cursor."""
    direction, values = key.decode(cursor)
    forward = direction == "n"
    ordered = source if forward else source.reverse()
    rows = list(ordered.filter(key.beyond(values, forward))[: size + 1])
    more = len(rows) > size
    rows = rows[:size] if forward else rows[:size][::-1]
    if not rows:
        return rows, False, False
    if forward:
        return rows, more, source.filter(key.beyond(key.values(rows[0]), False)).exists()
    return rows, source.filter(key.beyond(key.values(rows[-1]), True)).exists(), more


def paginate(request: Request, source: Any, serialize: Callable[[Any], Any] = lambda row: row,
             ) -> dict[str, Any]:
    """One page of ``source`` (an ordered queryset or a list) as ``{"count", "next", "previous",
    "results"}``, each row passed through ``serialize``. Reads ``?page=``, ``?page_size=`` and
    ``?cursor=`` (a cursor wins over a page number); ``400 invalid`` naming a bad one."""
    size = page_size_param(request)
    key = _Key.of(source)
    cursor = request.query_params.get("cursor")
    if cursor is not None and key is None:
        raise _invalid("cursor", "this list is paged by ?page=")
    count = len(source) if isinstance(source, list) else source.count()
    page = None
    if cursor is not None and key is not None:
        rows, has_next, has_previous = _rows_from_cursor(source, key, cursor, size)
    else:
        page = _number(request, "page", 1, MAX_PAGE)
        rows = list(source[(page - 1) * size : page * size])
        has_next, has_previous = (page - 1) * size + len(rows) < count, page > 1
    if key is not None:  # keyset links from the rows at the edges of this page
        after = {"cursor": key.encode("n", rows[-1])} if has_next and rows else None
        before = {"cursor": key.encode("p", rows[0])} if has_previous and rows else None
    else:
        after = {"page": str(page + 1)} if has_next and page else None
        before = {"page": str(page - 1)} if has_previous and page else None
    return {
        "count": count,
        "next": _link(request, after, size),
        "previous": _link(request, before, size),
        "results": [serialize(row) for row in rows],
    }


def _link(request: Request, position: dict[str, str] | None, size: int) -> str | None:
    if position is None:
        return None
    query = request.query_params.copy()
    for name in ("page", "cursor", "page_size"):
        query.pop(name, None)
    query.update({**position, "page_size": str(size)})
    return request.build_absolute_uri(request.path) + "?" + query.urlencode()
