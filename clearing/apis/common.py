"""Shared pieces of the clearing APIs: money fields, date path parameters, the page schema, CSV
passthrough, the problem+json schema component. Lists are paged by :mod:`core.pagination`."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

from clearing.models import Scheme
from core.errors import Forbidden, Invalid, NotFound, field_error
from core.fields import MoneyField, RatioField  # noqa: F401 - re-exported to clearing.apis
from core.pagination import page_schema
from core.permissions import province_scope
from core.principals import request_principal


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details with the stable ``code`` (spec/README.md §Errors)."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.ListField(  # type: ignore[assignment] # a field named like Serializer.errors
        child=serializers.DictField(child=serializers.CharField()), required=False
    )


PROBLEM = OpenApiResponse(ProblemSerializer, description="application/problem+json (RFC 9457)")
ERRORS = {(status, "application/problem+json"): PROBLEM for status in (400, 401, 403, 404, 409, 422)}


def paged(name: str, item: Any, *, cursor: bool = False) -> Any:
    """Schema of a paginated list: ``{"count", "next", "previous", "results"}`` (cursor lists
    have no ``count``)."""
    if not cursor:
        return page_schema(name, item)
    return inline_serializer(name=name, fields={
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": item(many=True) if isinstance(item, type) else item,
    })


DATE_PARAM = OpenApiParameter("clr_date", str, OpenApiParameter.PATH, description="business day YYYY-MM-DD")


class CSVRenderer(BaseRenderer):
    """Lets ``?format=csv`` through DRF's content negotiation; the views return the CSV themselves.
    Anything else it is handed (an error's problem document) is rendered as JSON, so errors stay
    application/problem+json under ``?format=csv`` too (spec/README.md §Errors)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        if isinstance(data, bytes):
            return data
        if isinstance(data, str):
            return data.encode()
        return json.dumps(data, ensure_ascii=False, default=str).encode()


def parse_date(value: str) -> dt.date:
    """A ``YYYY-MM-DD`` path segment; an impossible date → 404."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise NotFound("No such cycle.") from None


def scope_of(request: Request) -> str | None:
    """The caller's province (bureau) or ``None`` (clearing staff: all)."""
    return province_scope(request_principal(request))


ADMDVS = re.compile(r"[0-9]{6}")


def query_param(request: Request, name: str, pattern: re.Pattern[str], message: str) -> str | None:
    """The query parameter ``name`` (``None`` when absent or empty) when it matches ``pattern`` in
    full; anything else (a NUL, other scripts' digits, garbage) → ``400 invalid`` naming it."""
    value = request.query_params.get(name) or None
    if value is not None and not pattern.fullmatch(value):
        raise Invalid([field_error(name, "invalid", message)])
    return value


def staff_province(request: Request) -> str:
    """The province a statement request is about: the bureau's own, or staff's ``?admdvs=``
    (6 ASCII digits; its province is used). ``400`` ``admdvs`` required/invalid."""
    scope = scope_of(request)
    if scope is not None:
        return scope
    admdvs = query_param(request, "admdvs", ADMDVS, "6 digits (GB/T 2260)")
    if admdvs is None:
        raise Invalid([field_error("admdvs", "required", "clearing staff must name the province (?admdvs=)")])
    return admdvs[:2] + "0000"


SCHEMES = re.compile("|".join(Scheme.values))
SCHEME_PARAM = OpenApiParameter(
    "scheme",
    str,
    enum=list(Scheme.values),
    description="clearing scheme (default medical; card bureaus: card)",
)


def scheme_of(request: Request, value: str | None = None) -> str:
    """The scheme a clearing request is about (spec/cards.md §The card scheme's clearing):
    ``?scheme=`` (or ``value`` from a body), default ``medical`` — ``card`` for a card bureau.
    A bureau asking about the other scheme → ``403`` (medical bureaus see the medical scheme only,
    card bureaus the card scheme only; clearing staff both); garbage → ``400 invalid``."""
    principal = request_principal(request)
    own = Scheme.CARD if principal.role == "card_bureau" else Scheme.MEDICAL
    if value is None:
        value = query_param(request, "scheme", SCHEMES, "medical or card")
    elif not SCHEMES.fullmatch(value):
        raise Invalid([field_error("scheme", "invalid", "medical or card")])
    scheme = value or own
    if principal.role in ("bureau", "card_bureau") and scheme != own:
        raise Forbidden("Your bureau may not read this scheme.")
    return scheme
