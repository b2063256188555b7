"""Acceptance endpoints (spec/cards.md §Acceptance records, §Views): single and batch uploads,
reversal, one record, and the day's list (acceptor: own; card bureau: as issuer or acceptor)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cards.presenters import acceptance_body
from cards.requests import FIELDS
from cards.selectors.acceptances import acceptance_for_reader, acceptances_day
from cards.services.acceptances import MAX_BATCH, Result, acceptances_record
from cards.services.reversal import acceptance_reverse
from clearing.apis.common import ERRORS
from core.errors import DomainError, Invalid, field_error, problem_body
from core.permissions import roles
from core.principals import request_principal
from settlement.parsers import BatchJSONParser

RECORD = inline_serializer(
    "CardAcceptanceIn",
    {
        "acpt_serial": serializers.CharField(max_length=40),
        "card_no": serializers.CharField(max_length=9),
        "card_sn": serializers.CharField(max_length=32),
        "svc_type": serializers.ChoiceField(choices=["transit_fare", "admission", "loan"]),
        "used_at": serializers.DateTimeField(),
        "mode": serializers.ChoiceField(choices=["online", "offline"]),
        "list_version": serializers.IntegerField(required=False, allow_null=True),
        "list_amt": serializers.CharField(),
        "amt": serializers.CharField(),
        "pay_src": serializers.ChoiceField(choices=["epurse", "fin_acct", "none"]),
    },
)


def _problem(err: DomainError) -> dict[str, Any]:
    extra = dict(err.extra)
    if err.errors is not None:
        extra["errors"] = err.errors
    elif err.field:
        extra["errors"] = [field_error(err.field, err.code, err.detail)]
    return problem_body(err.status, err.code, err.detail, **extra)


def result_body(res: Result) -> dict[str, Any]:
    """One batch result: ``{"status", "acceptance"}`` or ``{"status", "problem"}``."""
    if res.error is not None:
        return {"status": res.status, "problem": _problem(res.error)}
    return {"status": res.status, "acceptance": _accepted_body(res)}


def _accepted_body(res: Result) -> dict[str, Any]:
    """The answer of a result without an error (which always carries its acceptance)."""
    if res.acceptance is None:  # pragma: no cover - a result has an error or an acceptance
        raise RuntimeError("an acceptance result without its record")
    return acceptance_body(res.acceptance, res.card_no, duplicate=res.duplicate)


class AcceptanceCreateApi(APIView):
    """``POST /api/v1/card-acceptances`` (acceptor client): one record → ``201`` the accepted
    record, ``200`` with ``"duplicate": true`` for a resend, else the first failing check's
    problem; ``GET`` lists the caller's records of ``?date=`` (acceptor) or the bureau's view."""

    permission_classes = [roles("acceptor", "card_bureau", "clearing_staff")]
    body_fields = frozenset(FIELDS)

    @extend_schema(
        operation_id="card_acceptance_create",
        request=RECORD,
        responses={200: OpenApiTypes.OBJECT, 201: OpenApiTypes.OBJECT, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        principal = request_principal(request)
        if principal.role != "acceptor":
            raise DomainError("forbidden", "Only an acceptor uploads acceptance records.", status=403)
        (res,) = acceptances_record(acceptor=principal.acceptor, records=[request.data])
        if res.error is not None:
            raise res.error
        return Response(_accepted_body(res), status=res.status)

    @extend_schema(
        operation_id="card_acceptance_list",
        parameters=[
            OpenApiParameter("date", str, description="Asia/Shanghai date of receipt YYYY-MM-DD"),
            OpenApiParameter("as", str, enum=["issuer", "acceptor"], description="card bureau: which side"),
            OpenApiParameter("svc_type", str, enum=["transit_fare", "admission", "loan"]),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        return Response(acceptances_day(request))


class AcceptanceBatchApi(APIView):
    """``POST /api/v1/card-acceptances/batch`` (acceptor client): ``{"items": [...]}`` with 1 to
    1000 records → ``{"results": [{"status", "acceptance"|"problem"}]}`` in order."""

    permission_classes = [roles("acceptor")]
    parser_classes = [BatchJSONParser]
    body_fields = frozenset({"items"})

    @extend_schema(
        operation_id="card_acceptance_batch",
        request=inline_serializer("CardAcceptanceBatchIn", {"items": serializers.ListField(child=RECORD)}),
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = request.data
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH or set(data) != {"items"}:
            raise Invalid(
                [field_error("items", "invalid", f"a list of 1 to {MAX_BATCH} records (and nothing else)")]
            )
        results = acceptances_record(acceptor=request_principal(request).acceptor, records=items)
        return Response({"results": [result_body(r) for r in results]})


class AcceptanceDetailApi(APIView):
    """``GET /api/v1/card-acceptances/{acpt_id}``: the acceptor's own record; card bureaus where
    their province is issuer or acceptor; staff all. Else 404."""

    permission_classes = [roles("acceptor", "card_bureau", "clearing_staff")]

    @extend_schema(operation_id="card_acceptance_detail", responses={200: OpenApiTypes.OBJECT, **ERRORS})
    def get(self, request: Request, acpt_id: str) -> Response:
        return Response(acceptance_body(acceptance_for_reader(request.user, acpt_id)))


class AcceptanceReversalApi(APIView):
    """``POST /api/v1/card-acceptances/{acpt_id}/reversal`` (the acceptor that recorded it):
    ``{"acpt_serial", "reason"}`` → ``201`` the negative record (``200`` on a replay)."""

    permission_classes = [roles("acceptor")]
    body_fields = frozenset({"acpt_serial", "reason"})

    @extend_schema(
        operation_id="card_acceptance_reverse",
        request=inline_serializer(
            "CardReversalIn",
            {
                "acpt_serial": serializers.CharField(max_length=40),
                "reason": serializers.CharField(required=False),
            },
        ),
        responses={200: OpenApiTypes.OBJECT, 201: OpenApiTypes.OBJECT, **ERRORS},
    )
    def post(self, request: Request, acpt_id: str) -> Response:
        acceptor = request_principal(request).acceptor
        row, created = acceptance_reverse(acceptor=acceptor, acpt_id=acpt_id, data=request.data)
        return Response(acceptance_body(row), status=201 if created else 200)
