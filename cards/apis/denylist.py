"""Deny-list endpoints (spec/cards.md §Deny lists): the full list (latest or ``?version=V``) and
deltas (``?since=S``), each as ``{"document", "signature", "key_id"}``, as the exact canonical
bytes (``.json``) and as the raw Ed25519 signature (``.sig``) — verifiable with
``openssl pkeyutl -verify -pubin -inkey key.pem -rawin -in list.json -sigfile list.sig``.
Acceptor clients, card bureaus and clearing staff."""

from __future__ import annotations

import base64
import json
import re

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cards.models import DenyListDocument
from cards.services.denylist import delta_for, fresh_latest, full_document, version_get
from clearing.apis.common import ERRORS, PROBLEM, query_param
from core.permissions import roles

GONE_410 = {(410, "application/problem+json"): PROBLEM}  # delta_unavailable

READERS = roles("acceptor", "card_bureau", "clearing_staff")
VERSION_RE = re.compile(r"[1-9][0-9]{0,17}")


def _answer(doc: DenyListDocument, part: str) -> HttpResponse | Response:
    data = bytes(doc.canonical)
    if part == "json":
        resp = HttpResponse(data, content_type="application/json")
    elif part == "sig":
        resp = HttpResponse(bytes(doc.signature), content_type="application/octet-stream")
    else:
        resp = Response(
            {
                "document": json.loads(data),
                "signature": base64.b64encode(bytes(doc.signature)).decode(),
                "key_id": doc.key_id,
            }
        )
    resp["Cache-Control"] = "private, max-age=60"
    return resp


class DenyListApi(APIView):
    """``GET /api/v1/deny-list`` (latest, or ``?version=V``): the signed full list."""

    permission_classes = [READERS]
    part = "envelope"

    @extend_schema(
        operation_id="deny_list_full",
        parameters=[OpenApiParameter("version", int, description="a version (default: the latest)")],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request: Request) -> HttpResponse | Response:
        raw = query_param(request, "version", VERSION_RE, "a positive integer")
        latest = fresh_latest()
        version = latest if raw is None or int(raw) == latest.version else version_get(int(raw))
        return _answer(full_document(version), self.part)


class DenyListDeltaApi(APIView):
    """``GET /api/v1/deny-list/delta?since=S``: the signed delta from S to the latest; S = latest →
    empty; S beyond the latest → ``422 unknown_version``; S older than the retention → ``410
    delta_unavailable``."""

    permission_classes = [READERS]
    part = "envelope"

    @extend_schema(
        operation_id="deny_list_delta",
        parameters=[
            OpenApiParameter("since", int, required=True, description="the version the reader holds")
        ],
        responses={200: OpenApiTypes.OBJECT, **ERRORS, **GONE_410},
    )
    def get(self, request: Request) -> HttpResponse | Response:
        from core.errors import Invalid, field_error

        raw = query_param(request, "since", VERSION_RE, "a positive integer")
        if raw is None:
            raise Invalid([field_error("since", "required", "the version the reader holds")])
        return _answer(delta_for(int(raw)), self.part)


VERSION_PARAM = [OpenApiParameter("version", int, description="a version (default: the latest)")]
SINCE_PARAM = [OpenApiParameter("since", int, required=True, description="the version the reader holds")]


def _variant(base: type, part: str, op: str, params: list) -> type:
    media = "application/json" if part == "json" else "application/octet-stream"

    class Variant(base):  # type: ignore[misc, valid-type]
        @extend_schema(
            operation_id=op,
            responses={
                (200, media): OpenApiTypes.OBJECT if part == "json" else OpenApiTypes.BINARY,
                **ERRORS,
                **GONE_410,
            },
            parameters=params,
        )
        def get(self, request: Request) -> HttpResponse | Response:
            return super().get(request)

    Variant.part = part
    Variant.__name__ = f"{base.__name__}_{part}"
    Variant.__doc__ = f"{base.__doc__} (.{part})"
    return Variant


DenyListJsonApi = _variant(DenyListApi, "json", "deny_list_full_json", VERSION_PARAM)
DenyListSigApi = _variant(DenyListApi, "sig", "deny_list_full_sig", VERSION_PARAM)
DenyListDeltaJsonApi = _variant(DenyListDeltaApi, "json", "deny_list_delta_json", SINCE_PARAM)
DenyListDeltaSigApi = _variant(DenyListDeltaApi, "sig", "deny_list_delta_sig", SINCE_PARAM)
