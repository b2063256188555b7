"""Deny-list endpoints (spec/cards.md §Deny lists): the full list (latest or ``?version=V``) and
deltas (``?since=S``), each as ``{"document", "signature", "key_id"}``, as the exact canonical
bytes (``.json``) and as the raw Ed25519 signature (``.sig``) — verifiable with
``openssl pkeyutl -verify -pubin -inkey key.pem -rawin -in list.json -sigfile list.sig``.
Acceptor clients, card bureaus and clearing staff."""

from __future__ import annotations

import base64
import json
import re

from django.http import HttpResponse, HttpResponseNotModified
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from cards.services.denylist_serving import Served, delta_for, full_for
from clearing.apis.common import ERRORS, PROBLEM, query_param
from core.permissions import roles

GONE_410 = {(410, "application/problem+json"): PROBLEM}  # delta_unavailable

READERS = roles("acceptor", "card_bureau", "clearing_staff")
VERSION_RE = re.compile(r"[1-9][0-9]{0,17}")


def _answer(request: Request, doc: Served, part: str, *, pinned: bool) -> HttpResponse:
    """The stored bytes as ``part``: ``json`` (the canonical document), ``sig`` (the raw
    signature) or the envelope ``{"document", "signature", "key_id"}`` written around them (no
    re-encoding). ``ETag`` names the bytes; a matching ``If-None-Match`` → ``304``. A pinned
    version (``?version=V``) never changes: cacheable for a day; the latest list and deltas must be
    revalidated (``no-cache``), so a new version is seen at once."""
    etag = doc.etag(part)
    if etag in request.headers.get("If-None-Match", ""):
        resp: HttpResponse = HttpResponseNotModified()
    elif part == "json":
        resp = HttpResponse(doc.canonical, content_type="application/json")
    elif part == "sig":
        resp = HttpResponse(doc.signature, content_type="application/octet-stream")
    else:
        body = b"".join(
            (
                b'{"document":',
                doc.canonical,
                b',"signature":"',
                base64.b64encode(doc.signature),
                b'","key_id":',
                json.dumps(doc.key_id).encode(),
                b"}",
            )
        )
        resp = HttpResponse(body, content_type="application/json")
    resp["ETag"] = etag
    resp["Cache-Control"] = "private, max-age=86400, immutable" if pinned else "private, no-cache"
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
    def get(self, request: Request) -> HttpResponse:
        raw = query_param(request, "version", VERSION_RE, "a positive integer")
        doc = full_for(None if raw is None else int(raw))
        return _answer(request, doc, self.part, pinned=raw is not None)


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
    def get(self, request: Request) -> HttpResponse:
        from core.errors import Invalid, field_error

        raw = query_param(request, "since", VERSION_RE, "a positive integer")
        if raw is None:
            raise Invalid([field_error("since", "required", "the version the reader holds")])
        return _answer(request, delta_for(int(raw)), self.part, pinned=False)


VERSION_PARAM = [OpenApiParameter("version", int, description="a version (default: the latest)")]
SINCE_PARAM = [OpenApiParameter("since", int, required=True, description="the version the reader holds")]


def _variant(base: type[APIView], part: str, op: str, params: list[OpenApiParameter]) -> type[APIView]:
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
        def get(self, request: Request) -> HttpResponse:
            return super().get(request)

    Variant.part = part
    Variant.__name__ = f"{base.__name__}_{part}"
    Variant.__doc__ = f"{base.__doc__} (.{part})"
    return Variant


DenyListJsonApi = _variant(DenyListApi, "json", "deny_list_full_json", VERSION_PARAM)
DenyListSigApi = _variant(DenyListApi, "sig", "deny_list_full_sig", VERSION_PARAM)
DenyListDeltaJsonApi = _variant(DenyListDeltaApi, "json", "deny_list_delta_json", SINCE_PARAM)
DenyListDeltaSigApi = _variant(DenyListDeltaApi, "sig", "deny_list_delta_sig", SINCE_PARAM)
