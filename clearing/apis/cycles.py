"""Cycles, heads, statements, acknowledgement and the staff close (spec/bureau-api.md)."""

from __future__ import annotations

import base64
import json

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clearing import selectors
from clearing.apis.common import (
    ERRORS,
    SCHEME_PARAM,
    CSVRenderer,
    MoneyField,
    RatioField,
    paged,
    parse_date,
    scheme_of,
    scope_of,
    staff_province,
)
from clearing.models import Cycle, NetPosition
from clearing.services.cycles import cycle_open_now, open_cycle_date, published_status
from clearing.services.statements import statement_ack
from core.errors import Invalid, field_error
from core.pagination import PAGE_PARAMETERS, paginate
from core.permissions import roles
from core.principals import request_principal
from core.replica import replica_reads

STAFF = roles("bureau", "card_bureau", "clearing_staff")


class CycleListApi(APIView):
    """``GET /api/v1/cycles?scheme=``: every cycle of the scheme, oldest first, paginated; figures
    null until closed; ``net`` is the caller's province's (null for clearing staff)."""

    permission_classes = [STAFF]

    class OutputSerializer(serializers.Serializer):
        clr_date = serializers.DateField()
        status = serializers.CharField()
        item_cnt = serializers.IntegerField(allow_null=True)
        gross = MoneyField(allow_null=True)
        net_funding = MoneyField(allow_null=True)
        netting_efficiency = RatioField(allow_null=True)
        net = MoneyField(allow_null=True)

    @extend_schema(
        operation_id="cycles_list",
        parameters=[SCHEME_PARAM, *PAGE_PARAMETERS],
        responses={200: paged("CyclePage", OutputSerializer), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope = scope_of(request)
        scheme = scheme_of(request)
        open_date = cycle_open_now(scheme=scheme)  # the clock's state, also before any job ran
        qs = Cycle.objects.filter(scheme=scheme).select_related("head").order_by("clr_date", "id")
        nets = (
            dict(
                NetPosition.objects.filter(admdvs=scope, cycle__scheme=scheme).values_list("cycle_id", "net")
            )
            if scope
            else {}
        )

        def row(c: Cycle) -> dict:
            head = getattr(c, "head", None) if c.status == Cycle.Status.CLOSED else None
            return self.OutputSerializer(
                {
                    "clr_date": c.clr_date,
                    "status": published_status(c, open_date),
                    "item_cnt": head.item_cnt if head else None,
                    "gross": head.gross if head else None,
                    "net_funding": head.net_funding if head else None,
                    "netting_efficiency": head.netting_efficiency if head else None,
                    "net": (nets.get(c.pk, 0) if head else None) if scope else None,
                }
            ).data

        return Response(paginate(request, qs, row))


class CycleDetailApi(APIView):
    """``GET /api/v1/cycles/{clr_date}``: ``{"clr_date", "status", "head", "signature" (base64),
    "key_id"}``; ``head`` null until closed."""

    permission_classes = [STAFF]

    @extend_schema(
        operation_id="cycles_detail",
        parameters=[SCHEME_PARAM],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request: Request, clr_date: str) -> Response:
        scheme = scheme_of(request)
        cycle = selectors.cycle_get(parse_date(clr_date), scheme)
        head = selectors.cycle_head(cycle.clr_date, scheme)
        return Response(
            {
                "clr_date": cycle.clr_date.isoformat(),
                "status": published_status(cycle, open_cycle_date(scheme=scheme)),
                "head": json.loads(bytes(head.canonical)) if head else None,
                "signature": base64.b64encode(bytes(head.signature)).decode() if head else None,
                "key_id": head.key_id if head else None,
            }
        )


def _bytes(data: bytes, content_type: str, filename: str) -> HttpResponse:
    resp = HttpResponse(data, content_type=content_type)
    resp["Content-Disposition"] = f'inline; filename="{filename}"'
    return resp


class HeadBytesApi(APIView):
    """``GET /api/v1/cycles/{clr_date}/head.json`` (canonical bytes) and ``/head.sig`` (raw 64-byte
    Ed25519 signature). ``409 cycle_not_closed`` before the close."""

    permission_classes = [STAFF]
    part = "json"

    @extend_schema(
        operation_id="cycles_head_bytes",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, **ERRORS},
    )
    @replica_reads  # a closed cycle's head never changes (core/replica.py)
    def get(self, request: Request, clr_date: str) -> HttpResponse:
        head = selectors.cycle_head_required(parse_date(clr_date), scheme_of(request))
        if self.part == "json":
            return _bytes(bytes(head.canonical), "application/json", f"head-{clr_date}.json")
        return _bytes(bytes(head.signature), "application/octet-stream", f"head-{clr_date}.sig")


class StatementApi(APIView):
    """``GET /api/v1/cycles/{clr_date}/statement`` (staff add ``?admdvs=``): ``{"statement",
    "key_id", "signature"}``; ``/statement.json`` the canonical bytes, ``/statement.sig`` the raw
    signature. Routed as :class:`bureau.apis.StatementExportApi`, which adds ``?format=csv|xlsx``."""

    permission_classes = [STAFF]
    renderer_classes = [JSONRenderer, CSVRenderer]
    part = "envelope"

    @extend_schema(
        operation_id="cycles_statement",
        parameters=[
            SCHEME_PARAM,
            OpenApiParameter("admdvs", str, description="clearing staff: the province"),
            OpenApiParameter("format", str, enum=["csv"], description="csv: the lines as CSV"),
        ],
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            (200, "text/csv"): OpenApiTypes.STR,
            **ERRORS,
        },
    )
    @replica_reads  # a closed cycle's statement never changes (core/replica.py)
    def get(self, request: Request, clr_date: str) -> HttpResponse:
        scheme = scheme_of(request)
        st = selectors.statement_get(parse_date(clr_date), staff_province(request), scheme)
        data = bytes(st.canonical)
        name = f"statement-{clr_date}-{st.admdvs}" + ("" if scheme == "medical" else f"-{scheme}")
        if self.part == "json":
            return _bytes(data, "application/json", name + ".json")
        if self.part == "sig":
            return _bytes(bytes(st.signature), "application/octet-stream", name + ".sig")
        return Response(
            {
                "statement": json.loads(data),
                "key_id": st.key_id,
                "signature": base64.b64encode(bytes(st.signature)).decode(),
            }
        )


class StatementAckApi(APIView):
    """``POST /api/v1/cycles/{clr_date}/statement/ack``: the bureau confirms its statement; 201
    the first time, 200 unchanged after. ``{"clr_date", "admdvs", "acked_by", "acked_at"}``."""

    permission_classes = [roles("bureau", "card_bureau")]

    @extend_schema(
        operation_id="cycles_statement_ack",
        request=None,
        parameters=[SCHEME_PARAM],
        responses={200: OpenApiTypes.OBJECT, 201: OpenApiTypes.OBJECT, **ERRORS},
    )
    def post(self, request: Request, clr_date: str) -> Response:
        ack, created = statement_ack(
            principal=request.user, clr_date=parse_date(clr_date), scheme=scheme_of(request)
        )
        return Response(
            {
                "clr_date": clr_date,
                "admdvs": request_principal(request).admdvs,
                "acked_by": ack.acked_by,
                "acked_at": ack.acked_at.isoformat(),
            },
            status=201 if created else 200,
        )


class CycleCloseApi(APIView):
    """``POST /api/v1/cycles/{clr_date}/close`` (clearing staff), optional body ``{"scheme"}``
    (default ``medical``; spec/cards.md): 202 ``{"task_id"}`` when the close is queued, 200
    ``{"clr_date", "status", "head_sha256"}`` when already closed. Errors of the close
    (``409 previous_cycle_open``, ``422 cycle_not_open``) are checked before queuing."""

    permission_classes = [roles("clearing_staff")]
    body_fields = frozenset({"scheme"})

    @extend_schema(
        operation_id="cycles_close",
        request=inline_serializer(
            "CycleCloseRequest",
            {"scheme": serializers.ChoiceField(choices=["medical", "card"], required=False)},
        ),
        responses={
            200: OpenApiTypes.OBJECT,
            202: OpenApiTypes.OBJECT,
            **ERRORS,
        },
    )
    def post(self, request: Request, clr_date: str) -> Response:
        from clearing.services.close import close_precheck
        from clearing.tasks import close_cycle

        day = parse_date(clr_date)
        scheme = scheme_of(request, _body_scheme(request))
        closed = close_precheck(day, scheme=scheme)
        if closed is None:
            result = close_cycle.delay(day.isoformat(), request_principal(request).actor, scheme)
            return Response(
                {"task_id": result.id, "clr_date": day.isoformat(), "scheme": scheme}, status=202
            )
        return Response(
            {"clr_date": day.isoformat(), "status": "closed", "head_sha256": closed.sha256, "scheme": scheme}
        )


def _body_scheme(request: Request) -> str | None:
    """``scheme`` of the close's optional JSON body ``{"scheme"}`` (``None`` without one: then
    ``?scheme=`` or the default decides). A ``scheme`` that is not a string → ``400 invalid``.
    Other fields are left to the strict-body rules of the parser, as before this field existed."""
    data = request.data if request.body else {}
    value = data.get("scheme") if isinstance(data, dict) else None
    if value is not None and not isinstance(value, str):
        raise Invalid([field_error("scheme", "invalid", "medical or card")])
    return value


class HeadJsonApi(HeadBytesApi):
    """``GET /api/v1/cycles/{clr_date}/head.json``: the head's RFC 8785 canonical bytes."""

    part = "json"

    @extend_schema(
        operation_id="cycles_head_json",
        parameters=[SCHEME_PARAM],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request: Request, clr_date: str) -> HttpResponse:
        return super().get(request, clr_date)


class HeadSigApi(HeadBytesApi):
    """``GET /api/v1/cycles/{clr_date}/head.sig``: the raw 64-byte Ed25519 signature."""

    part = "sig"

    @extend_schema(
        operation_id="cycles_head_sig",
        parameters=[SCHEME_PARAM],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, **ERRORS},
    )
    def get(self, request: Request, clr_date: str) -> HttpResponse:
        return super().get(request, clr_date)


class StatementJsonApi(StatementApi):
    """``GET /api/v1/cycles/{clr_date}/statement.json`` (staff add ``?admdvs=``): canonical bytes."""

    part = "json"

    @extend_schema(
        operation_id="cycles_statement_json",
        parameters=[SCHEME_PARAM, OpenApiParameter("admdvs", str)],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request: Request, clr_date: str) -> HttpResponse:
        return super().get(request, clr_date)


class StatementSigApi(StatementApi):
    """``GET /api/v1/cycles/{clr_date}/statement.sig`` (staff add ``?admdvs=``): raw signature."""

    part = "sig"

    @extend_schema(
        operation_id="cycles_statement_sig",
        parameters=[SCHEME_PARAM, OpenApiParameter("admdvs", str)],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, **ERRORS},
    )
    def get(self, request: Request, clr_date: str) -> HttpResponse:
        return super().get(request, clr_date)
