"""Request id, body-size limits and outage handling (spec/security.md §Limits, spec/README.md §Errors)."""
from __future__ import annotations

import contextvars
import io
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse

from core.errors import (
    PROBLEM_CONTENT_TYPE,
    RETRY_AFTER_SECONDS,
    is_outage,
    problem_body,
    problem_http_response,
)
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


def _read_at_most(stream, limit: int) -> bytes | None:  # noqa: ANN001
    """Read a body of unknown length (``Transfer-Encoding: chunked``; the server de-chunks it) in
    pieces; ``None`` as soon as it passes ``limit`` bytes, so at most ``limit + 1`` are held."""
    parts: list[bytes] = []
    size = 0
    while True:
        piece = stream.read(min(64 * 1024, limit + 1 - size))
        if not piece:
            return b"".join(parts)
        parts.append(piece)
        size += len(piece)
        if size > limit:
            return None


class NulGuardMiddleware:
    """A NUL character in the path answers 404 (no record can have such an id) and in the query
    string ``400 invalid`` naming the parameter: PostgreSQL text cannot hold U+0000, so such values
    must never reach a query."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path:
            return problem_http_response(404, "not_found", "Not found.")
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in v for v in values):
                import json

                body = problem_body(400, "invalid", "The query string is not valid.", errors=[
                    {"field": key.replace("\x00", "\\u0000"), "code": "invalid_character",
                     "message": "must not contain control character U+0000"}])
                return HttpResponse(json.dumps(body), status=400, content_type=PROBLEM_CONTENT_TYPE)
        return self.get_response(request)


class BodySizeLimitMiddleware:
    """413 problem+json for bodies over the limit (5 MB; 50 MB for bureau uploads).

    With ``Content-Length`` the request is refused before a byte of the body is read. A body
    without a length (chunked) is read here, at most limit + 1 bytes, and refused as soon as it
    passes the limit; when within it, it is handed on as a normal body with its ``Content-Length``
    (Django itself would read nothing of a body without a length).
    """

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
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if not length and chunked and "wsgi.input" in request.META:
            body = _read_at_most(request.META["wsgi.input"], limit)
            if body is None:
                return self._too_large(limit)
            request.META["CONTENT_LENGTH"] = str(len(body))
            request._stream = io.BytesIO(body)  # type: ignore[attr-defined]
        return self.get_response(request)

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
