"""Items behind a statement (cursor pagination, streamed CSV), inclusion proofs and public keys
(spec/bureau-api.md §Cycles and statements)."""

from __future__ import annotations

import base64
import binascii
import json
import re

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clearing import selectors
from clearing.apis.common import (
    ADMDVS,
    ERRORS,
    PROBLEM,
    SCHEME_PARAM,
    CSVRenderer,
    MoneyField,
    paged,
    parse_date,
    query_param,
    scheme_of,
    scope_of,
)
from clearing.models import ClearingItem, Cycle, Scheme
from core.crypto import signing_keys
from core.errors import Invalid, NotFound, field_error
from core.pagination import page_size_param
from core.permissions import AllowAnyone, roles
from core.replica import primary_required, replica_reads

STAFF = roles("bureau", "card_bureau", "clearing_staff")
FIELDS = ["setl_id", "kind", "payer", "payee", "clr_amt", "fixmedins_code", "clr_date"]


class ItemSerializer(serializers.Serializer):
    setl_id = serializers.CharField()
    kind = serializers.CharField()
    payer = serializers.CharField()
    payee = serializers.CharField()
    clr_amt = MoneyField()
    fixmedins_code = serializers.CharField()
    clr_date = serializers.DateField()


class CardItemSerializer(serializers.Serializer):
    """A card-scheme item under the names of its leaf (spec/cards.md §The card scheme's clearing:
    ``acpt_id``, ``acceptor_code``); stored in the item's ``setl_id`` / ``fixmedins_code``."""

    acpt_id = serializers.CharField(source="setl_id")
    kind = serializers.CharField()
    payer = serializers.CharField()
    payee = serializers.CharField()
    clr_amt = MoneyField()
    acceptor_code = serializers.CharField(source="fixmedins_code")
    clr_date = serializers.DateField()


def item_serializer(scheme: str) -> type[serializers.Serializer]:
    """The shape of ``scheme``'s items: medical under bureau-api.md's names, card under cards.md's."""
    return CardItemSerializer if scheme == Scheme.CARD else ItemSerializer


# One page shape; each result one of the two item shapes (their required names tell them apart,
# so an empty page is valid once, not for both schemes as a oneOf of two pages would be).
ITEM_PAGE = paged("ItemPage", PolymorphicProxySerializer(
    component_name="ItemOfEitherScheme",
    serializers=[ItemSerializer, CardItemSerializer],
    resource_type_field_name=None,
    many=True,
), cursor=True)


SETL_ID = re.compile(r"[A-Za-z0-9_-]{1,30}")  # as in the proof URL (clearing/urls.py)
KINDS = re.compile("|".join(ClearingItem.Kind.values))
FORMATS = re.compile(r"json")
MAX_CURSOR = 120  # an issued cursor is ~70 characters


def _cursor(direction: str, setl_id: str) -> str:
    """The opaque cursor: URL-safe base64 of ``{"after"|"before": setl_id}`` (``json.dumps``)."""
    return base64.urlsafe_b64encode(json.dumps({direction: setl_id}).encode()).decode()


def _read_cursor(value: str) -> tuple[str, str]:
    """``(direction, setl_id)`` of a cursor this endpoint issued. Strict: bounded length, valid
    base64 and JSON of exactly one ``after``/``before`` key whose value is a ``setl_id`` of the
    issued alphabet (so no NUL or other garbage reaches the database), and re-encoding gives the
    same cursor. Anything else → ``400 invalid`` naming ``cursor``."""
    try:
        if len(value) > MAX_CURSOR or not value.isascii():
            raise ValueError
        data = json.loads(base64.urlsafe_b64decode(value.encode()))
        ((direction, setl_id),) = data.items()
        if direction not in ("after", "before") or not isinstance(setl_id, str):
            raise ValueError
        if not SETL_ID.fullmatch(setl_id) or _cursor(direction, setl_id) != value:
            raise ValueError
        return direction, setl_id
    except (ValueError, binascii.Error, TypeError, AttributeError):
        raise Invalid([field_error("cursor", "invalid", "not a cursor this endpoint issued")]) from None


class ItemListApi(APIView):
    """``GET /api/v1/cycles/{clr_date}/items?counterparty=&kind=&cursor=&page_size=``: the cycle's
    items where the caller's province is payer or payee (staff: all), ordered by ``setl_id`` (bytes):
    ``{"next", "previous", "results"}``; card items (``?scheme=card``) as
    :class:`CardItemSerializer`. Routed as :class:`bureau.apis.ItemExportApi`, which adds
    ``?format=csv|xlsx``."""

    permission_classes = [STAFF]
    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        operation_id="cycles_items",
        parameters=[
            SCHEME_PARAM,
            OpenApiParameter("counterparty", str),
            OpenApiParameter("kind", str, enum=list(ClearingItem.Kind.values)),
            OpenApiParameter("cursor", str),
            OpenApiParameter("page_size", int),
            OpenApiParameter("format", str, enum=["csv"]),
        ],
        responses={
            (200, "application/json"): ITEM_PAGE,
            (200, "text/csv"): OpenApiTypes.STR,
            **ERRORS,
        },
    )
    @replica_reads  # a closed cycle's items never change (core/replica.py)
    def get(self, request: Request, clr_date: str) -> HttpResponse:
        day = parse_date(clr_date)
        scheme = scheme_of(request)
        if selectors.cycle_get(day, scheme).status != Cycle.Status.CLOSED:
            primary_required()  # an open or cut cycle's items are read where they are written
        kind = query_param(request, "kind", KINDS, "settlement, reversal, adjustment or acceptance")
        counterparty = query_param(request, "counterparty", ADMDVS, "a province code (6 digits)")
        query_param(request, "format", FORMATS, "json")  # csv/xlsx: bureau.apis.ItemExportApi
        qs = selectors.items_visible(
            day, scope_of(request), counterparty=counterparty, kind=kind, scheme=scheme
        )
        size = page_size_param(request)  # the one limit of every list (core.pagination)
        cursor = request.query_params.get("cursor")
        direction, key = _read_cursor(cursor) if cursor else ("after", None)
        rows, has_more = selectors.items_page(qs, direction=direction, key=key, size=size)
        base = request.build_absolute_uri(request.path)

        def link(d: str, k: str) -> str:
            q = request.query_params.copy()
            q["cursor"] = _cursor(d, k)
            return base + "?" + q.urlencode()

        forward = direction == "after"
        nxt = link("after", rows[-1].setl_id) if rows and (has_more if forward else True) else None
        prev = (
            link("before", rows[0].setl_id) if rows and (key is not None if forward else has_more) else None
        )
        results = item_serializer(scheme)(rows, many=True).data
        return Response({"next": nxt, "previous": prev, "results": results})


class ItemProofApi(APIView):
    """``GET /api/v1/cycles/{clr_date}/items/{setl_id}/proof``: the RFC 9162 inclusion proof
    (spec/clearing.md §Receipts); ``409 not_yet_cleared`` before the close; 404 outside scope."""

    permission_classes = [STAFF]

    @extend_schema(
        operation_id="cycles_item_proof",
        parameters=[SCHEME_PARAM],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    @replica_reads  # 409 not_yet_cleared from a lagging replica is asked again on the primary
    def get(self, request: Request, clr_date: str, setl_id: str) -> Response:
        day = parse_date(clr_date)
        scope = scope_of(request)
        item = ClearingItem.objects.filter(setl_id=setl_id, clr_date=day, scheme=scheme_of(request)).first()
        if item is None or (scope is not None and scope not in (item.payer, item.payee)):
            raise NotFound("No such item.")
        return Response(selectors.item_inclusion_proof(setl_id, day))


class KeySerializer(serializers.Serializer):
    key_id = serializers.CharField()
    algorithm = serializers.CharField()
    public_key_pem = serializers.CharField()
    current = serializers.BooleanField()


class KeyListApi(APIView):
    """``GET /api/v1/keys`` (no auth): ``[{"key_id", "algorithm", "public_key_pem", "current"}]``,
    every signing key ever configured, newest last."""

    permission_classes = [AllowAnyone]
    authentication_classes: list = []

    @extend_schema(operation_id="keys_list", auth=[], responses={200: KeySerializer(many=True)})
    def get(self, request: Request) -> Response:
        keys = signing_keys()
        return Response(
            [
                {
                    "key_id": k.key_id,
                    "algorithm": "Ed25519",
                    "public_key_pem": k.public_pem(),
                    "current": k is keys[-1],
                }
                for k in keys
            ]
        )


class KeyPemApi(APIView):
    """``GET /api/v1/keys/{key_id}.pem`` (no auth): the public key as PEM (SubjectPublicKeyInfo)."""

    permission_classes = [AllowAnyone]
    authentication_classes: list = []

    @extend_schema(
        operation_id="keys_pem",
        auth=[],
        responses={
            (200, "application/x-pem-file"): OpenApiTypes.STR,
            (404, "application/problem+json"): PROBLEM,
        },
    )
    def get(self, request: Request, key_id: str) -> HttpResponse:
        for k in signing_keys():
            if k.key_id == key_id:
                return HttpResponse(k.public_pem(), content_type="application/x-pem-file")
        raise NotFound("No such key.")
