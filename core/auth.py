"""Authentication (spec/security.md).

- :class:`SignedRequestAuthentication`: institutions' HMAC-SHA256 signed requests
  (``X-Client-Id``, ``X-Timestamp``, ``X-Nonce``, ``X-Signature``). Rejections are ``401`` with
  ``bad_signature``, ``stale_timestamp``, ``replayed_nonce``, ``unknown_client`` or
  ``revoked_client``. Nonces are remembered for 600 s in the cache (Redis when configured) and in the
  database (``core.durable``, so a Redis that lost its data accepts no replay); if the cache is down
  the request is refused with 503, never accepted unchecked.
- :class:`BearerTokenAuthentication`: staff and cardholder bearer tokens (SHA-256 stored).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.module_loading import import_string
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from core.durable import nonce_consume
from core.errors import Unauthorized
from core.principals import Principal

NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
SIGNATURE_RE = re.compile(r"^[0-9a-f]{64}$")


def request_target(request: Request) -> str:
    """Path and query exactly as signed: gunicorn's ``RAW_URI`` if present, else the quoted path
    plus ``?`` and the raw query string when not empty (spec/security.md)."""
    meta = request._request.META
    raw = meta.get("RAW_URI")
    if raw:
        return raw
    path = urllib.parse.quote(request._request.path, safe="/-_.~")
    qs = meta.get("QUERY_STRING", "")
    return f"{path}?{qs}" if qs else path


def string_to_sign(method: str, target: str, timestamp: str, nonce: str, body: bytes) -> str:
    return "\n".join([method.upper(), target, timestamp, nonce, hashlib.sha256(body).hexdigest()])


def sign(secret: str, sts: str) -> str:
    """Lowercase hex HMAC-SHA256(secret, string_to_sign)."""
    return hmac.new(secret.encode(), sts.encode(), hashlib.sha256).hexdigest()


SECRET_CACHE_SECONDS = 60.0
_secrets: dict[str, tuple[str, str, float]] = {}  # client_id → (secret_enc, secret, expires at)


def _client_secret(client: Any) -> str:
    """The client's decrypted HMAC secret, kept by this worker for up to
    :data:`SECRET_CACHE_SECONDS` (AES-GCM per request is a fixed cost of every signed call). Keyed
    by the stored ciphertext too, so a rotated secret is used at once; revocation is checked on the
    client row every request."""
    from core.crypto import decrypt

    now = time.monotonic()
    held = _secrets.get(client.client_id)
    if held is not None and held[0] == client.secret_enc and held[2] > now:
        return held[1]
    secret = decrypt(client.secret_enc) or ""
    _secrets[client.client_id] = (client.secret_enc, secret, now + SECRET_CACHE_SECONDS)
    return secret


def _loader(name: str) -> Callable[[str], Any]:
    """The lookup ``settings.AUTH_LOADERS[name]`` (the app that owns clients and tokens provides it;
    ``core`` imports no app)."""
    return import_string(settings.AUTH_LOADERS[name])


CLIENT_LOADERS = ("client", "acceptor_client")  # institutions' clients, then acceptors' (spec/cards.md)
_found_by: dict[str, str] = {}  # client_id → the loader that found it last, in this worker


def _client(client_id: str) -> Any:
    """The client row of ``client_id`` (read every request: revocation and secret rotation hold at
    once) from the loaders of :data:`CLIENT_LOADERS` present in ``settings.AUTH_LOADERS``, trying
    first the one that found this id before in this worker (an acceptor's client costs one query,
    not a miss on the institutions' table and then one). Client ids embed their institution or
    acceptor code and a random part, so no id names clients of both kinds."""
    kinds = [k for k in CLIENT_LOADERS if k in settings.AUTH_LOADERS]
    known = _found_by.get(client_id)
    if known in kinds:
        kinds.remove(known)
        kinds.insert(0, known)
    for kind in kinds:
        client = _loader(kind)(client_id)
        if client is not None:
            if len(_found_by) >= 100_000:  # bounded: ids of clients seen by this worker
                _found_by.clear()
            _found_by[client_id] = kind
            return client
    return None


class SignedRequestAuthentication(BaseAuthentication):
    """Authenticates institution clients by signed request headers."""

    def authenticate(self, request: Request) -> tuple[Principal, object] | None:
        meta = request._request.META
        client_id = meta.get("HTTP_X_CLIENT_ID")
        if not client_id:
            return None
        client = _client(client_id)
        if client is None:
            raise Unauthorized("unknown_client", "No such client.")
        if client.revoked_at is not None:
            raise Unauthorized("revoked_client", "This client has been revoked.")
        ts = meta.get("HTTP_X_TIMESTAMP", "")
        nonce = meta.get("HTTP_X_NONCE", "")
        signature = meta.get("HTTP_X_SIGNATURE", "")
        if not (ts.isascii() and ts.isdigit() and len(ts) <= 12):
            raise Unauthorized("stale_timestamp", "X-Timestamp must be Unix seconds.")
        if abs(time.time() - int(ts)) > settings.SIGNATURE_MAX_SKEW_SECONDS:
            raise Unauthorized("stale_timestamp", "X-Timestamp is more than 300 s from server time.")
        if not NONCE_RE.match(nonce) or not SIGNATURE_RE.match(signature):
            raise Unauthorized("bad_signature", "X-Nonce or X-Signature is malformed.")
        body = request._request.body
        expected = sign(_client_secret(client), string_to_sign(request.method or "", request_target(request),
                                                                 ts, nonce, body))
        if not hmac.compare_digest(expected, signature):
            raise Unauthorized("bad_signature", "The signature does not match.")
        # Only a correctly signed request consumes its nonce; a cache outage propagates (→ 503).
        # Redis answers a replay at once; the database record decides when Redis has lost its data
        # (restart without persistence, flush, eviction): the guarantee does not rest on Redis.
        if not cache.add(f"nonce:{client.client_id}:{nonce}", 1, timeout=settings.NONCE_TTL_SECONDS):
            raise Unauthorized("replayed_nonce", "This nonce was already used.")
        if not nonce_consume(client_id=client.client_id, nonce=nonce):
            raise Unauthorized("replayed_nonce", "This nonce was already used.")
        acceptor = getattr(client, "acceptor", None)
        if acceptor is not None:
            principal = Principal(role="acceptor", actor=client.client_id, acceptor=acceptor, client=client)
            return principal, client
        principal = Principal(role="institution", actor=client.client_id, institution=client.institution,
                              client=client)
        return principal, client

    def authenticate_header(self, request: Request) -> str:
        return 'HMAC-SHA256 realm="api"'


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class BearerTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <token>`` for staff (bureau, clearing_staff) and cardholders."""

    def authenticate(self, request: Request) -> tuple[Principal, object] | None:
        header = request._request.META.get("HTTP_AUTHORIZATION", "")
        if not header.startswith("Bearer "):
            return None
        token = _loader("token")(token_hash(header[7:].strip()))
        if token is None or token.revoked_at is not None or token.expires_at <= timezone.now():
            raise Unauthorized("invalid_token", "The token is unknown, expired or revoked.")
        holder = getattr(token, "holder", None)
        person = holder.person if holder is not None else token.person
        if holder is not None or person is not None:
            actor = holder.actor if holder is not None else person.psn_no
            principal = Principal(role="cardholder", actor=actor, person=person, holder=holder, token=token)
            return principal, token
        user = token.user
        profile = getattr(user, "staff_profile", None)
        if user is None or profile is None or not user.is_active:
            raise Unauthorized("invalid_token", "The token's user has no role.")
        admdvs = None if profile.role == "clearing_staff" else profile.admdvs
        return Principal(role=profile.role, actor=user.username, user=user, admdvs=admdvs, token=token), token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
