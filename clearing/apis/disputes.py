"""Disputes (spec/bureau-api.md §Disputes, rules in clearing.md §Disputes)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clearing import selectors
from clearing.apis.common import ERRORS, MoneyField, paged, scope_of
from clearing.models import Dispute
from clearing.services.disputes import dispute_escalate, dispute_open, dispute_resolve
from core.errors import Invalid, field_error
from core.pagination import PAGE_PARAMETERS, paginate
from core.permissions import roles


class DisputeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    setl_id = serializers.CharField()
    payer = serializers.CharField()
    payee = serializers.CharField()
    fixmedins_code = serializers.CharField()
    reason_code = serializers.CharField()
    amount = MoneyField()
    note = serializers.CharField()
    status = serializers.CharField()
    opened_by = serializers.CharField()
    opened_at = serializers.DateTimeField()
    escalated_by = serializers.CharField()
    escalated_at = serializers.DateTimeField(allow_null=True)
    resolved_by = serializers.CharField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolved_amount = MoneyField(allow_null=True)
    resolution_note = serializers.CharField()
    adjustment_setl_id = serializers.CharField()


class DisputeListCreateApi(APIView):
    """``GET /api/v1/disputes?status=`` (where the caller's province is payer or payee; staff all)
    and ``POST`` (payer bureau): ``{"setl_id", "reason_code", "amount" (optional), "note"}`` → 201.
    Errors: ``422 not_disputable``, ``409 already_reversed``, ``422 dispute_window_closed``,
    ``409 already_disputed``, ``422 amount_exceeds_clr_amt``, 404 outside scope."""

    permission_classes = [roles("bureau", "clearing_staff")]

    class InputSerializer(serializers.Serializer):
        setl_id = serializers.CharField(max_length=30)
        reason_code = serializers.ChoiceField(choices=Dispute.Reason.values)
        amount = MoneyField(required=False)
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    @extend_schema(
        operation_id="disputes_list",
        parameters=[OpenApiParameter("status", str, enum=list(Dispute.Status.values)), *PAGE_PARAMETERS],
        responses={200: paged("DisputePage", DisputeSerializer), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        status = request.query_params.get("status") or None
        if status and status not in Dispute.Status.values:
            raise Invalid([field_error("status", "invalid_choice", "open, escalated, upheld or rejected")])
        qs = selectors.disputes_visible(scope_of(request), status)
        return Response(paginate(request, qs, lambda d: DisputeSerializer(d).data))

    @extend_schema(
        operation_id="disputes_open",
        request=InputSerializer,
        responses={201: DisputeSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        s = self.InputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        v = s.validated_data
        dispute = dispute_open(
            principal=request.user,
            setl_id=v["setl_id"],
            reason_code=v["reason_code"],
            amount=v.get("amount"),
            note=v["note"],
        )
        return Response(DisputeSerializer(dispute).data, status=201)


class DisputeResolveApi(APIView):
    """``POST /api/v1/disputes/{id}/resolve`` — payee bureau, or clearing staff once escalated:
    ``{"outcome": "upheld"|"rejected", "amount" (optional, ≤ disputed), "note"}``."""

    permission_classes = [roles("bureau", "clearing_staff")]

    class InputSerializer(serializers.Serializer):
        outcome = serializers.ChoiceField(choices=["upheld", "rejected"])
        amount = MoneyField(required=False)
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    @extend_schema(
        operation_id="disputes_resolve",
        request=InputSerializer,
        responses={200: DisputeSerializer, **ERRORS},
    )
    def post(self, request: Request, dispute_id: int) -> Response:
        s = self.InputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        v = s.validated_data
        dispute = dispute_resolve(
            principal=request.user,
            dispute_id=dispute_id,
            outcome=v["outcome"],
            amount=v.get("amount"),
            note=v["note"],
        )
        return Response(DisputeSerializer(dispute).data)


class DisputeEscalateApi(APIView):
    """``POST /api/v1/disputes/{id}/escalate`` — payer or payee bureau hands it to staff."""

    permission_classes = [roles("bureau")]

    @extend_schema(
        operation_id="disputes_escalate",
        request=None,
        responses={200: DisputeSerializer, **ERRORS},
    )
    def post(self, request: Request, dispute_id: int) -> Response:
        return Response(
            DisputeSerializer(dispute_escalate(principal=request.user, dispute_id=dispute_id)).data
        )
