"""The statement and items endpoints with their spreadsheet formats (spec/bureau-api.md §Cycles and
statements): ``GET /api/v1/cycles/{clr_date}/statement`` and ``/items`` answer JSON unchanged
(the views of ``clearing.apis``) and, with ``?format=csv`` or ``?format=xlsx``, the exports of
:mod:`bureau.exports` with Chinese headers and province names. They live here, not in
``clearing``, because the province names belong to ``accounts`` (``clearing`` imports only
``core``).
"""

from __future__ import annotations

import json
import re

from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request

from bureau import exports
from bureau.selectors import province_names
from clearing import selectors
from clearing.apis.common import (
    ADMDVS,
    ERRORS,
    SCHEME_PARAM,
    CSVRenderer,
    parse_date,
    query_param,
    scheme_of,
    scope_of,
    staff_province,
)
from clearing.apis.cycles import StatementApi
from clearing.apis.items import ITEM_PAGE, KINDS, ItemListApi
from clearing.models import ClearingItem, Cycle, Scheme
from core.errors import DomainError
from core.replica import primary_required

FORMATS = re.compile(r"csv|json|xlsx")


class XLSXRenderer(CSVRenderer):
    """Lets ``?format=xlsx`` through DRF's content negotiation (the views build the workbook);
    errors stay problem+json as under :class:`CSVRenderer`."""

    media_type = exports.XLSX_TYPE
    format = "xlsx"
    charset = None  # type: ignore[assignment]  # binary: no charset parameter


RENDERERS: list[type[BaseRenderer]] = [JSONRenderer, CSVRenderer, XLSXRenderer]


def attachment(data: bytes, content_type: str, filename: str) -> HttpResponse:
    resp = HttpResponse(data, content_type=content_type)
    resp["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


def statement_export(doc: dict, fmt: str, *, people: bool = False) -> HttpResponse:
    """The statement document ``doc`` as an ``xlsx`` or ``csv`` attachment."""
    name = f"statement-{doc['clr_date']}-{doc['admdvs']}.{fmt}"
    if fmt == "xlsx":
        return attachment(exports.statement_xlsx(doc, province_names()), exports.XLSX_TYPE, name)
    write = exports.statement_csv if people else exports.statement_csv_machine
    return attachment(write(doc, province_names()), exports.CSV_TYPE, name)


def items_export(qs, fmt: str, clr_date: str, *, people: bool = False,  # noqa: ANN001
                 scheme: str = Scheme.MEDICAL) -> HttpResponseBase:
    """The items of ``qs`` (in ``setl_id`` order) as an xlsx attachment (``422 too_many_rows``
    past Excel's sheet limit: use CSV) or a streamed CSV attachment."""
    names = province_names()
    if fmt == "xlsx":
        if qs.count() > exports.XLSX_MAX_ROWS:
            raise DomainError(
                "too_many_rows", "More items than one spreadsheet holds; use ?format=csv.", field="format"
            )
        return attachment(
            exports.items_xlsx(selectors.items_in_pages(qs), names),
            exports.XLSX_TYPE,
            f"items-{clr_date}.xlsx",
        )
    resp = StreamingHttpResponse(
        exports.items_csv(selectors.items_in_pages(qs), names)
        if people
        else exports.items_csv_machine(selectors.items_in_pages(qs), names, scheme=scheme),
        content_type=exports.CSV_TYPE,
    )
    resp["Content-Disposition"] = f'attachment; filename="items-{clr_date}.csv"'
    return resp


FORMAT_PARAM = OpenApiParameter(
    "format",
    str,
    enum=["csv", "xlsx"],
    description="csv: the contract's field names, then province names; xlsx: localized headers",
)
SPREADSHEETS = {(200, "text/csv"): OpenApiTypes.STR, (200, exports.XLSX_TYPE): OpenApiTypes.BINARY}


class StatementExportApi(StatementApi):
    """``GET /api/v1/cycles/{clr_date}/statement`` (staff add ``?admdvs=``): the JSON envelope of
    :class:`clearing.apis.cycles.StatementApi`, or ``?format=csv|xlsx``."""

    renderer_classes = RENDERERS

    @extend_schema(
        operation_id="cycles_statement",
        parameters=[
            OpenApiParameter("admdvs", str, description="clearing staff: the province"),
            FORMAT_PARAM,
        ],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, **SPREADSHEETS, **ERRORS},
    )
    def get(self, request: Request, clr_date: str) -> HttpResponseBase:  # type: ignore[override]  # streams CSV
        fmt = query_param(request, "format", FORMATS, "csv, xlsx or json")
        if fmt not in ("csv", "xlsx"):
            return super().get(request, clr_date)
        st = selectors.statement_get(parse_date(clr_date), staff_province(request), scheme_of(request))
        return statement_export(json.loads(bytes(st.canonical)), fmt)


class ItemExportApi(ItemListApi):
    """``GET /api/v1/cycles/{clr_date}/items``: the cursor pages of
    :class:`clearing.apis.items.ItemListApi`, or every item as ``?format=csv`` (streamed) or
    ``?format=xlsx``."""

    renderer_classes = RENDERERS

    @extend_schema(
        operation_id="cycles_items",
        parameters=[
            SCHEME_PARAM,
            OpenApiParameter("counterparty", str),
            OpenApiParameter("kind", str, enum=list(ClearingItem.Kind.values)),
            OpenApiParameter("cursor", str),
            OpenApiParameter("page_size", int),
            FORMAT_PARAM,
        ],
        responses={
            (200, "application/json"): ITEM_PAGE,
            **SPREADSHEETS,
            **ERRORS,
        },
    )
    def get(self, request: Request, clr_date: str) -> HttpResponseBase:  # type: ignore[override]  # streams CSV
        fmt = query_param(request, "format", FORMATS, "csv, xlsx or json")
        if fmt not in ("csv", "xlsx"):
            return super().get(request, clr_date)
        day = parse_date(clr_date)
        scheme = scheme_of(request)
        if selectors.cycle_get(day, scheme).status != Cycle.Status.CLOSED:
            primary_required()  # an open or cut cycle's items are read where they are written
        kind = query_param(request, "kind", KINDS, "settlement, reversal, adjustment or acceptance")
        counterparty = query_param(request, "counterparty", ADMDVS, "a province code (6 digits)")
        qs = selectors.items_visible(
            day, scope_of(request), counterparty=counterparty, kind=kind, scheme=scheme
        )
        return items_export(qs, fmt, clr_date, scheme=scheme)
