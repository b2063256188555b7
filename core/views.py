"""Health endpoints and error pages (spec/security.md, issue 2 §7)."""
from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

from core.errors import problem_http_response


def healthz(request: HttpRequest) -> JsonResponse:
    """Process is up. No dependencies checked."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> HttpResponse:
    """Database and cache/broker reachable → 200; else 503 problem+json with Retry-After."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001
        checks["database"] = "unavailable"
    from django.conf import settings

    if settings.REDIS_URL:
        try:
            import redis

            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping()
            checks["redis"] = "ok"
        except Exception:  # noqa: BLE001
            checks["redis"] = "unavailable"
    if settings.CELERY_BROKER_URL and settings.CELERY_BROKER_URL.startswith("redis"):
        try:
            import redis

            redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=1, socket_timeout=1).ping()
            checks["broker"] = "ok"
        except Exception:  # noqa: BLE001
            checks["broker"] = "unavailable"
    if any(v != "ok" for v in checks.values()):
        resp = problem_http_response(503, "service_unavailable", f"Not ready: {checks}", headers={"Retry-After": "5"})
        return resp
    return JsonResponse({"status": "ok", "checks": checks})


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return problem_http_response(404, "not_found", "Not found.")


def server_error(request: HttpRequest) -> HttpResponse:
    return problem_http_response(500, "server_error", "Internal error.")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return problem_http_response(400, "invalid", "Bad request.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return problem_http_response(403, "forbidden", "Forbidden.")
