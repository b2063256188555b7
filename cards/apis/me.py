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
from cards.models import Acceptance, Card
from cards.presenters import acceptance_body, card_body, local
from cards.services.moves import card_status_request, holder_certno_bidx
from clearing.apis.common import ERRORS, query_param
from clearing.models import Cycle
from clearing.selectors import item_inclusion_proof
from core.errors import Invalid, NotFound, field_error
from core.permissions import roles

HOLDER = roles("cardholder")
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
REF_RE = re.compile(r"[A-Za-z0-9_-]{1,40}")


def _cards(request: Request):  # noqa: ANN202 - a queryset of Card
    return Card.objects.filter(certno_bidx=holder_certno_bidx(request.user))


class MyCardsApi(APIView):
    """``GET /api/v1/me/cards``: own cards, status, ``temp_loss_expires_at``, history."""

    permission_classes = [HOLDER]

    @extend_schema(operation_id="me_cards", responses={200: OpenApiTypes.OBJECT, **ERRORS})
    def get(self, request: Request) -> Response:
        return Response({"results": [card_body(c) for c in _cards(request).order_by("id")]})


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


def _usage_row(a: Acceptance, closed: set[dt.date]) -> dict:
    body = acceptance_body(a)
    return {
        "acpt_id": a.acpt_id,
        "used_at": local(a.used_at),
        "acceptor_name": a.acceptor.name,
        "city": a.acceptor.admdvs,
        "svc_type": a.svc_type,
        "list_amt": body["list_amt"],
        "benefit_code": body["benefit_code"],
        "amt": body["amt"],
        "pay_src": a.pay_src,
        "late_listing": a.late_listing,
        "clr_date": a.clr_date.isoformat(),
        "cleared": a.cleared,
        "cycle_closed": a.clr_date in closed,
        "card_no": body["card_no"],
        "kind": a.kind,
    }


def usage_of(request: Request) -> list[dict]:
    """Own card usage, newest first, ``?from=`` / ``?to=`` (dates of use, Asia/Shanghai)."""
    qs = Acceptance.objects.filter(card__in=_cards(request)).select_related("acceptor", "card", "reverses")
    for name, op in (("from", "gte"), ("to", "lte")):
        value = query_param(request, name, DATE_RE, "YYYY-MM-DD")
        if value:
            try:
                qs = qs.filter(**{f"used_at__date__{op}": dt.date.fromisoformat(value)})
            except ValueError:
                raise Invalid([field_error(name, "invalid", "YYYY-MM-DD")]) from None
    rows = list(qs.order_by("-used_at", "-id")[:1000])
    closed = set(
        Cycle.objects.filter(
            scheme="card", status=Cycle.Status.CLOSED, clr_date__in={a.clr_date for a in rows}
        ).values_list("clr_date", flat=True)
    )
    return [_usage_row(a, closed) for a in rows]


class MyCardUsageApi(APIView):
    """``GET /api/v1/me/card-usage?from=&to=``: own uses, newest first."""

    permission_classes = [HOLDER]

    @extend_schema(
        operation_id="me_card_usage",
        parameters=[OpenApiParameter("from", str), OpenApiParameter("to", str)],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        return Response({"results": usage_of(request)})


def card_receipt(request: Request, acpt_id: str) -> dict:
    """Inclusion proof + signed card head of an own cleared use; ``409 not_yet_cleared`` before the
    close; free uses and others' → 404."""
    a = Acceptance.objects.filter(acpt_id=acpt_id, card__in=_cards(request)).first()
    if a is None or not a.cleared:
        raise NotFound("No such cleared use.")
    return item_inclusion_proof(acpt_id, a.clr_date)


class MyCardReceiptApi(APIView):
    """``GET /api/v1/me/card-usage/{acpt_id}/receipt``."""

    permission_classes = [HOLDER]

    @extend_schema(operation_id="me_card_receipt", responses={200: OpenApiTypes.OBJECT, **ERRORS})
    def get(self, request: Request, acpt_id: str) -> Response:
        return Response(card_receipt(request, acpt_id))
