"""The cardholder's own cards (spec/cards.md §Views): cards with status and history, a temporary
loss report, card usage and receipts of cleared uses."""

from __future__ import annotations

import datetime as dt
import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cards.apis.registry import status_body
from cards.presenters import card_body
from cards.selectors.holder import holder_cards, holder_receipt, holder_usage, usage_rows
from cards.services.moves import card_status_request
from clearing.apis.common import ERRORS, query_param
from core.errors import Invalid, field_error
from core.pagination import PAGE_PARAMETERS, paginate
from core.permissions import roles

HOLDER = roles("cardholder")
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
REF_RE = re.compile(r"[A-Za-z0-9_-]{1,40}")


class MyCardsApi(APIView):
    """``GET /api/v1/me/cards``: own cards, status, ``temp_loss_expires_at``, history."""

    permission_classes = [HOLDER]

    @extend_schema(operation_id="me_cards", responses={200: OpenApiTypes.OBJECT, **ERRORS})
    def get(self, request: Request) -> Response:
        return Response({"results": [card_body(c, holder=True) for c in holder_cards(request.user)]})


class MyTempLossApi(APIView):
    """``POST /api/v1/me/cards/{card_no}/temporary-loss`` ``{"reference"}`` (optional, ≤ 40
    characters, the idempotency key): ``active`` → ``temp_lost``; already ``temp_lost`` → ``200``
    unchanged; another's or unknown card → ``404``. Answers as the status endpoint."""

    permission_classes = [HOLDER]
    body_fields = frozenset({"reference"})

    @extend_schema(
        operation_id="me_card_temporary_loss",
        request=inline_serializer(
            "TempLossIn", {"reference": serializers.CharField(required=False, max_length=40)}
        ),
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def post(self, request: Request, card_no: str) -> Response:
        data = request.data if request.body else {}
        reference = data.get("reference") if isinstance(data, dict) else None
        if reference is not None and (not isinstance(reference, str) or not REF_RE.fullmatch(reference)):
            raise Invalid([field_error("reference", "invalid", "1 to 40 characters [A-Za-z0-9_-]")])
        res = card_status_request(
            principal=request.user,
            card_no=card_no,
            to="temp_lost",
            reason="cardholder",
            reference=reference or "",
            certno=None,
            card_sn=None,
        )
        return Response(status_body(res))


def usage_of(request: Request) -> dict:
    """Own card usage, newest first, ``?from=`` / ``?to=`` (dates of use, Asia/Shanghai), one page
    of :func:`core.pagination.paginate` (``{"count", "next", "previous", "results"}``)."""
    bounds: dict[str, dt.date | None] = {}
    for name in ("from", "to"):
        value = query_param(request, name, DATE_RE, "YYYY-MM-DD")
        try:
            bounds[name] = dt.date.fromisoformat(value) if value else None
        except ValueError:
            raise Invalid([field_error(name, "invalid", "YYYY-MM-DD")]) from None
    qs = holder_usage(request.user, date_from=bounds["from"], date_to=bounds["to"])
    page = paginate(request, qs)
    page["results"] = usage_rows(page["results"])
    return page


class MyCardUsageApi(APIView):
    """``GET /api/v1/me/card-usage?from=&to=&page=&page_size=``: own uses and refunds, newest first
    (``used_at``, then id), paginated by :mod:`core.pagination` (keyset ``next``/``previous``)."""

    permission_classes = [HOLDER]

    @extend_schema(
        operation_id="me_card_usage",
        parameters=[OpenApiParameter("from", str), OpenApiParameter("to", str), *PAGE_PARAMETERS],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        return Response(usage_of(request))


class MyCardReceiptApi(APIView):
    """``GET /api/v1/me/card-usage/{acpt_id}/receipt``."""

    permission_classes = [HOLDER]

    @extend_schema(operation_id="me_card_receipt", responses={200: OpenApiTypes.OBJECT, **ERRORS})
    def get(self, request: Request, acpt_id: str) -> Response:
        return Response(holder_receipt(request.user, acpt_id))
