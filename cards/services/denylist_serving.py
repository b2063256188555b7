"""Serving signed deny-list documents (spec/cards.md §Deny lists; issue 13: delta fetches p99 ≤ 20
ms at 200 fetches/s, a status move in the next delta within 1 s of its commit).

A fetch of the latest full list or of ``delta?since=S`` is **one query**: the latest version and
its ``issued_at`` (for the hourly freshness rule), ``S``'s ``issued_at`` (retention) and the
stored signed document latest ← S. Documents are built and signed once per (version, base) by
:mod:`cards.services.denylist` and then served as the stored bytes: no signing, no canonical JSON,
no JSON re-parsing per fetch. Nothing is cached in the process, so a version committed by any
worker is served by every worker from its next fetch on (the visibility target), and a document
is always the one stored for its version pair (``same bytes for the same version``).

:meth:`Served.etag` names the bytes (an Ed25519 signature names its message under one key), so a
reader that sends it back in ``If-None-Match`` gets ``304`` while its list is current.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone

from cards.models import DenyListDocument, DenyListVersion
from cards.services.denylist import FULL, delta_document, full_document, latest_version, version_get
from core.errors import DomainError

FRESH = dt.timedelta(hours=1)  # the heartbeat: an older latest version runs the tick first


@dataclass(frozen=True)
class Served:
    """A signed document as served: canonical bytes, raw Ed25519 signature, key id."""

    version: int
    base_version: int  # 0: a full list
    canonical: bytes
    signature: bytes
    key_id: str

    def etag(self, part: str) -> str:
        """A strong validator of the bytes answered as ``part`` (``json``, ``sig``, ``envelope``):
        the version pair and the signature's first 16 bytes."""
        return f'"dl-{self.base_version}-{self.version}-{self.signature[:16].hex()}-{part}"'


def _served(doc: DenyListDocument) -> Served:
    return Served(
        version=doc.version,
        base_version=doc.base_version,
        canonical=bytes(doc.canonical),
        signature=bytes(doc.signature),
        key_id=doc.key_id,
    )


def _aware(value: dt.datetime | str | None) -> dt.datetime | None:
    """A timestamp read by a plain cursor (SQLite gives UTC text without an offset)."""
    if value is None or isinstance(value, dt.datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=dt.UTC)
    at = dt.datetime.fromisoformat(value)
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def _lookup(base: int) -> tuple[int, dt.datetime, dt.datetime | None, Served | None] | None:
    """(latest version, its ``issued_at``, ``base``'s ``issued_at`` or ``None``, the stored
    document latest ← ``base`` or ``None``) in one query; ``None`` when no version exists."""
    qn = connection.ops.quote_name
    versions, documents = qn(DenyListVersion._meta.db_table), qn(DenyListDocument._meta.db_table)
    sql = (
        "SELECT v.version, v.issued_at, b.issued_at, d.canonical, d.signature, d.key_id "  # noqa: S608
        f"FROM (SELECT version, issued_at FROM {versions} ORDER BY version DESC LIMIT 1) v "
        f"LEFT JOIN {versions} b ON b.version = %s "
        f"LEFT JOIN {documents} d ON d.version = v.version AND d.base_version = %s"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [base, base])
        row = cur.fetchone()
    if row is None:
        return None
    version, issued, base_issued, canonical, signature, key_id = row
    doc = None
    if canonical is not None:
        doc = Served(version, base, bytes(canonical), bytes(signature), key_id)
    issued_at = _aware(issued)
    assert issued_at is not None  # a NOT NULL column
    return version, issued_at, _aware(base_issued), doc


def _fresh(base: int, now: dt.datetime) -> tuple[int, dt.datetime, dt.datetime | None, Served | None]:
    """:func:`_lookup`, after the tick when the latest version is an hour old (so the embedded
    default without beat serves fresh lists) or after re-issuing version 1 when none exists."""
    found = _lookup(base)
    if found is None or found[1] <= now - FRESH:
        if found is None:
            latest_version()  # version 1, the empty list (re-issued after a test's flush)
        else:
            from cards.services.tick import deny_list_tick

            deny_list_tick(now=now)
        found = _lookup(base)
        assert found is not None
    return found


def full_for(version: int | None = None, *, now: dt.datetime | None = None) -> Served:
    """``GET /deny-list`` (latest) or ``?version=V`` (``422 unknown_version`` if never issued)."""
    now = now or timezone.now()
    latest, _issued, _base, doc = _fresh(FULL, now)
    if version is not None and version != latest:
        return _served(full_document(version_get(version)))
    if doc is not None:
        return doc
    return _served(full_document(version_get(latest)))


def delta_for(since: int, *, now: dt.datetime | None = None) -> Served:
    """``GET /deny-list/delta?since=S``: ``422 unknown_version`` when S is beyond the latest,
    ``410 delta_unavailable`` when S was issued before the retention (``DENY_LIST_RETENTION``
    seconds, 30 days) or never existed; S = latest → the empty delta."""
    now = now or timezone.now()
    latest, _issued, base_issued, doc = _fresh(since, now)
    if since > latest:
        raise DomainError("unknown_version", f"version {since} is beyond the latest", field="since")
    retention = dt.timedelta(seconds=int(getattr(settings, "DENY_LIST_RETENTION", 30 * 86400)))
    if base_issued is None or base_issued < now - retention:
        raise DomainError(
            "delta_unavailable", "this version is older than the retention: fetch the full list", status=410
        )
    if doc is not None:
        return doc
    return _served(delta_document(since, version_get(latest)))
