"""Hospital and pharmacy API (spec/hospital-api.md) and the bureaus' settlement detail and reference
uploads (spec/bureau-api.md). Thin: parse, call one service or selector, serialize."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import metrics
from core.errors import DomainError
from core.pagination import PAGE_PARAMETERS, paginate
from core.permissions import roles
from core.principals import request_principal
from settlement import selectors
from settlement import serializers as s
from settlement.parsers import BatchJSONParser
from settlement.presenters import batch_result, fee_line, setlinfo, settlement_body, with_disputes
from settlement.request_parsing import (
    parse_batch_items,
    parse_lookup_request,
    parse_reversal_request,
    parse_settlement_request,
)
from settlement.requests import SettlementRequest
from settlement.services.batch import settlements_batch
from settlement.services.lookup import person_lookup
from settlement.services.reconcile import reconciliation_details, reconciliation_totals
from settlement.services.reverse import settlement_reverse
from settlement.services.settle import SettleOutcome, settlement_create, settlement_preview

REPLAYED = {"Idempotent-Replayed": "true"}


def _outcome_response(outcome: SettleOutcome) -> Response:
    body = settlement_body(outcome.settlement, lines=outcome.lines)  # lines: as just written (no query)
    if outcome.settlement.status == "reversal":
        body = {"setlinfo": body["setlinfo"]}
    if outcome.created:
        return Response(body, status=201)
    return Response(body, status=200, headers=REPLAYED)


class SettlementCreateApi(APIView):
    """``POST /api/v1/settlements``: settle a bill (201; replay 200 with ``Idempotent-Replayed``)."""

    permission_classes = [roles("institution")]
    InputSerializer = s.SettleRequestIn
    OutputSerializer = s.SettlementOut

    @extend_schema(
        operation_id="settlement_create",
        request=InputSerializer,
        responses={201: OutputSerializer, 200: OutputSerializer},
    )
    def post(self, request: Request) -> Response:
        who = request_principal(request)
        try:
            parsed = parse_settlement_request(request.data, now=timezone.now())
        except DomainError as exc:  # refused before the service, which counts everything after
            metrics.settlement_recorded(code=exc.code)
            raise
        outcome = settlement_create(institution=who.institution, request=parsed, principal=who)
        return _outcome_response(outcome)


class SettlementsApi(SettlementCreateApi):
    """``GET /api/v1/settlements``: the institution's own settlements and reversals, paginated
    (:mod:`core.pagination`: ``page``, ``page_size`` ≤ 1000, keyset ``next``/``previous``), filters
    ``begin``, ``end``, ``clr_date``, ``status``, ``psn_no``, ``medins_setl_id``.
    ``POST`` on the same path settles (:class:`SettlementCreateApi`)."""

    ListOutputSerializer = s.SettlementListOut

    @extend_schema(
        operation_id="settlement_list",
        responses={200: ListOutputSerializer},
        parameters=[
            *(OpenApiParameter(name, str, required=False) for name in selectors.LIST_FILTERS),
            *PAGE_PARAMETERS,
        ],
    )
    def get(self, request: Request) -> Response:
        who = request_principal(request)
        qs = selectors.settlements_of_institution(
            institution=who.institution, params=request.query_params
        )
        return Response(paginate(
            request, qs, lambda r: setlinfo(r, person=r.person, institution=r.institution)))


class SettlementPreviewApi(APIView):
    """``POST /api/v1/settlements/preview``: trial settlement, records and moves nothing."""

    permission_classes = [roles("institution")]
    InputSerializer = s.SettleRequestIn
    OutputSerializer = s.SettlementOut

    @extend_schema(
        operation_id="settlement_preview", request=InputSerializer, responses={200: OutputSerializer}
    )
    def post(self, request: Request) -> Response:
        who = request_principal(request)
        parsed = parse_settlement_request(request.data, now=timezone.now(), require_serial=False)
        row, lines = settlement_preview(institution=who.institution, request=parsed)
        info = setlinfo(row, person=row.person, institution=row.institution, preview=True)
        return Response({"setlinfo": info, "feedetail": [fee_line(ln) for ln in lines]})


class SettlementBatchApi(APIView):
    """``POST /api/v1/settlements/batch``: 1–1000 settle requests, each atomic on its own."""

    permission_classes = [roles("institution")]
    parser_classes = [BatchJSONParser]
    InputSerializer = s.BatchIn
    OutputSerializer = s.BatchOut

    @extend_schema(
        operation_id="settlement_batch", request=InputSerializer, responses={200: OutputSerializer}
    )
    def post(self, request: Request) -> Response:
        who = request_principal(request)
        items = parse_batch_items(request.data, now=timezone.now())
        valid = [x for x in items if isinstance(x, SettlementRequest)]
        settled = iter(
            settlements_batch(institution=who.institution, requests=valid, principal=who)
        )
        results = [batch_result(x if isinstance(x, DomainError) else next(settled)) for x in items]
        for x in items:  # items refused by the parser; settle_requests counted the rest
            if isinstance(x, DomainError):
                metrics.settlement_recorded(code=x.code)
        return Response({"results": results})


class SettlementReversalApi(APIView):
    """``POST /api/v1/settlements/{setl_id}/reversal``: reverse the whole settlement (201; replay 200)."""

    permission_classes = [roles("institution")]
    InputSerializer = s.ReversalIn
    OutputSerializer = s.SettlementOut

    @extend_schema(
        operation_id="settlement_reverse",
        request=InputSerializer,
        responses={201: OutputSerializer, 200: OutputSerializer},
    )
    def post(self, request: Request, setl_id: str) -> Response:
        who = request_principal(request)
        parsed = parse_reversal_request(request.data, setl_id=setl_id)
        outcome = settlement_reverse(
            institution=who.institution, request=parsed, principal=who
        )
        return _outcome_response(outcome)


class SettlementDetailApi(APIView):
    """``GET /api/v1/settlements/{setl_id}``: the institution's own record; payer/payee bureaus and
    clearing staff get the full split and lines with personal data masked. Else 404."""

    permission_classes = [roles("institution", "bureau", "clearing_staff")]
    OutputSerializer = s.SettlementOut

    @extend_schema(operation_id="settlement_detail", responses={200: OutputSerializer})
    def get(self, request: Request, setl_id: str) -> Response:
        who = request_principal(request)
        row = selectors.settlement_for_reader(principal=who, setl_id=setl_id)
        body = settlement_body(row, mask_all=who.role != "institution")
        return Response(with_disputes(body, row))


class PersonLookupApi(APIView):
    """``POST /api/v1/persons/lookup``: who is this patient (audited)."""

    permission_classes = [roles("institution")]
    InputSerializer = s.LookupIn
    OutputSerializer = s.LookupOut

    @extend_schema(operation_id="person_lookup", request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request: Request) -> Response:
        who = request_principal(request)
        parsed = parse_lookup_request(request.data)
        return Response(
            person_lookup(institution=who.institution, request=parsed, principal=who)
        )


class ReconciliationTotalsApi(APIView):
    """``POST /api/v1/reconciliation/totals``: 对总账."""

    permission_classes = [roles("institution")]
    InputSerializer = s.TotalsIn
    OutputSerializer = s.TotalsOut

    @extend_schema(
        operation_id="reconciliation_totals", request=InputSerializer, responses={200: OutputSerializer}
    )
    def post(self, request: Request) -> Response:
        who = request_principal(request)
        return Response(reconciliation_totals(institution=who.institution, data=request.data))


class ReconciliationDetailsApi(APIView):
    """``POST /api/v1/reconciliation/details``: 对明细账."""

    permission_classes = [roles("institution")]
    InputSerializer = s.DetailsIn
    OutputSerializer = s.DetailsOut

    @extend_schema(
        operation_id="reconciliation_details", request=InputSerializer, responses={200: OutputSerializer}
    )
    def post(self, request: Request) -> Response:
        who = request_principal(request)
        return Response(reconciliation_details(institution=who.institution, data=request.data))
