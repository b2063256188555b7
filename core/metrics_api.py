"""``GET /metrics`` (spec/operations.md §Observability): the Prometheus text format of
:mod:`core.metrics`, for clearing staff (bearer token) or Prometheus with the scrape token
``METRICS_SCRAPE_TOKEN`` (``Authorization: Bearer <token>``). Anyone else: ``401``/``403``
problem+json. Also the platform's own scrape-time gauges (audit records not yet sealed)."""
from __future__ import annotations

import hmac
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from core import metrics
from core.auth import BearerTokenAuthentication
from core.principals import Principal

SCRAPER = "metrics_scraper"


class ScrapeTokenAuthentication(BaseAuthentication):
    """The scrape token from the environment, compared in constant time. Any other bearer token is
    left to :class:`BearerTokenAuthentication`."""

    def authenticate(self, request: Request) -> tuple[Principal, None] | None:
        expected = settings.METRICS_SCRAPE_TOKEN
        header = request._request.META.get("HTTP_AUTHORIZATION", "")
        if not expected or not header.startswith("Bearer "):
            return None
        if hmac.compare_digest(header[7:].strip().encode(), expected.encode()):
            return Principal(role=SCRAPER, actor="prometheus"), None
        return None

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="metrics"'


class StaffOrScraper(BasePermission):
    message = "Only clearing staff and the metrics scraper may read /metrics."

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        return isinstance(user, Principal) and user.role in ("clearing_staff", SCRAPER)


class MetricsApi(APIView):
    """``GET /metrics`` → ``200 text/plain; version=0.0.4`` (the Prometheus text format every
    Prometheus version reads; our metric names are all classic ``[a-z_]`` names)."""

    authentication_classes = [ScrapeTokenAuthentication, BearerTokenAuthentication]
    permission_classes = [StaffOrScraper]
    throttle_classes: list[Any] = []  # a scraper every 15 s must never be throttled away

    @extend_schema(exclude=True)
    def get(self, request: Request) -> HttpResponse:
        return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_PLAIN_0_0_4)


def audit_unsealed() -> dict[tuple[str, ...], float]:
    """Audit records not yet linked into the hash chain (the sealer runs every 5 s)."""
    from core.models import AuditRecord

    return {(): AuditRecord.objects.filter(seal_seq__isnull=True).count()}


def audit_oldest_unsealed_age() -> dict[tuple[str, ...], float]:
    """Seconds since the oldest unsealed audit record was written (0 when all are sealed)."""
    from django.utils import timezone

    from core.models import AuditRecord

    oldest = (AuditRecord.objects.filter(seal_seq__isnull=True).order_by("id")
              .values_list("at", flat=True).first())
    return {(): (timezone.now() - oldest).total_seconds() if oldest else 0.0}


def register_platform_gauges() -> None:
    metrics.register_gauge("kuasheng_audit_unsealed_records", "Audit records not yet sealed into the chain.",
                           audit_unsealed)
    metrics.register_gauge("kuasheng_audit_oldest_unsealed_age_seconds",
                           "Age of the oldest audit record not yet sealed.", audit_oldest_unsealed_age)
