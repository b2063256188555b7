"""Per-request observability (spec/operations.md §Observability): request metrics, one access-log
line per request, and the request context (request id, principal, route) every log line carries.

Log lines are JSON objects (``core.logging.JsonFormatter``) with ``time``, ``level``, ``logger``,
``request_id``, ``principal``, ``route``, ``status``, ``duration_ms`` and ``message``.
"""
from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty

from core import metrics
from core.middleware import request_id_var
from core.principals import Principal

access_logger = logging.getLogger("kuasheng.http.access")
current_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar(
    "current_request", default=None)


def route_of(request: HttpRequest) -> str:
    """The URL pattern that answered (``api/v1/settlements/<str:setl_id>``), never the concrete path,
    so a label carries no identifier and the number of series stays bounded. ``unmatched`` for 404s
    outside any pattern."""
    match = getattr(request, "resolver_match", None)
    if match is None or match.route is None:
        return "unmatched"
    return match.route or "/"


def principal_of(request: HttpRequest) -> str:
    """``role:actor`` of the authenticated caller, the admin user's name, or ``""``. Never triggers
    a database query: a session user not yet loaded is reported as ``""``."""
    user = request.__dict__.get("user")
    if isinstance(user, Principal):
        return str(user)
    if isinstance(user, SimpleLazyObject):
        user = user._wrapped  # type: ignore[attr-defined]
        if user is empty:
            return ""
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.get_username()}"
    return ""


class RequestContextFilter(logging.Filter):
    """Adds ``request_id``, ``principal`` and ``route`` of the request being answered (empty outside
    a request) to every record that does not carry them already."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django's own "Not Found: …" lines are written after the middleware returned; they carry
        # the request, on which the middleware left its id.
        request = current_request.get() or getattr(record, "request", None)
        if not isinstance(request, HttpRequest):
            request = None
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get() or getattr(request, "request_id", "")
        if request is not None:
            if not hasattr(record, "principal"):
                record.principal = principal_of(request)
            if not hasattr(record, "route"):
                record.route = route_of(request)
        return True


class ObservabilityMiddleware:
    """Times each request, counts it in ``kuasheng_http_requests_total`` and the latency histogram
    per route pattern and status, and writes one access-log line (INFO, ``kuasheng.http.access``).
    Placed just inside ``RequestIdMiddleware`` so the id is known and every answer is counted."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_request.set(request)
        request.request_id = request_id_var.get()  # type: ignore[attr-defined]
        start = time.perf_counter()
        try:
            response = self.get_response(request)
            seconds = time.perf_counter() - start
            route = route_of(request)
            metrics.http_request_recorded(method=request.method or "", route=route,
                                          status=response.status_code, seconds=seconds)
            access_logger.info(
                "%s %s %s", request.method, request.path, response.status_code,
                extra={"status": response.status_code, "duration_ms": round(seconds * 1000, 1),
                       "route": route, "method": request.method},
            )
            return response
        finally:
            current_request.reset(token)
