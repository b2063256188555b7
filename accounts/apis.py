"""Bureau reference-data endpoints of accounts (spec/bureau-api.md §Reference data; scopes of
spec/security.md §Scopes). Thin views: parse, call one service or selector, serialize."""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors
from accounts.certno import mask_certno, mask_name
from accounts.parsers import UPLOAD_BODY_FIELDS, CsvRowsParser, upload_rows
from accounts.regions import province_of
from accounts.services import (
    account_credit_create,
    filing_create,
    filing_revoke,
    filings_import,
    persons_import,
)
from core.errors import Forbidden, Invalid, field_error
from core.fields import ImportResultSerializer, MoneyField
from core.pagination import PAGE_PARAMETERS, page_schema, paginate
from core.parsers import StrictJSONParser
from core.permissions import province_scope, roles
from core.principals import request_principal

PROBLEM = OpenApiResponse(description="problem+json (RFC 9457) with a stable `code`")
MAX_UPLOAD_ROWS = 100_000



class PersonRowSerializer(serializers.Serializer):
    """One row of ``persons.csv`` (all strings)."""

    psn_no = serializers.CharField()
    psn_cert_type = serializers.CharField(required=False)
    certno = serializers.CharField()
    psn_name = serializers.CharField()
    gend = serializers.CharField(required=False)
    brdy = serializers.CharField(required=False)
    insutype = serializers.CharField()
    insuplc_admdvs = serializers.CharField()
    psn_insu_stas = serializers.CharField(required=False)
    card_no = serializers.CharField(required=False)
    card_sn = serializers.CharField(required=False)
    acct_balc = serializers.CharField(required=False, help_text="opening balance, used only on create")


class FilingRowSerializer(serializers.Serializer):
    """One row of ``filings.csv``."""

    psn_no = serializers.CharField()
    filing_type = serializers.ChoiceField(choices=["11", "12", "13", "21", "22", "23"])
    mdtrtarea_admvs = serializers.RegexField(r"^\d{6}$")
    begndate = serializers.DateField()
    enddate = serializers.DateField()


def _bureau_province(request: Request) -> str:
    admdvs = request_principal(request).admdvs
    if admdvs is None:  # a bureau always has its province; nobody else reaches these views
        raise Forbidden()
    return province_of(admdvs)


def _rows(request: Request) -> list[dict[str, str]]:
    rows = upload_rows(request.data)
    if len(rows) > MAX_UPLOAD_ROWS:
        raise Invalid([field_error("body", "too_many_rows", f"at most {MAX_UPLOAD_ROWS} rows per call")])
    return rows


UPLOAD_REQUEST = {"application/json": PersonRowSerializer(many=True), "text/csv": OpenApiTypes.STR}


class PersonsUploadApi(APIView):
    """``POST /api/v1/persons``: the bureau's insured persons, a JSON list or ``text/csv`` in the
    format of ``persons.csv`` (≤ 100,000 rows). Upsert on ``psn_no``; answers the counts
    ``{"received", "created", "updated", "unchanged", "rejected": [{"row", "field", "code"}]}``.
    Bureau only; rows of another province → rejected ``wrong_province``."""

    permission_classes = [roles("bureau")]
    parser_classes = [StrictJSONParser, CsvRowsParser]
    body_fields = UPLOAD_BODY_FIELDS

    @extend_schema(operation_id="persons_upload", request=UPLOAD_REQUEST,
                   responses={200: ImportResultSerializer, 400: PROBLEM, 403: PROBLEM, 413: PROBLEM})
    def post(self, request: Request) -> Response:
        result = persons_import(rows=_rows(request), province=_bureau_province(request),
                                principal=request_principal(request))
        return Response(ImportResultSerializer(result.as_dict()).data)


class PersonDetailApi(APIView):
    """``GET /api/v1/persons/{psn_no}``: the person with ``certno`` and name masked
    (``3401**********1234``, ``示**``). Bureau of the person's province or clearing staff; others'
    persons → ``404``. Each read is audited."""

    permission_classes = [roles("bureau", "clearing_staff")]

    class OutputSerializer(serializers.Serializer):
        psn_no = serializers.CharField()
        psn_cert_type = serializers.CharField()
        certno = serializers.CharField(help_text="masked")
        psn_name = serializers.CharField(help_text="masked")
        gend = serializers.CharField()
        brdy = serializers.DateField(allow_null=True)
        insutype = serializers.CharField()
        insuplc_admdvs = serializers.CharField()
        psn_insu_stas = serializers.CharField()
        acct_balc = MoneyField()

    @extend_schema(operation_id="person_get", responses={200: OutputSerializer, 404: PROBLEM})
    def get(self, request: Request, psn_no: str) -> Response:
        person = selectors.person_for_staff(psn_no=psn_no, principal=request_principal(request))
        data = {"psn_no": person.psn_no, "psn_cert_type": person.psn_cert_type,
                "certno": mask_certno(selectors.person_certno(person)),
                "psn_name": mask_name(selectors.person_name(person)), "gend": person.gend,
                "brdy": person.brdy,
                "insutype": person.insutype, "insuplc_admdvs": person.insuplc_admdvs,
                "psn_insu_stas": person.psn_insu_stas, "acct_balc": person.acct_balance}
        return Response(self.OutputSerializer(data).data)


class AccountCreditCreateApi(APIView):
    """``POST /api/v1/persons/{psn_no}/account-credits``: ``{"amount", "value_date", "reference"}``
    credits the personal account (划入). ``201`` when recorded, ``200`` with the same body when the
    reference was already recorded with the same figures; other figures → ``409 reference_conflict``;
    insutype 390 → ``422 no_personal_account``. Bureau of the person's province only (others → 404)."""

    permission_classes = [roles("bureau")]

    class InputSerializer(serializers.Serializer):
        amount = MoneyField()
        value_date = serializers.DateField()
        reference = serializers.CharField(max_length=64)

    class OutputSerializer(serializers.Serializer):
        psn_no = serializers.CharField(source="person.psn_no")
        amount = MoneyField()
        value_date = serializers.DateField()
        reference = serializers.CharField()
        acct_balc = MoneyField(source="balance_after", help_text="balance right after this credit")
        created_at = serializers.DateTimeField()

    @extend_schema(operation_id="account_credit_create", request=InputSerializer,
                   responses={201: OutputSerializer, 200: OutputSerializer, 400: PROBLEM, 404: PROBLEM,
                              409: PROBLEM, 422: PROBLEM})
    def post(self, request: Request, psn_no: str) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        principal = request_principal(request)
        person = selectors.person_for_staff(psn_no=psn_no, principal=principal, audit_action="")
        credit, created = account_credit_create(person=person, principal=principal, **data.validated_data)
        return Response(self.OutputSerializer(credit).data, status=201 if created else 200)


class FilingOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    psn_no = serializers.CharField(source="person.psn_no")
    filing_type = serializers.CharField()
    mdtrtarea_admvs = serializers.CharField()
    begndate = serializers.DateField()
    enddate = serializers.DateField()
    temporary = serializers.BooleanField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    created_by_settlement = serializers.BooleanField()


class FilingsApi(APIView):
    """``GET /api/v1/filings?psn_no=``: the person's filings (bureau of its province, clearing
    staff; others → 404), paginated ``{"count", "next", "previous", "results"}`` (:mod:`core.pagination`).

    ``POST /api/v1/filings`` (bureau): one filing as a JSON object → ``201`` with the filing; or a
    JSON list / ``text/csv`` in the format of ``filings.csv`` → the upload counts
    (``{"received", "created", "updated", "unchanged", "rejected"}``). Other provinces' persons are
    rejected (``wrong_province``; ``404`` for a single filing)."""

    parser_classes = [StrictJSONParser, CsvRowsParser]
    body_fields = UPLOAD_BODY_FIELDS | frozenset(FilingRowSerializer().fields)  # one filing, or an upload

    def get_permissions(self) -> list:
        allowed = ("bureau", "clearing_staff") if self.request.method == "GET" else ("bureau",)
        return [roles(*allowed)()]

    @extend_schema(operation_id="filings_list",
                   parameters=[OpenApiParameter("psn_no", str, required=True), *PAGE_PARAMETERS],
                   responses={200: page_schema("FilingPage", FilingOutputSerializer),
                              400: PROBLEM, 404: PROBLEM})
    def get(self, request: Request) -> Response:
        psn_no = request.query_params.get("psn_no", "").strip()
        if not psn_no:
            raise Invalid([field_error("psn_no", "required", "psn_no is required")])
        person = selectors.person_for_staff(psn_no=psn_no, principal=request_principal(request))
        filings = selectors.filings_of_person(person=person).select_related("person")
        return Response(paginate(request, filings, lambda f: FilingOutputSerializer(f).data))

    @extend_schema(operation_id="filings_create",
                   request={"application/json": FilingRowSerializer, "text/csv": OpenApiTypes.STR},
                   responses={201: FilingOutputSerializer, 200: ImportResultSerializer, 400: PROBLEM,
                              403: PROBLEM, 404: PROBLEM})
    def post(self, request: Request) -> Response:
        province = _bureau_province(request)
        principal = request_principal(request)
        if isinstance(request.data, dict) and "items" not in request.data:
            data = FilingRowSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            fields = dict(data.validated_data)
            psn_no = fields.pop("psn_no")
            person = selectors.person_for_staff(psn_no=psn_no, principal=principal, audit_action="")
            filing = filing_create(person=person, principal=principal, **fields)
            return Response(FilingOutputSerializer(filing).data, status=201)
        result = filings_import(rows=_rows(request), province=province, principal=principal)
        return Response(ImportResultSerializer(result.as_dict()).data)


class FilingRevokeApi(APIView):
    """``DELETE /api/v1/filings/{id}`` (撤销): bureau of the person's province; only current or
    future filings (``422 filing_ended``); ``409 already_revoked``; others' filings → ``404``.
    Answers ``200`` with the revoked filing."""

    permission_classes = [roles("bureau")]

    @extend_schema(operation_id="filing_revoke", request=None,
                   responses={200: FilingOutputSerializer, 404: PROBLEM, 409: PROBLEM, 422: PROBLEM})
    def delete(self, request: Request, filing_id: int) -> Response:
        filing = filing_revoke(filing_id=filing_id, principal=request_principal(request),
                               province=province_scope(request_principal(request)))
        return Response(FilingOutputSerializer(filing).data)
