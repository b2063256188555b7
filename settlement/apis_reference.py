"""Bureau uploads of the settlement rules (spec/bureau-api.md §Reference data): catalogue,
policies, opening accumulators. Thin: parse rows, call one service, serialize."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.parsers import UPLOAD_BODY_FIELDS, CsvRowsParser, upload_rows
from core.errors import problem_response
from core.fields import ImportResultSerializer
from core.imports import ImportResult
from core.parsers import StrictJSONParser
from core.permissions import roles
from core.principals import request_principal
from settlement.services import reference


class _UploadApi(APIView):
    """Bureau upload (JSON list or ``text/csv``) of the caller's own province only (spec/security.md
    §Scopes: clearing staff do not write reference data; ``manage.py import_reference`` loads any).
    Rows of another province are rejected ``wrong_province``. Overlapping validity answers ``422``
    with the code and the result document (nothing written)."""

    permission_classes = [roles("bureau")]
    parser_classes = [StrictJSONParser, CsvRowsParser]
    body_fields = UPLOAD_BODY_FIELDS  # a JSON list, or {"items": [...]}
    OutputSerializer = ImportResultSerializer
    overlap_code = ""

    def importer(self, **kw: Any) -> ImportResult:
        raise NotImplementedError

    def post(self, request: Request) -> Response:
        who = request_principal(request)
        principal = who
        result = self.importer(rows=upload_rows(request.data), province=principal.admdvs, principal=principal)
        body = result.as_dict()
        if self.overlap_code and any(r["code"] == self.overlap_code for r in result.rejected):
            return problem_response(
                422, self.overlap_code, "Rows overlap the validity of another version.", **body
            )
        return Response(body)


class CatalogueUploadApi(_UploadApi):
    """``POST /api/v1/catalogue``: the province's catalogue rows (``catalogue.csv``)."""

    overlap_code = "overlapping_catalogue"

    def importer(self, **kw: Any) -> ImportResult:
        return reference.catalogue_import(**kw)

    @extend_schema(
        operation_id="catalogue_upload",
        request={"application/json": {"type": "array"}, "text/csv": {}},
        responses={200: ImportResultSerializer},
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class PoliciesUploadApi(_UploadApi):
    """``POST /api/v1/policies``: the province's policies (``policies.csv``)."""

    overlap_code = "overlapping_policy"

    def importer(self, **kw: Any) -> ImportResult:
        return reference.policies_import(**kw)

    @extend_schema(
        operation_id="policies_upload",
        request={"application/json": {"type": "array"}, "text/csv": {}},
        responses={200: ImportResultSerializer},
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class AccumulatorsUploadApi(_UploadApi):
    """``POST /api/v1/accumulators``: opening accumulators (``accumulators.csv``)."""

    def importer(self, **kw: Any) -> ImportResult:
        return reference.accumulators_import(**kw)

    @extend_schema(
        operation_id="accumulators_upload",
        request={"application/json": {"type": "array"}, "text/csv": {}},
        responses={200: ImportResultSerializer},
    )
    def post(self, request: Request) -> Response:
        return super().post(request)
