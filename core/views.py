"""Health endpoints and error pages (spec/security.md, issue 2 §7)."""
from __future__ import annotations

import json
import sys

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

from core.errors import (
    PROBLEM_CONTENT_TYPE,
    RETRY_AFTER_SECONDS,
    is_outage,
    problem_body,
    problem_http_response,
)


def healthz(request: HttpRequest) -> JsonResponse:
    """Process is up. No dependencies checked."""
    return JsonResponse({"status": "ok"})


def _redis_ok(url: str) -> str:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
    except Exception:  # noqa: BLE001
        return "unavailable"
    return "ok"


def readyz(request: HttpRequest) -> HttpResponse:
    """Database and cache/broker reachable → 200 ``{"status": "ok", "checks": {"database": "ok", …}}``;
    else 503 problem+json with Retry-After, ``detail`` naming what is unavailable and the same
    ``checks`` object (``"ok"`` / ``"unavailable"`` per dependency) as JSON."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001
        checks["database"] = "unavailable"
    if settings.REDIS_URL:
        checks["redis"] = _redis_ok(settings.REDIS_URL)
    if settings.CELERY_BROKER_URL.startswith("redis"):
        checks["broker"] = _redis_ok(settings.CELERY_BROKER_URL)
    down = [name for name, state in checks.items() if state != "ok"]
    if down:
        body = problem_body(503, "service_unavailable", f"Not ready: {', '.join(down)} unavailable.")
        response = HttpResponse(json.dumps({**body, "checks": checks}), status=503,
                                content_type=PROBLEM_CONTENT_TYPE)
        response["Retry-After"] = "5"
        return response
    return JsonResponse({"status": "ok", "checks": checks})


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return problem_http_response(404, "not_found", "Not found.")


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``. Called inside Django's ``except`` block, so an outage raised where no
    ``process_exception`` sees it (another middleware, a lazy session) still answers 503."""
    exc = sys.exc_info()[1]
    if exc is not None and is_outage(exc):
        return problem_http_response(503, "service_unavailable", "A backing service is unavailable.",
                                     headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    return problem_http_response(500, "server_error", "Internal error.")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return problem_http_response(400, "invalid", "Bad request.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return problem_http_response(403, "forbidden", "Forbidden.")
