"""Errors as RFC 9457 problem+json with stable ``code`` strings (spec/README.md §Errors).

Services raise :class:`DomainError` (or a subclass); the DRF exception handler and the middleware
turn every error, including 404/405/415/413/429 and database or broker outages, into
``application/problem+json``.
"""
from __future__ import annotations

import logging
import math
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, HttpResponse
from django.utils import translation
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response

from core.problem_texts import CODE_TEXTS, FIELD_TEXTS, TITLES

logger = logging.getLogger("kuasheng.errors")

PROBLEM_CONTENT_TYPE = "application/problem+json"
RETRY_AFTER_SECONDS = 5

def localized_detail(code: str, detail: Any) -> str:
    """The ``detail`` of a problem in the active language (docs/decisions.md §Languages): English
    keeps the specific sentence; other languages get the code's sentence of
    :data:`core.problem_texts.CODE_TEXTS`, or the sentence through the catalogue."""
    if (translation.get_language() or "").startswith("en"):
        return str(detail)
    text = CODE_TEXTS.get(code)
    return str(text) if text is not None else translation.gettext(str(detail))


def localized_errors(errors: list[dict[str, str]]) -> list[dict[str, str]]:
    """``errors[].message`` in the active language (:data:`core.problem_texts.FIELD_TEXTS`)."""
    if (translation.get_language() or "").startswith("en"):
        return errors
    def text(e: dict[str, str]) -> str:
        code = e.get("code", "")
        found = FIELD_TEXTS.get(code) or CODE_TEXTS.get(code)
        return str(found) if found is not None else translation.gettext(str(e.get("message", "")))

    return [{**e, "message": text(e)} for e in errors]



class DomainError(Exception):
    """A refusal with a stable code. ``status`` 400/401/403/404/409/422/429/503.

    ``errors`` is the list of ``{"field", "code", "message"}`` carried by ``400 invalid``;
    ``extra`` adds members to the problem document (e.g. ``setl_id`` of a conflict).
    """

    status = 422

    def __init__(
        self,
        code: str,
        detail: str = "",
        *,
        status: int | None = None,
        field: str | None = None,
        errors: list[dict[str, str]] | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or code)
        self.code = code
        self.detail = detail or code.replace("_", " ")
        if status is not None:
            self.status = status
        self.field = field
        self.errors = errors
        self.extra = extra or {}
        self.headers = headers or {}


class Invalid(DomainError):
    """``400 invalid``: malformed request. ``errors`` names each bad field."""

    status = 400

    def __init__(self, errors: list[dict[str, str]], detail: str = "The request is not valid.") -> None:
        super().__init__("invalid", detail, errors=errors)


class Conflict(DomainError):
    status = 409


class NotFound(DomainError):
    status = 404

    def __init__(self, detail: str = "Not found.") -> None:
        super().__init__("not_found", detail)


class Unauthorized(DomainError):
    status = 401


class Forbidden(DomainError):
    status = 403

    def __init__(self, detail: str = "You may not do this.", code: str = "forbidden") -> None:
        super().__init__(code, detail)


def field_error(field: str, code: str, message: str) -> dict[str, str]:
    return {"field": field, "code": code, "message": message}


def problem_body(status: int, code: str, detail: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"https://kuasheng.example/problems/{code}",
        "title": str(TITLES.get(status, translation.gettext("Error"))),
        "status": status,
        "detail": localized_detail(code, detail),
        "code": code,
    }
    body.update(extra)
    if isinstance(body.get("errors"), list):
        body["errors"] = localized_errors(body["errors"])
    return body


def problem_of(e: DomainError) -> dict[str, Any]:
    """The problem+json document of a refusal, as the API answers it (e.g. one batch item's)."""
    extra = dict(e.extra)
    if e.errors is not None:
        extra["errors"] = e.errors
    elif e.field:
        extra["errors"] = [field_error(e.field, e.code, e.detail)]
    return problem_body(e.status, e.code, e.detail, **extra)


def problem_response(status: int, code: str, detail: str, headers: dict[str, str] | None = None,
                     **extra: Any) -> Response:
    resp = Response(problem_body(status, code, detail, **extra), status=status, headers=headers)
    resp.content_type = PROBLEM_CONTENT_TYPE
    return resp


def problem_http_response(status: int, code: str, detail: str,
                          headers: dict[str, str] | None = None) -> HttpResponse:
    """Plain Django response for errors raised outside DRF (middleware, URL resolver)."""
    import json

    resp = HttpResponse(
        json.dumps(problem_body(status, code, detail), ensure_ascii=False),
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
    )
    for k, v in (headers or {}).items():
        resp[k] = v
    return resp


def _flatten_drf_errors(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = prefix if key == "non_field_errors" else (f"{prefix}.{key}" if prefix else str(key))
            out.extend(_flatten_drf_errors(value, name))
    elif isinstance(detail, list):
        if detail and all(isinstance(d, (str, drf_exceptions.ErrorDetail)) for d in detail):
            for d in detail:
                code = getattr(d, "code", "invalid") or "invalid"
                out.append(field_error(prefix or "body", str(code), str(d)))
        else:
            for i, value in enumerate(detail):
                if value:
                    out.extend(_flatten_drf_errors(value, f"{prefix}[{i}]"))
    else:
        code = getattr(detail, "code", "invalid") or "invalid"
        out.append(field_error(prefix or "body", str(code), str(detail)))
    return out


_DRF_CODES = {
    drf_exceptions.NotAuthenticated: (401, "not_authenticated"),
    drf_exceptions.AuthenticationFailed: (401, "authentication_failed"),
    drf_exceptions.PermissionDenied: (403, "forbidden"),
    drf_exceptions.NotFound: (404, "not_found"),
    drf_exceptions.MethodNotAllowed: (405, "method_not_allowed"),
    drf_exceptions.NotAcceptable: (406, "not_acceptable"),
    drf_exceptions.UnsupportedMediaType: (415, "unsupported_media_type"),
    drf_exceptions.Throttled: (429, "throttled"),
}


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF ``EXCEPTION_HANDLER``: every error as problem+json with a stable code."""
    if isinstance(exc, DomainError):
        extra = dict(exc.extra)
        if exc.errors is not None:
            extra["errors"] = exc.errors
        elif exc.field:
            extra["errors"] = [field_error(exc.field, exc.code, exc.detail)]
        return problem_response(exc.status, exc.code, exc.detail, headers=exc.headers, **extra)
    if isinstance(exc, Http404):
        return problem_response(404, "not_found", "Not found.")
    if isinstance(exc, PermissionDenied):
        return problem_response(403, "forbidden", "You may not do this.")
    if isinstance(exc, drf_exceptions.ValidationError):
        return problem_response(
            400, "invalid", "The request is not valid.", errors=_flatten_drf_errors(exc.detail)
        )
    if isinstance(exc, drf_exceptions.ParseError):
        return problem_response(400, "invalid", "The body is not valid JSON.",
                                errors=[field_error("body", "parse_error", str(exc.detail))])
    for cls, (status, code) in _DRF_CODES.items():
        if isinstance(exc, cls):
            headers = {}
            if isinstance(exc, drf_exceptions.Throttled):
                headers["Retry-After"] = str(max(1, math.ceil(getattr(exc, "wait", None) or 1)))
            if status == 401:
                headers["WWW-Authenticate"] = 'Bearer realm="api"'
            detail = exc.detail if isinstance(exc, drf_exceptions.APIException) else str(exc)
            return problem_response(status, code, str(detail), headers=headers)
    if isinstance(exc, drf_exceptions.APIException):
        return problem_response(exc.status_code, exc.default_code, str(exc.detail))
    if is_outage(exc):
        logger.warning("service unavailable: %s", type(exc).__name__)
        return problem_response(503, "service_unavailable", "A backing service is unavailable; retry later.",
                                headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    return None


def is_outage(exc: BaseException) -> bool:
    """True for database or broker/cache connection failures (→ 503 with Retry-After)."""
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    if isinstance(exc, DatabaseError) and "connection" in str(exc).lower():
        return True
    try:
        import redis.exceptions as rexc

        if isinstance(exc, (rexc.ConnectionError, rexc.TimeoutError)):
            return True
    except ImportError:  # pragma: no cover
        pass
    try:
        import kombu.exceptions as kexc

        if isinstance(exc, kexc.OperationalError):
            return True
    except ImportError:  # pragma: no cover
        pass
    return isinstance(exc, (ConnectionError, TimeoutError))
