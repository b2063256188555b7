"""Security state that must survive losing Redis (issue 10 §3): nonces and sign-in attempt windows.

Redis is a cache: restarted without persistence (or flushed, or evicting under memory pressure) it
forgets. Forgetting a nonce turns a captured request into an accepted replay; forgetting a failure
count gives a password guesser a fresh set of attempts. Both are therefore recorded in the database,
with one statement or one row lock each:

- :func:`nonce_consume`: ``INSERT … ON CONFLICT DO UPDATE … WHERE expired RETURNING``, so exactly
  one of two concurrent uses of a nonce wins, and a nonce older than the TTL may be used again
  (the spec's window is 600 s);
- :func:`attempt_window_add`: the lockout window's row, locked, counted and expired in place.

:func:`durable_purge` deletes expired rows (beat, every minute).
"""
from __future__ import annotations

import datetime as dt
import math

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.models import AttemptWindow, SeenNonce


def nonce_consume(*, client_id: str, nonce: str, now: dt.datetime | None = None) -> bool:
    """Record ``nonce`` of ``client_id``; ``True`` when it was not seen within the last
    ``settings.NONCE_TTL_SECONDS`` (the request may proceed), ``False`` for a replay."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.NONCE_TTL_SECONDS)
    table = connection.ops.quote_name(SeenNonce._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} (client_id, nonce, seen_at) VALUES (%s, %s, %s) "  # noqa: S608
            f"ON CONFLICT (client_id, nonce) DO UPDATE SET seen_at = excluded.seen_at "
            f"WHERE {table}.seen_at < %s RETURNING id",
            [client_id, nonce, now, cutoff],
        )
        return cur.fetchone() is not None


def attempt_window_add(*, key: str, delta: int, seconds: int,
                       now: dt.datetime | None = None) -> tuple[int, int]:
    """Add ``delta`` to the fixed window ``key`` (``seconds`` long, starting at its first attempt,
    never extended); returns ``(count, seconds left)``. A negative ``delta`` on a missing or
    expired window changes nothing and returns ``(0, 0)``; the count never goes below 0."""
    now = now or timezone.now()
    for _ in range(3):
        try:
            with transaction.atomic():
                row = AttemptWindow.objects.select_for_update().filter(key=key).first()
                if row is None or row.ends_at <= now:
                    if delta <= 0:
                        return 0, 0
                    ends_at = now + dt.timedelta(seconds=seconds)
                    if row is None:
                        AttemptWindow.objects.create(key=key, count=delta, ends_at=ends_at)
                    else:
                        AttemptWindow.objects.filter(pk=row.pk).update(count=delta, ends_at=ends_at)
                    return delta, seconds
                row.count = max(0, row.count + delta)
                AttemptWindow.objects.filter(pk=row.pk).update(count=row.count)
                return row.count, max(0, math.ceil((row.ends_at - now).total_seconds()))
        except IntegrityError:  # a concurrent first attempt created the row: count on it
            continue
    raise RuntimeError(f"attempt window {key} could not be updated")  # pragma: no cover


def durable_purge(now: dt.datetime | None = None) -> int:
    """Delete nonces older than the TTL and expired attempt windows; returns how many rows."""
    now = now or timezone.now()
    nonces, _ = SeenNonce.objects.filter(
        seen_at__lt=now - dt.timedelta(seconds=settings.NONCE_TTL_SECONDS)).delete()
    windows, _ = AttemptWindow.objects.filter(ends_at__lte=now).delete()
    return nonces + windows
