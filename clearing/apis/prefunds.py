"""Prefunds and alerts (spec/bureau-api.md §Prefunds and alerts)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clearing import selectors
from clearing.apis.common import ERRORS, SCHEME_PARAM, MoneyField, paged, scheme_of, scope_of
from clearing.models import Alert, PrefundAccount, PrefundPosting
from clearing.services.prefunds import prefund_post
from core.pagination import PAGE_PARAMETERS, paginate
from core.permissions import roles

STAFF = roles("bureau", "card_bureau", "clearing_staff")


class PostingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    amount = MoneyField()
    value_date = serializers.DateField()
    reference = serializers.CharField()
    balance_after = MoneyField()
    clr_date = serializers.DateField(source="cycle.clr_date", allow_null=True)
    created_by = serializers.CharField()
    created_at = serializers.DateTimeField()


class PrefundListApi(APIView):
    """``GET /api/v1/prefunds``: paginated ``{"admdvs", "baseline", "balance", "postings": [...]}``
    — the caller's province (staff: all), postings oldest first."""

    permission_classes = [STAFF]

    class OutputSerializer(serializers.Serializer):
        admdvs = serializers.CharField()
        baseline = MoneyField()
        balance = MoneyField()
        postings = PostingSerializer(many=True)

    @extend_schema(
        operation_id="prefunds_list",
        parameters=[SCHEME_PARAM, *PAGE_PARAMETERS],
        responses={200: paged("PrefundPage", OutputSerializer), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope = scope_of(request)
        qs = (
            PrefundAccount.objects.filter(scheme=scheme_of(request))
            .prefetch_related("postings__cycle")
            .order_by("admdvs")
        )
        if scope is not None:
            qs = qs.filter(admdvs=scope)
        return Response(
            paginate(
                request,
                qs,
                lambda a: (
                    self.OutputSerializer(
                        {
                            "admdvs": a.admdvs,
                            "baseline": a.baseline,
                            "balance": a.balance,
                            "postings": list(a.postings.all()),
                        }
                    ).data
                ),
            )
        )


class PrefundPostApi(APIView):
    """``POST /api/v1/prefunds/{admdvs}/deposits`` and ``/withdrawals`` (clearing staff):
    ``{"amount", "value_date", "reference"}``; idempotent on ``reference`` (201 new, 200 replay);
    ``409 reference_conflict``; ``422 insufficient_prefund`` for a withdrawal over the balance."""

    permission_classes = [roles("clearing_staff")]
    kind = PrefundPosting.Kind.DEPOSIT

    class InputSerializer(serializers.Serializer):
        amount = MoneyField()
        value_date = serializers.DateField()
        reference = serializers.CharField(max_length=64)

    @extend_schema(
        operation_id="prefunds_post",
        request=InputSerializer,
        responses={200: PostingSerializer, 201: PostingSerializer, **ERRORS},
    )
    def post(self, request: Request, admdvs: str) -> Response:
        s = self.InputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        posting, created = prefund_post(
            admdvs=admdvs,
            kind=self.kind,
            principal=request.user,
            scheme=scheme_of(request),
            **s.validated_data,
        )
        return Response(PostingSerializer(posting).data, status=201 if created else 200)


class AlertListApi(APIView):
    """``GET /api/v1/alerts``: the caller's province's (staff: all) ``low_prefund`` and
    ``funding_call`` alerts, then ``dispute_overdue`` for open disputes past
    ``DISPUTE_RESOLUTION_DAYS``."""

    permission_classes = [STAFF]

    @extend_schema(
        operation_id="alerts_list",
        parameters=[SCHEME_PARAM, *PAGE_PARAMETERS],
        responses={200: paged("AlertPage", serializers.ListField(child=serializers.DictField())), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope = scope_of(request)
        scheme = scheme_of(request)
        alerts = Alert.objects.filter(cycle__scheme=scheme)
        if scope is not None:
            alerts = alerts.filter(admdvs=scope)
        out: list[dict[str, object]] = [
            {
                "kind": a.kind,
                "admdvs": a.admdvs,
                "clr_date": a.cycle.clr_date.isoformat(),
                "amount": MoneyField().to_representation(a.amount),
                "threshold": MoneyField().to_representation(a.threshold),
                "due_at": a.due_at.isoformat() if a.due_at else None,
                "created_at": a.created_at.isoformat(),
            }
            for a in alerts.select_related("cycle").order_by("created_at", "id")
        ]
        overdue = selectors.disputes_overdue(scope, scheme)
        out += [
            {
                "kind": "dispute_overdue",
                "admdvs": scope or d.payee,
                "payer": d.payer,
                "payee": d.payee,
                "dispute_id": d.pk,
                "setl_id": d.setl_id,
                "status": d.status,
                "opened_at": d.opened_at.isoformat(),
            }
            for d in overdue
        ]
        return Response(paginate(request, out, lambda row: row))


class PrefundDepositApi(PrefundPostApi):
    """``POST /api/v1/prefunds/{admdvs}/deposits`` (clearing staff): a deposit, idempotent on
    ``reference``."""

    kind = PrefundPosting.Kind.DEPOSIT

    @extend_schema(
        operation_id="prefunds_deposit",
        parameters=[SCHEME_PARAM],
        request=PrefundPostApi.InputSerializer,
        responses={200: PostingSerializer, 201: PostingSerializer, **ERRORS},
    )
    def post(self, request: Request, admdvs: str) -> Response:
        return super().post(request, admdvs)


class PrefundWithdrawalApi(PrefundPostApi):
    """``POST /api/v1/prefunds/{admdvs}/withdrawals`` (clearing staff): a withdrawal, idempotent on
    ``reference``; ``422 insufficient_prefund`` over the balance."""

    kind = PrefundPosting.Kind.WITHDRAWAL

    @extend_schema(
        operation_id="prefunds_withdrawal",
        parameters=[SCHEME_PARAM],
        request=PrefundPostApi.InputSerializer,
        responses={200: PostingSerializer, 201: PostingSerializer, **ERRORS},
    )
    def post(self, request: Request, admdvs: str) -> Response:
        return super().post(request, admdvs)
