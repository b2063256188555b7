"""Lag-tolerant reads on a streaming replica (docs/scaling.md §Read replica, issue 15 item 1).

With ``DATABASE_REPLICA_URL`` set, ``DATABASES["replica"]`` is a hot standby of the primary. Reads
go to it only inside :func:`replica_reads` — the views whose data tolerate lag: closed cycles'
heads, statements, items and proofs, cardholder history and receipts, dashboards (decorate the
handler: authentication, permissions and throttles run before it, on the primary). Everything
else, and every write, goes to the primary (``default``).

- **read-your-writes**: a write inside the scope moves the rest of the scope to the primary; a
  caller whose request wrote (an unsafe method answered < 400, :class:`ReadYourWritesMiddleware`)
  reads from the primary for ``REPLICA_READ_YOUR_WRITES_SECONDS`` after; a read inside a primary
  transaction stays on the primary.
- **lag**: a replica that has not yet replayed a close answers ``404``/``409``; the handler then
  runs again on the primary, so a lagging replica never answers differently from the primary.
- **replica down**: a database error inside the scope runs the handler again on the primary and
  keeps the replica out of use for ``REPLICA_RETRY_SECONDS`` (per process).

Without a replica every function here is a pass-through.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

from django.conf import settings
from django.db import Error as DatabaseError
from django.db import connections
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse

from core.errors import DomainError

logger = logging.getLogger("kuasheng.replica")

REPLICA = "replica"
PRIMARY = "default"
# the current scope: {"route": PRIMARY | REPLICA, "wrote": bool}; None outside any scope
_scope_state: ContextVar[dict[str, Any] | None] = ContextVar("kuasheng_read_scope", default=None)
_down_until = 0.0  # monotonic time until which this process does not use the replica
F = TypeVar("F", bound=Callable[..., Any])


def configured() -> bool:
    return REPLICA in connections.databases


def replica_usable() -> bool:
    return configured() and time.monotonic() >= _down_until


def mark_down(exc: BaseException) -> None:
    """Keep the replica out of use for ``REPLICA_RETRY_SECONDS`` and drop its connection."""
    global _down_until
    _down_until = time.monotonic() + settings.REPLICA_RETRY_SECONDS
    logger.warning("replica unavailable, reads fall back to the primary: %s", type(exc).__name__)
    with contextlib.suppress(Exception):
        connections[REPLICA].close()


class PrimaryReplicaRouter:
    """``DATABASE_ROUTERS`` entry: reads in a :func:`replica_reads` scope → ``replica``; all else
    (and everything without a replica) → ``default``. Never migrates the replica."""

    def db_for_read(self, model: type, **hints: Any) -> str | None:
        state = _scope_state.get()
        if state and state["route"] == REPLICA and replica_usable():
            if not connections[PRIMARY].in_atomic_block:
                return REPLICA
        return PRIMARY

    def db_for_write(self, model: type, **hints: Any) -> str | None:
        state = _scope_state.get()
        if state is not None:  # read-your-writes for the rest of the scope
            state["route"], state["wrote"] = PRIMARY, True
        return PRIMARY

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # one database, two copies

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db != REPLICA


def principal_key(request: HttpRequest) -> str:
    """A cache key naming the caller: its client id, bearer token or session cookie (hashed)."""
    who = "|".join(
        (
            request.headers.get("X-Client-Id", ""),
            request.headers.get("Authorization", ""),
            request.COOKIES.get(settings.SESSION_COOKIE_NAME, ""),
        )
    )
    return "ks:ryw:" + hashlib.sha256(who.encode()).hexdigest()[:32]


def _recently_wrote(request: HttpRequest | None) -> bool:
    if request is None:
        return False
    from django.core.cache import cache

    try:
        return bool(cache.get(principal_key(request)))
    except Exception:  # noqa: BLE001 - no cache: stay on the primary
        return True


class ReadOnPrimary(Exception):  # noqa: N818 - a signal, not an error
    """Raised by :func:`primary_required` inside a replica scope: run the view on the primary."""


def primary_required() -> None:
    """Inside :func:`replica_reads`: what was just read is not lag-tolerant (an open cycle's
    items, say), so the view runs again on the primary. A no-op on the primary."""
    state = _scope_state.get()
    if state is not None and state["route"] == REPLICA:
        raise ReadOnPrimary


def _maybe_lag(exc: BaseException) -> bool:
    if isinstance(exc, ReadOnPrimary | Http404):
        return True
    return isinstance(exc, DomainError) and exc.status in (404, 409)


@contextlib.contextmanager
def _scope(route: str) -> Iterator[dict[str, Any]]:
    state = {"route": route, "wrote": False}
    token = _scope_state.set(state)
    try:
        yield state
    finally:
        _scope_state.reset(token)


def _streamed(chunks: Iterator[Any]) -> Iterator[Any]:
    """A streaming body produced on the replica too (it is iterated after the view returned)."""
    while True:
        with _scope(REPLICA if replica_usable() else PRIMARY):
            try:
                chunk = next(chunks)
            except StopIteration:
                return
        yield chunk


def run_on_replica(fn: Callable[[], Any], request: HttpRequest | None = None) -> Any:
    """``fn()`` with its reads on the replica, or on the primary when there is none, the caller
    just wrote, the replica failed or it answered 404/409 (it may lag). ``fn`` is never run twice
    once it wrote."""
    if not replica_usable() or _recently_wrote(request):
        return fn()
    state: dict[str, Any] = {}
    try:
        with _scope(REPLICA) as state:
            result = fn()
    except DatabaseError as exc:
        if state.get("wrote"):
            raise
        mark_down(exc)
        return fn()
    except Exception as exc:
        if state.get("wrote") or not _maybe_lag(exc):
            raise
        return fn()
    if isinstance(result, StreamingHttpResponse) and not result.is_async:
        result.streaming_content = _streamed(iter(result.streaming_content))  # type: ignore[arg-type]
    elif isinstance(result, HttpResponse) and result.status_code in (404, 409) and not state["wrote"]:
        return fn()
    return result


def replica_reads(view: F) -> F:
    """Decorate a view function or a view's handler method (``get``): its reads go to the replica
    (:func:`run_on_replica`). The request is the first argument that has ``META``."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        request = next((a for a in args if hasattr(a, "META")), None)
        return run_on_replica(lambda: view(*args, **kwargs), request)

    return wrapper  # type: ignore[return-value]


class ReadYourWritesMiddleware:
    """After a request with an unsafe method answered below 400, its caller reads from the
    primary for ``REPLICA_READ_YOUR_WRITES_SECONDS`` (only with a replica configured)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if configured() and request.method not in ("GET", "HEAD", "OPTIONS") and response.status_code < 400:
            from django.core.cache import cache

            with contextlib.suppress(Exception):  # the write is done; a cache outage only costs lag
                cache.set(principal_key(request), 1, settings.REPLICA_READ_YOUR_WRITES_SECONDS)
        return response
