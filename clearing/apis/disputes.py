"""Disputes (spec/bureau-api.md §Disputes, rules in clearing.md §Disputes), of both schemes
(spec/cards.md §The card scheme's clearing): the same endpoints; a card bureau acts on the card
scheme's ``acceptance`` items (named by ``acpt_id``), a medical bureau on settlements, clearing
staff on both (``?scheme=`` on the list). A medical dispute answers as before; a card dispute
answers in cards.md terms (``acpt_id``, ``acceptor_code``, ``adjustment_acpt_id``) with
``"scheme": "card"``."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clearing import selectors
from clearing.apis.common import ERRORS, SCHEME_PARAM, MoneyField, paged, scheme_of, scope_of
from clearing.models import Dispute, Scheme
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


class CardDisputeSerializer(serializers.Serializer):
    """A dispute of the card scheme, in spec/cards.md terms."""

    id = serializers.IntegerField()
    scheme = serializers.SerializerMethodField()
    acpt_id = serializers.CharField(source="setl_id")
    payer = serializers.CharField()
    payee = serializers.CharField()
    acceptor_code = serializers.CharField(source="fixmedins_code")
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
    adjustment_acpt_id = serializers.CharField(source="adjustment_setl_id")

    @extend_schema_field(serializers.ChoiceField(choices=[Scheme.CARD]))
    def get_scheme(self, dispute: Dispute) -> str:
        return Scheme.CARD


def _any_dispute(many: bool = False) -> PolymorphicProxySerializer:
    return PolymorphicProxySerializer(
        component_name="AnyDispute",
        serializers=[DisputeSerializer, CardDisputeSerializer],
        resource_type_field_name=None,
        many=many,
    )


def present(dispute: Dispute, scheme: str | None = None) -> dict[str, Any]:
    """The answer for ``dispute`` in its scheme's shape (``scheme`` when the caller knows it)."""
    if (scheme or dispute.item.scheme) == Scheme.CARD:
        return dict(CardDisputeSerializer(dispute).data)
    return dict(DisputeSerializer(dispute).data)


class DisputeListCreateApi(APIView):
    """``GET /api/v1/disputes?status=&scheme=`` (where the caller's province is payer or payee;
    staff all; a card bureau the card scheme's) and ``POST`` (payer bureau):
    ``{"setl_id" | "acpt_id", "reason_code", "amount" (optional), "note"}`` → 201 (a card bureau
    names an ``acceptance`` item by ``acpt_id``; ``reason_code`` ``card_denied_missed`` is the card
    scheme's). Errors: ``422 not_disputable``, ``409 already_reversed``, ``422
    dispute_window_closed``, ``409 already_disputed``, ``422 amount_exceeds_clr_amt``, 404 outside
    scope (or an item of the other scheme)."""

    permission_classes = [roles("bureau", "card_bureau", "clearing_staff")]

    class InputSerializer(serializers.Serializer):
        setl_id = serializers.CharField(max_length=30, required=False, help_text="a medical item")
        acpt_id = serializers.CharField(max_length=30, required=False, help_text="a card item")
        reason_code = serializers.ChoiceField(choices=Dispute.Reason.values)
        amount = MoneyField(required=False)
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            ids = {attrs[k] for k in ("setl_id", "acpt_id") if k in attrs}
            if len(ids) != 1:
                raise serializers.ValidationError({"setl_id": ["name the item: setl_id or acpt_id"]})
            attrs["item_id"] = ids.pop()
            return attrs

    @extend_schema(
        operation_id="disputes_list",
        parameters=[
            OpenApiParameter("status", str, enum=list(Dispute.Status.values)),
            SCHEME_PARAM,
            *PAGE_PARAMETERS,
        ],
        responses={200: paged("DisputePage", _any_dispute(many=True)), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        scheme = scheme_of(request)
        status = request.query_params.get("status") or None
        if status and status not in Dispute.Status.values:
            raise Invalid([field_error("status", "invalid_choice", "open, escalated, upheld or rejected")])
        qs = selectors.disputes_visible(scope_of(request), status, scheme)
        return Response(paginate(request, qs, lambda d: present(d, scheme)))

    @extend_schema(
        operation_id="disputes_open",
        request=InputSerializer,
        responses={201: _any_dispute(), **ERRORS},
    )
    def post(self, request: Request) -> Response:
        s = self.InputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        v = s.validated_data
        dispute = dispute_open(
            principal=request.user,
            setl_id=v["item_id"],
            reason_code=v["reason_code"],
            amount=v.get("amount"),
            note=v["note"],
        )
        return Response(present(dispute), status=201)


class DisputeResolveApi(APIView):
    """``POST /api/v1/disputes/{id}/resolve`` — payee bureau, or clearing staff once escalated:
    ``{"outcome": "upheld"|"rejected", "amount" (optional, ≤ disputed), "note"}``."""

    permission_classes = [roles("bureau", "card_bureau", "clearing_staff")]

    class InputSerializer(serializers.Serializer):
        outcome = serializers.ChoiceField(choices=["upheld", "rejected"])
        amount = MoneyField(required=False)
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    @extend_schema(
        operation_id="disputes_resolve",
        request=InputSerializer,
        responses={200: _any_dispute(), **ERRORS},
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
        return Response(present(dispute))


class DisputeEscalateApi(APIView):
    """``POST /api/v1/disputes/{id}/escalate`` — payer or payee bureau (of the dispute's scheme)
    hands it to staff."""

    permission_classes = [roles("bureau", "card_bureau")]

    @extend_schema(
        operation_id="disputes_escalate",
        request=None,
        responses={200: _any_dispute(), **ERRORS},
    )
    def post(self, request: Request, dispute_id: int) -> Response:
        return Response(present(dispute_escalate(principal=request.user, dispute_id=dispute_id)))
