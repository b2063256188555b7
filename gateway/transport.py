"""The gateway's door (spec/nhsa-gateway.md §2): one POST path, x-tif headers, sizes and media
types, answered as the national envelope also for transport failures.

:class:`GatewayMiddleware` sits right after the request-id middleware and serves every request
under :data:`PATH` itself, so nothing below it (HTTPS redirect, CSRF, problem+json handlers) applies
to the gateway path: a transport failure is a non-200 status **with** an envelope body
(``infcode`` -1, ``inf_refmsgid`` ``""``, ``output`` null); everything after authentication is 200.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from core.errors import RETRY_AFTER_SECONDS, is_outage
from gateway import clock
from gateway.errors import Refusal

logger = logging.getLogger("kuasheng.gateway")

PATH = "/fsi/api/rsfComIfsService/callService"
_PATH_RE = re.compile(re.escape(PATH) + r"(?:/([^/]*))?/?")
NONCE_RE = re.compile(r"[A-Za-z0-9_-]{8,64}", re.ASCII)
SIGNATURE_RE = re.compile(r"[0-9a-fA-F]{64}", re.ASCII)
MEDIA_TYPES = ("application/json", "text/plain")
CONTENT_TYPE = "application/json; charset=UTF-8"
THROTTLE_WINDOW_SECONDS = 60


class TransportError(Exception):
    def __init__(
        self, status: int, code: str, headers: dict[str, str] | None = None, text: str | None = None
    ) -> None:
        self.status, self.refusal, self.headers = status, Refusal(code, text), headers or {}
        super().__init__(code)


def envelope_response(status: int, body: bytes, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(body, status=status, content_type=CONTENT_TYPE)
    for k, v in (headers or {}).items():
        response[k] = v
    response["Cache-Control"] = "no-store"
    return response


def transport_failure(e: TransportError) -> HttpResponse:
    from core import metrics
    from gateway.answer import refusal_bytes

    metrics.gateway_call_recorded(infno="", infcode="-1")
    now = clock.now()
    return envelope_response(e.status, refusal_bytes(e.refusal, now, now), e.headers)


def tif_signature(timestamp: str, secret: str, nonce: str) -> str:
    """hex SHA-256(UTF-8(timestamp + secret + nonce + timestamp)) (§2)."""
    return hashlib.sha256((timestamp + secret + nonce + timestamp).encode("utf-8")).hexdigest()


def _media_type_ok(value: str) -> bool:
    parts = [p.strip().lower() for p in value.split(";") if p.strip()]
    if not parts or parts[0] not in MEDIA_TYPES:
        return False
    for p in parts[1:]:
        name, _, val = p.partition("=")
        if name.strip() == "charset" and val.strip().strip('"') not in ("utf-8", "utf8"):
            return False
    return True


def _read_body(request: HttpRequest) -> bytes:
    limit = settings.MAX_BODY_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise TransportError(413, "body_too_large")
    if not length and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
        from core.middleware import _read_at_most

        body = _read_at_most(request.META["wsgi.input"], limit)
        if body is None:
            raise TransportError(413, "body_too_large")
        return body
    return request.body


def authenticate(request: HttpRequest):  # noqa: ANN201 - returns accounts.InstitutionClient
    """The client named by ``x-tif-paasid`` if the x-tif headers verify (§2). Order: headers present,
    client known and gateway-enabled (``unknown_client``), not revoked, timestamp within 300 s,
    signature, then the nonce is consumed (only a correctly signed request consumes it)."""
    from accounts.models import InstitutionClient
    from core.auth import _client_secret

    meta = request.META
    paasid = meta.get("HTTP_X_TIF_PAASID", "")
    ts = meta.get("HTTP_X_TIF_TIMESTAMP", "")
    nonce = meta.get("HTTP_X_TIF_NONCE", "")
    signature = meta.get("HTTP_X_TIF_SIGNATURE", "")
    if not (paasid and ts and nonce and signature):
        raise TransportError(401, "bad_signature")
    client = InstitutionClient.objects.select_related("institution").filter(client_id=paasid).first()
    if client is None or not client.gateway_enabled:
        raise TransportError(401, "unknown_client")
    if client.revoked_at is not None:
        raise TransportError(401, "revoked_client")
    if not (ts.isascii() and ts.isdigit() and len(ts) <= 12):
        raise TransportError(401, "stale_timestamp")
    if abs(clock.now().timestamp() - int(ts)) > settings.SIGNATURE_MAX_SKEW_SECONDS:
        raise TransportError(401, "stale_timestamp")
    if not NONCE_RE.fullmatch(nonce) or not SIGNATURE_RE.fullmatch(signature):
        raise TransportError(401, "bad_signature")
    if not hmac.compare_digest(tif_signature(ts, _client_secret(client), nonce), signature.lower()):
        raise TransportError(401, "bad_signature")
    if meta.get("HTTP_X_CLIENT_ID") or client.require_body_signature:
        _body_signature(request, client)
    if not cache.add(f"tifnonce:{client.client_id}:{nonce}", 1, timeout=settings.NONCE_TTL_SECONDS):
        raise TransportError(401, "replayed_nonce")
    return client


def _body_signature(request: HttpRequest, client) -> None:  # noqa: ANN001
    """The spec/security.md headers, when sent (or required by the client's flag), are verified too."""
    from core.auth import _client_secret, sign, string_to_sign

    meta = request.META
    if meta.get("HTTP_X_CLIENT_ID") != client.client_id:
        raise TransportError(401, "bad_signature")
    ts, nonce, sig = (meta.get(f"HTTP_X_{k}", "") for k in ("TIMESTAMP", "NONCE", "SIGNATURE"))
    target = meta.get("RAW_URI") or request.get_full_path()
    expected = sign(_client_secret(client), string_to_sign("POST", target, ts, nonce, request.body))
    if not hmac.compare_digest(expected, sig.lower()):
        raise TransportError(401, "bad_signature")


def throttle(client_id: str) -> None:
    """Fixed one-minute window per ``paasid``; the rate is ``GATEWAY_THROTTLE_PER_MIN``."""
    rate = settings.GATEWAY_THROTTLE_PER_MIN
    window = int(clock.now().timestamp()) // THROTTLE_WINDOW_SECONDS
    key = f"tifthrottle:{client_id}:{window}"
    if cache.add(key, 1, timeout=THROTTLE_WINDOW_SECONDS * 2):
        return
    if cache.incr(key) > rate:
        raise TransportError(429, "throttled", {"Retry-After": str(THROTTLE_WINDOW_SECONDS)})


class GatewayMiddleware:
    """Serves :data:`PATH` (and ``PATH/{infno}``) in the national envelope; passes anything else on."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if not path.startswith(PATH):
            return self.get_response(request)
        m = _PATH_RE.fullmatch(path)
        if m is None:
            return self.get_response(request)
        try:
            return self._serve(request, m.group(1))
        except TransportError as e:
            return transport_failure(e)
        except Exception as e:
            if is_outage(e):
                logger.warning("gateway: service unavailable: %s", type(e).__name__)
                return transport_failure(
                    TransportError(503, "service_unavailable", {"Retry-After": str(RETRY_AFTER_SECONDS)})
                )
            raise

    def _serve(self, request: HttpRequest, path_infno: str | None) -> HttpResponse:
        from gateway.service import gateway_call

        if "\x00" in request.path:
            raise TransportError(404, "invalid", text="path 含非法字符")
        if request.method != "POST":
            raise TransportError(405, "method_not_allowed", {"Allow": "POST"})
        if settings.PRODUCTION and not request.is_secure():
            raise TransportError(403, "https_required")
        body = _read_body(request)
        if not _media_type_ok(request.META.get("CONTENT_TYPE", "")):
            raise TransportError(415, "unsupported_media_type")
        client = authenticate(request)
        throttle(client.client_id)
        return envelope_response(200, gateway_call(client=client, raw=body, path_infno=path_infno))
