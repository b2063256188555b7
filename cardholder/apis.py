"""Cardholder API under ``/api/v1`` (spec/cardholder-api.md). Thin views: parse, call one service or
selector, serialize. Errors are raised by the services and answered as problem+json."""
from __future__ import annotations

from typing import Literal, overload

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cardholder import selectors, services
from core.errors import Invalid, field_error
from core.fields import MoneyField, RatioField
from core.pagination import PAGE_PARAMETERS, paginate
from core.permissions import AllowAnyone, roles
from core.principals import request_principal
from core.replica import replica_reads

PROBLEM = OpenApiResponse(description="problem+json (RFC 9457) with a stable `code`")


def client_address(request: Request) -> str:
    """The peer address the lockouts count by (``REMOTE_ADDR``; a proxy must set it)."""
    return request._request.META.get("REMOTE_ADDR", "") or "unknown"


@overload
def year_param(request: Request, *, required: Literal[True]) -> int: ...


@overload
def year_param(request: Request, *, required: bool) -> int | None: ...


def year_param(request: Request, *, required: bool) -> int | None:
    """``?year=`` as a 4-digit year; ``400 invalid`` naming ``year`` otherwise."""
    raw = request.query_params.get("year")
    if raw is None or raw == "":
        if required:
            return selectors.today_shanghai().year
        return None
    if not (len(raw) == 4 and raw.isdigit() and 1900 <= int(raw) <= 2999):
        raise Invalid([field_error("year", "invalid_year", "year must be a 4-digit year.")])
    return int(raw)


class ActivateApi(APIView):
    """``POST /api/v1/cardholder/activate`` ``{"certno", "card_no", "password"}`` → ``201
    {"psn_no", "active": true}``. ``422 activation_failed`` for wrong or unknown details (no hint
    which), ``409 already_active``, ``400 invalid`` (certno format, password < 10 chars),
    ``429 too_many_attempts``."""

    permission_classes = [AllowAnyone]
    authentication_classes: list = []

    class InputSerializer(serializers.Serializer):
        certno = serializers.CharField(max_length=40)
        card_no = serializers.CharField(max_length=60)
        password = serializers.CharField(max_length=128, trim_whitespace=False)

    class OutputSerializer(serializers.Serializer):
        psn_no = serializers.CharField(allow_null=True, help_text="null for a card-only holder")
        active = serializers.BooleanField()

    @extend_schema(operation_id="cardholder_activate", request=InputSerializer,
                   responses={201: OutputSerializer, 400: PROBLEM, 409: PROBLEM, 422: PROBLEM, 429: PROBLEM})
    def post(self, request: Request) -> Response:
        data = self._valid(request)
        login = services.cardholder_activate(address=client_address(request), **data)
        psn_no = login.person.psn_no if login.person is not None else None
        return Response(self.OutputSerializer({"psn_no": psn_no, "active": True}).data, status=201)

    def _valid(self, request: Request) -> dict[str, str]:
        s = self.InputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        return dict(s.validated_data)


class TokenApi(APIView):
    """``POST /api/v1/cardholder/token`` ``{"certno", "password"}`` → ``{"token", "expires_at"}``
    (bearer, 12 h). ``401 invalid_credentials``; ``429 too_many_attempts`` with ``Retry-After`` after
    5 failures per (certno, address) in 15 min or 20 per certno in an hour."""

    permission_classes = [AllowAnyone]
    authentication_classes: list = []

    class InputSerializer(serializers.Serializer):
        certno = serializers.CharField(max_length=40)
        password = serializers.CharField(max_length=128, trim_whitespace=False)

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        expires_at = serializers.DateTimeField()

    @extend_schema(operation_id="cardholder_token", request=InputSerializer,
                   responses={200: OutputSerializer, 400: PROBLEM, 401: PROBLEM, 429: PROBLEM})
    def post(self, request: Request) -> Response:
        s = self.InputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        issued = services.cardholder_token_create(address=client_address(request), **s.validated_data)
        return Response(self.OutputSerializer(issued).data)


class LogoutApi(APIView):
    """``POST /api/v1/cardholder/logout`` → ``204``: revokes the calling token."""

    permission_classes = [roles("cardholder")]

    @extend_schema(operation_id="cardholder_logout", request=None, responses={204: None, 401: PROBLEM})
    def post(self, request: Request) -> Response:
        principal = request_principal(request)
        services.token_revoke(token=principal.token, login=principal.holder, person=principal.person)
        return Response(status=204)


class PasswordApi(APIView):
    """``POST /api/v1/me/password`` ``{"old", "new"}`` → ``204``; revokes every other token.
    ``422 wrong_password`` (field ``old``), ``400 invalid`` (``new`` < 10 chars)."""

    permission_classes = [roles("cardholder")]

    class InputSerializer(serializers.Serializer):
        old = serializers.CharField(max_length=128, trim_whitespace=False)
        new = serializers.CharField(max_length=128, trim_whitespace=False)

    @extend_schema(operation_id="me_password", request=InputSerializer,
                   responses={204: None, 400: PROBLEM, 422: PROBLEM})
    def post(self, request: Request) -> Response:
        s = self.InputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        principal = request_principal(request)
        services.password_change(login=principal.holder, person=principal.person, keep_token=principal.token,
                                 **s.validated_data)
        return Response(status=204)


class MeApi(APIView):
    """``GET /api/v1/me``: own ``psn_no``, masked ``certno``, ``psn_name``, ``insutype``,
    ``insuplc_admdvs``, ``acct_balc`` (personal-account balance) and current and future filings.
    A card-only holder (no medical person) gets its name and cards only: ``{"psn_name", "cards"}``
    (each card as ``GET /api/v1/me/cards`` shows it, masked; spec/cards.md §Changes to other parts)."""

    permission_classes = [roles("cardholder")]

    class FilingSerializer(serializers.Serializer):
        filing_type = serializers.CharField()
        mdtrtarea_admvs = serializers.CharField()
        begndate = serializers.DateField()
        enddate = serializers.DateField()
        current = serializers.BooleanField(help_text="valid today (else it starts later)")

    class OutputSerializer(serializers.Serializer):
        psn_no = serializers.CharField()
        certno = serializers.CharField(help_text="masked: 3401**********1234")
        psn_name = serializers.CharField()
        insutype = serializers.CharField()
        insuplc_admdvs = serializers.CharField()
        psn_insu_stas = serializers.CharField()
        acct_balc = MoneyField()
        filings = serializers.ListField(child=serializers.DictField())

    class CardOnlySerializer(serializers.Serializer):
        psn_name = serializers.CharField()
        cards = serializers.ListField(child=serializers.DictField(), help_text="as GET /me/cards, masked")

    @extend_schema(operation_id="me", responses={
        200: PolymorphicProxySerializer(component_name="Me", resource_type_field_name=None,
                                        serializers=[OutputSerializer, CardOnlySerializer]),
        401: PROBLEM, 403: PROBLEM})
    def get(self, request: Request) -> Response:
        principal = request_principal(request)
        if principal.person is None:
            return Response(selectors.card_only_profile(principal=principal))
        profile = selectors.person_profile(person=principal.person)
        profile["filings"] = self.FilingSerializer(profile["filings"], many=True).data
        return Response(self.OutputSerializer(profile).data)


class RecordSerializer(serializers.Serializer):
    """One settlement or reversal of the cardholder (NHSA names; amounts as 2-place strings)."""

    setl_id = serializers.CharField()
    setl_time = serializers.DateTimeField()
    status = serializers.CharField(help_text="settled, reversed or reversal")
    orig_setl_id = serializers.CharField(allow_null=True, help_text="reversal: the settlement it reverses")
    fixmedins_code = serializers.CharField()
    fixmedins_name = serializers.CharField()
    mdtrtarea_admvs = serializers.CharField()
    med_type = serializers.CharField()
    insutype = serializers.CharField()
    medfee_sumamt = MoneyField()
    fulamt_ownpay_amt = MoneyField()
    overlmt_selfpay = MoneyField()
    preselfpay_amt = MoneyField()
    inscp_scp_amt = MoneyField()
    act_pay_dedc = MoneyField()
    pool_prop_selfpay = RatioField()
    hifp_pay = MoneyField()
    fund_pay_sumamt = MoneyField()
    psn_part_amt = MoneyField()
    acct_pay = MoneyField()
    psn_cash_pay = MoneyField()
    balc = MoneyField()
    clr_amt = MoneyField()
    clr_date = serializers.DateField()
    cycle_closed = serializers.BooleanField()


class SettlementsApi(APIView):
    """``GET /api/v1/me/settlements?year=&page=&page_size=``: own settlements and reversals, newest
    first (time, then id), paginated ``{"count", "next", "previous", "results"}`` by
    :mod:`core.pagination` (keyset ``next``/``previous``: rows settled meanwhile never shift a page)."""

    permission_classes = [roles("cardholder")]

    class OutputSerializer(serializers.Serializer):
        count = serializers.IntegerField()
        next = serializers.URLField(allow_null=True)
        previous = serializers.URLField(allow_null=True)
        results = RecordSerializer(many=True)

    @extend_schema(operation_id="me_settlements",
                   parameters=[OpenApiParameter("year", int, description="settlement day's year (optional)"),
                               *PAGE_PARAMETERS],
                   responses={200: OutputSerializer, 400: PROBLEM, 401: PROBLEM})
    @replica_reads  # history: lag-tolerant (core/replica.py)
    def get(self, request: Request) -> Response:
        year = year_param(request, required=False)
        person = request_principal(request).person
        page = paginate(request, selectors.person_record_rows(person=person, year=year))
        page["results"] = selectors.records_of(page["results"])
        return Response(self.OutputSerializer(page).data)


class AccumulatorsApi(APIView):
    """``GET /api/v1/me/accumulators?year=`` (default: this year, Asia/Shanghai): per ``insutype``
    and med_type group, deductible/used/remaining (remaining only for the year basis) and annual
    cap/fund paid/remaining under the policy valid today."""

    permission_classes = [roles("cardholder")]

    class AccumulatorSerializer(serializers.Serializer):
        insutype = serializers.CharField()
        med_type_group = serializers.CharField()
        deductible = MoneyField(allow_null=True)
        deductible_basis = serializers.CharField(allow_null=True)
        deductible_used = MoneyField()
        deductible_remaining = MoneyField(allow_null=True)
        annual_cap = MoneyField(allow_null=True)
        fund_paid = MoneyField()
        fund_remaining = MoneyField(allow_null=True)

    class OutputSerializer(serializers.Serializer):
        year = serializers.IntegerField()
        results = serializers.ListField(child=serializers.DictField())

    @extend_schema(operation_id="me_accumulators",
                   parameters=[OpenApiParameter("year", int, description="calendar year (default: now)")],
                   responses={200: OutputSerializer, 400: PROBLEM, 401: PROBLEM})
    def get(self, request: Request) -> Response:
        year = year_param(request, required=True)
        views = selectors.person_accumulator_views(person=request_principal(request).person, year=year)
        results = self.AccumulatorSerializer(views, many=True).data
        return Response(self.OutputSerializer({"year": year, "results": results}).data)


class ReceiptApi(APIView):
    """``GET /api/v1/me/settlements/{setl_id}/receipt``: the inclusion proof and signed cycle head
    (spec/clearing.md §Receipts). ``409 not_yet_cleared`` before the close; another person's
    ``setl_id`` → ``404``."""

    permission_classes = [roles("cardholder")]

    class OutputSerializer(serializers.Serializer):
        leaf = serializers.CharField(help_text="the leaf's RFC 8785 canonical JSON, as a string")
        leaf_index = serializers.IntegerField()
        tree_size = serializers.IntegerField()
        audit_path = serializers.ListField(child=serializers.CharField(), help_text="hex, leaf side first")
        merkle_root = serializers.CharField(help_text="hex")
        head = serializers.DictField(help_text="the signed cycle head")
        head_signature = serializers.CharField(help_text="base64 of the raw 64-byte Ed25519 signature")
        key_id = serializers.CharField()

    @extend_schema(operation_id="me_receipt", responses={200: OutputSerializer, 404: PROBLEM, 409: PROBLEM})
    @replica_reads  # a receipt exists once the cycle is closed; 404/409 are asked again on the primary
    def get(self, request: Request, setl_id: str) -> Response:
        # The clearing house's document is passed through unchanged: its bytes are what is signed.
        person = request_principal(request).person
        return Response(selectors.person_receipt(person=person, setl_id=setl_id))
