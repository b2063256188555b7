"""Privacy headers (issue 10 §5; spec/security.md §Personal data).

- ``Cache-Control: no-store`` on every answer the application builds itself: API answers,
  cardholder and dashboard pages, the admin, problem+json errors. Nearly all of them carry personal
  data or a bureau's figures, and a shared cache or the browser's disk must keep none of them. The
  rule is "everything unless it says otherwise", so a new view cannot forget it; the only answers
  that set their own ``Cache-Control`` are WhiteNoise's static files (no personal data).
- :func:`content_security_policy`: a strict Content-Security-Policy for server-rendered pages
  (scripts and styles only from our own static files: no inline script, no inline style, no
  framing, forms post only to us).
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.cache import patch_cache_control

# Our pages load only /static/… scripts, styles and images; nothing inline, nothing third-party.
PAGE_CSP = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
])


class PrivacyHeadersMiddleware:
    """Adds ``Cache-Control: no-store`` (and ``Pragma: no-cache`` for HTTP/1.0 caches) to every answer
    without a ``Cache-Control`` of its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, no_store=True)
            response.headers.setdefault("Pragma", "no-cache")
        return response


def content_security_policy(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Decorator: the page answers with :data:`PAGE_CSP` (and ``X-Content-Type-Options: nosniff``)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    return wrapped
