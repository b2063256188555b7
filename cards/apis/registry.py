"""Card registry endpoints (spec/cards.md §Card registry): uploads, lists and one card (card
bureau: own province; clearing staff: all; a desk one card by ``card_no`` + ``certno``),
applications, status moves, replacements, benefit rules."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.parsers import CsvRowsParser, upload_rows
from cards.models import Card, CardStatus
from cards.presenters import card_body, local
from cards.services.moves import card_locked_for, card_replace, card_status_request
from cards.services.reference import benefits_import
from cards.services.registry import REGION, card_apply, cards_import
from clearing.apis.common import ERRORS, query_param
from core.errors import Forbidden, Invalid, field_error
from core.pagination import paginate
from core.parsers import StrictJSONParser
from core.permissions import roles
from core.principals import request_principal

STAS_RE = re.compile("|".join(CardStatus.values))
ADMDVS_RE = re.compile(r"\d{6}")
UPLOAD_OUT = inline_serializer(
    "CardUploadOut",
    {
        "received": serializers.IntegerField(),
        "created": serializers.IntegerField(),
        "updated": serializers.IntegerField(),
        "unchanged": serializers.IntegerField(),
        "rejected": serializers.ListField(child=serializers.DictField()),
    },
)


def _rows(request: Request) -> list[dict[str, str]]:
    return upload_rows(request.data)


def _own_province(request: Request) -> str:
    p = request_principal(request)
    if p.role != "card_bureau" or p.admdvs is None:
        raise Forbidden("Only a card bureau uploads its province's data.")
    return p.admdvs


class CardListApi(APIView):
    """``GET /api/v1/cards?card_stas=&issuer_admdvs=`` (card bureau: its province; staff: all),
    masked; ``POST`` uploads ``cards.csv`` rows (JSON list or ``text/csv``; card bureau, own
    province) → ``{"received", "created", "updated", "unchanged", "rejected"}``."""

    permission_classes = [roles("card_bureau", "clearing_staff")]
    parser_classes = [StrictJSONParser, CsvRowsParser]
    body_fields = None  # rows: the importer checks each

    @extend_schema(
        operation_id="cards_list",
        parameters=[
            OpenApiParameter("card_stas", str, enum=list(CardStatus.values)),
            OpenApiParameter("issuer_admdvs", str),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        qs = Card.objects.order_by("id")
        p = request_principal(request)
        if p.role == "card_bureau":
            qs = qs.filter(issuer_province=p.admdvs)
        stas = query_param(request, "card_stas", STAS_RE, " | ".join(CardStatus.values))
        issuer = query_param(request, "issuer_admdvs", ADMDVS_RE, "6 digits")
        if stas:
            qs = qs.filter(card_stas=stas)
        if issuer:
            qs = qs.filter(issuer_admdvs=issuer)
        return Response(paginate(request, qs, lambda c: card_body(c, history=False)))

    @extend_schema(
        operation_id="cards_upload", request=OpenApiTypes.OBJECT, responses={200: UPLOAD_OUT, **ERRORS}
    )
    def post(self, request: Request) -> Response:
        result = cards_import(rows=_rows(request), province=_own_province(request), principal=request.user)
        return Response(result.as_dict())


class CardDetailApi(APIView):
    """``GET /api/v1/cards/{card_no}`` with its history, masked (a desk adds ``?certno=``; a
    mismatch is 404 like an unknown card)."""

    permission_classes = [roles("card_bureau", "card_desk", "clearing_staff")]

    @extend_schema(
        operation_id="cards_detail",
        parameters=[OpenApiParameter("certno", str)],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request: Request, card_no: str) -> Response:
        if request_principal(request).role == "clearing_staff":
            from cards.selectors.cards import card_by_number

            return Response(card_body(card_by_number(card_no)))
        from django.db import transaction

        with transaction.atomic():
            card = card_locked_for(request.user, card_no, request.query_params.get("certno"))
            return Response(card_body(card))


class CardApplicationApi(APIView):
    """``POST /api/v1/cards/applications`` (card bureau of the issuer, or a desk anywhere):
    ``{"card_no", "certno", "psn_name", "issuer_admdvs", "reference"}`` → ``201`` a card in
    ``applied`` (``200`` on a replay)."""

    permission_classes = [roles("card_bureau", "card_desk")]
    body_fields = frozenset({"card_no", "certno", "psn_name", "issuer_admdvs", "reference"})

    @extend_schema(
        operation_id="cards_apply",
        request=inline_serializer(
            "CardApplicationIn",
            {
                "card_no": serializers.CharField(),
                "certno": serializers.CharField(),
                "psn_name": serializers.CharField(),
                "issuer_admdvs": serializers.ChoiceField(choices=REGION),
                "reference": serializers.CharField(max_length=64),
            },
        ),
        responses={200: OpenApiTypes.OBJECT, 201: OpenApiTypes.OBJECT, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = _object(request, {"card_no", "certno", "psn_name", "issuer_admdvs", "reference"})
        card, created = card_apply(data=data, principal=request.user)
        return Response(card_body(card), status=201 if created else 200)


def _object(request: Request, allowed: set[str]) -> dict[str, Any]:
    data = request.data
    if not isinstance(data, dict):
        raise Invalid([field_error("body", "invalid", "a JSON object")])
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise Invalid([field_error(str(unknown[0])[:60], "unknown_field", "not a field of this request")])
    bad = [k for k, v in data.items() if v is not None and not isinstance(v, str)]
    if bad:
        raise Invalid([field_error(bad[0], "invalid", "a string")])
    return data


class CardStatusApi(APIView):
    """``POST /api/v1/cards/{card_no}/status``: ``{"to", "reason", "reference", "certno" (desk),
    "card_sn" (applied → issued)}`` → ``{"card_no" (masked), "card_stas", "temp_loss_expires_at",
    "list_version", "changed_at"}``; ``200`` also when unchanged."""

    permission_classes = [roles("card_bureau", "card_desk")]
    body_fields = frozenset({"to", "reason", "reference", "certno", "card_sn"})

    @extend_schema(
        operation_id="cards_status",
        request=inline_serializer(
            "CardStatusIn",
            {
                "to": serializers.ChoiceField(choices=list(CardStatus.values)),
                "reason": serializers.CharField(required=False),
                "reference": serializers.CharField(max_length=64),
                "certno": serializers.CharField(required=False),
                "card_sn": serializers.CharField(required=False),
            },
        ),
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def post(self, request: Request, card_no: str) -> Response:
        data = _object(request, {"to", "reason", "reference", "certno", "card_sn"})
        reference = data.get("reference") or ""
        if not reference or len(reference) > 64:
            raise Invalid([field_error("reference", "required", "1 to 64 characters")])
        res = card_status_request(
            principal=request.user,
            card_no=card_no,
            to=data.get("to") or "",
            reason=(data.get("reason") or "")[:40],
            reference=reference,
            certno=data.get("certno"),
            card_sn=data.get("card_sn"),
        )
        return Response(status_body(res))


def status_body(res: Any) -> dict[str, Any]:
    from cards.presenters import card_no_of
    from cards.services.registry import mask_card_no

    return {
        "card_no": mask_card_no(card_no_of(res.card)),
        "card_stas": res.card.card_stas,
        "temp_loss_expires_at": local(res.card.temp_loss_expires_at),
        "list_version": res.list_version,
        "changed_at": local(res.changed_at),
    }


class CardReplaceApi(APIView):
    """``POST /api/v1/cards/{card_no}/replace`` (card bureau of the issuer, or a desk anywhere)
    → ``201`` ``{"old", "new", "list_version"}`` (``200`` on a replay)."""

    permission_classes = [roles("card_bureau", "card_desk")]
    body_fields = frozenset({"new_card_no", "new_card_sn", "reason", "reference", "certno"})

    @extend_schema(
        operation_id="cards_replace",
        request=inline_serializer(
            "CardReplaceIn",
            {
                "new_card_no": serializers.CharField(),
                "new_card_sn": serializers.CharField(),
                "reason": serializers.ChoiceField(choices=["lost", "damaged", "expiring", "info_change"]),
                "reference": serializers.CharField(max_length=64),
                "certno": serializers.CharField(required=False),
            },
        ),
        responses={200: OpenApiTypes.OBJECT, 201: OpenApiTypes.OBJECT, **ERRORS},
    )
    def post(self, request: Request, card_no: str) -> Response:
        data = _object(request, {"new_card_no", "new_card_sn", "reason", "reference", "certno"})
        rep, created = card_replace(principal=request.user, card_no=card_no, data=data)
        body = {
            "old": card_body(rep.old_card),
            "new": card_body(rep.new_card),
            "list_version": rep.list_version,
        }
        return Response(body, status=201 if created else 200)


class CardBenefitApi(APIView):
    """``POST /api/v1/card-benefits`` (card bureau): its province's same-city rules
    (``card_benefits.csv`` rows; JSON or CSV); overlaps → rejected ``overlapping_benefit``."""

    permission_classes = [roles("card_bureau")]
    parser_classes = [StrictJSONParser, CsvRowsParser]
    body_fields = None  # rows: the importer checks each

    @extend_schema(
        operation_id="card_benefits_upload",
        request=OpenApiTypes.OBJECT,
        responses={200: UPLOAD_OUT, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        result = benefits_import(rows=_rows(request), province=_own_province(request), principal=request.user)
        return Response(result.as_dict())
