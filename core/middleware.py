"""Request id, body-size limits and outage handling (spec/security.md §Limits, spec/README.md §Errors)."""
from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse

from core.errors import RETRY_AFTER_SECONDS, is_outage, problem_http_response
from core.ids import new_request_id

logger = logging.getLogger("kuasheng.http")
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

# Bureau uploads may be up to 50 MB; everything else 5 MB.
UPLOAD_PATHS = ("/api/v1/persons", "/api/v1/filings", "/api/v1/catalogue", "/api/v1/policies",
                "/api/v1/accumulators")


def body_limit_for(path: str) -> int:
    if path.rstrip("/") in UPLOAD_PATHS:
        return settings.MAX_UPLOAD_BODY_BYTES
    return settings.MAX_BODY_BYTES


class _LimitedStream:
    """Wraps ``wsgi.input`` so a body without Content-Length cannot exceed the limit."""

    def __init__(self, stream, limit: int) -> None:  # noqa: ANN001
        self.stream, self.remaining = stream, limit + 1

    def read(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            raise RequestDataTooBig("body too large")
        n = self.remaining if size is None or size < 0 else min(size, self.remaining)
        data = self.stream.read(n)
        self.remaining -= len(data)
        if self.remaining <= 0:
            raise RequestDataTooBig("body too large")
        return data

    def readline(self, size: int = -1) -> bytes:
        data = self.stream.readline(size if size and size > 0 else self.remaining)
        self.remaining -= len(data)
        if self.remaining <= 0:
            raise RequestDataTooBig("body too large")
        return data


class RequestIdMiddleware:
    """Gives each request an id (``X-Request-Id`` echoed or generated) used by the audit log."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = request.META.get("HTTP_X_REQUEST_ID", "")
        if not rid or len(rid) > 64 or not rid.replace("-", "").isalnum():
            rid = new_request_id()
        token = request_id_var.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-Id"] = rid
        return response


class BodySizeLimitMiddleware:
    """413 before reading a body whose Content-Length is over the limit; bodies without a length are
    read through a counting stream and refused as soon as they pass it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = body_limit_for(request.path)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return self._too_large(limit)
        if not length and "wsgi.input" in request.META and request.META.get("HTTP_TRANSFER_ENCODING"):
            request.META["wsgi.input"] = _LimitedStream(request.META["wsgi.input"], limit)
            request._stream = None  # type: ignore[attr-defined]
        request.upload_handlers  # noqa: B018 - materialise before any read
        try:
            return self.get_response(request)
        except RequestDataTooBig:
            return self._too_large(limit)

    @staticmethod
    def _too_large(limit: int) -> HttpResponse:
        return problem_http_response(413, "body_too_large", f"The request body is over {limit} bytes.")


class ServiceUnavailableMiddleware:
    """Database or broker outages outside DRF's handler → 503 problem+json with Retry-After."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, RequestDataTooBig):
            return problem_http_response(413, "body_too_large", "The request body is too large.")
        if is_outage(exception):
            logger.warning("service unavailable: %s", type(exception).__name__)
            return problem_http_response(503, "service_unavailable", "A backing service is unavailable.",
                                         headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        return None
