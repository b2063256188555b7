"""Deny-list versions and documents (spec/cards.md §Deny lists).

A version is issued by :func:`deny_list_version_issue` for every transaction that changes one or
more entries (called by :class:`cards.services.status.CardTransaction` in that transaction) and
at most once per full hour Asia/Shanghai as a heartbeat (:func:`deny_list_tick`, which also
lapses due temporary losses and drops expired cards). Versions are serialised by a transaction-
level advisory lock (PostgreSQL; SQLite serialises writers anyway), so versions are issued, and
become visible, in order: a reader that saw V never later sees a version < V appear.

The list at V is rebuilt from the change rows (the last change per ``card_ref`` with version ≤
V); documents are built once per (version, base) and kept, so the same version always answers
the same bytes.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from cards import denylist_docs as docs
from cards.models import DenyListChange, DenyListDocument, DenyListVersion
from core.audit import audit_log
from core.crypto import current_signing_key
from core.errors import DomainError

logger = logging.getLogger("kuasheng.cards.denylist")
_LOCK = (7303, 1)  # advisory lock: one version issuer at a time
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
FULL = 0  # base_version of a full document


@dataclass(frozen=True)
class Change:
    """``add`` (listed with ``reason`` since ``since``) or ``remove`` of ``card_ref``."""

    card_ref: str
    op: str
    reason: str = ""
    since: dt.datetime | None = None


def max_age() -> dt.timedelta:
    """``DENY_LIST_MAX_AGE`` (seconds; default 24 h): a list expires this long after issue."""
    return dt.timedelta(seconds=int(getattr(settings, "DENY_LIST_MAX_AGE", 24 * 3600)))


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", list(_LOCK))


def latest_version() -> DenyListVersion:
    """The newest version (version 1, an empty list, exists from the migration on)."""
    v = DenyListVersion.objects.order_by("-version").first()
    if v is None:  # a database whose version 1 was removed (a test's flush): issue it now,
        with transaction.atomic():  # in a transaction of its own when the caller has none
            return deny_list_version_issue(changes=[], cause=DenyListVersion.Cause.OPENING)
    return v


def deny_list_version_issue(
    *,
    changes: list[Change],
    cause: str = DenyListVersion.Cause.CHANGE,
    at: dt.datetime | None = None,
    heartbeat_hour: dt.datetime | None = None,
) -> DenyListVersion:
    """Issue the next version with ``changes`` inside the caller's transaction (which it must
    be in; the version lock is held until it commits). Returns the new version."""
    if not connection.in_atomic_block:
        raise RuntimeError("deny_list_version_issue must run inside transaction.atomic")
    _lock()
    at = (at or timezone.now()).replace(microsecond=0)
    last = DenyListVersion.objects.aggregate(m=Max("version"))["m"] or 0
    version = DenyListVersion.objects.create(
        version=last + 1, issued_at=at, cause=cause, heartbeat_hour=heartbeat_hour
    )
    DenyListChange.objects.bulk_create(
        [
            DenyListChange(version=version, card_ref=c.card_ref, op=c.op, reason=c.reason, since=c.since)
            for c in changes
        ]
    )
    audit_log(
        actor="kuasheng",
        role="system",
        action="deny_list_version",
        object_type="deny_list",
        object_id=str(version.version),
        detail={"cause": cause, "changes": len(changes)},
    )
    return version


def list_state(version: int, refs: list[str] | None = None) -> dict[str, tuple[str, dt.datetime]]:
    """``{card_ref: (reason, since)}`` of the cards listed at ``version`` (optionally only
    ``refs``): the last change per card with version ≤ ``version``, when it is an ``add``."""
    latest = DenyListChange.objects.filter(version_id__lte=version)
    if refs is not None:
        latest = latest.filter(card_ref__in=refs)
    last = latest.values("card_ref").annotate(v=Max("version_id"))
    pairs = {(r["card_ref"], r["v"]) for r in last}
    if not pairs:
        return {}
    rows = DenyListChange.objects.filter(
        version_id__lte=version, card_ref__in={ref for ref, _ in pairs}
    ).values_list("card_ref", "version_id", "op", "reason", "since")
    return {
        ref: (reason, since)
        for ref, v, op, reason, since in rows
        if (ref, v) in pairs and op == "add" and since is not None  # an "add" always has its since
    }


def _sign(version: int, base: int, doc: dict) -> DenyListDocument:
    data = docs.canonical(doc)
    key = current_signing_key()
    try:
        with transaction.atomic():
            return DenyListDocument.objects.create(
                version=version,
                base_version=base,
                canonical=data,
                signature=key.sign(data),
                key_id=key.key_id,
            )
    except IntegrityError:  # built concurrently: the stored bytes are the answer
        return DenyListDocument.objects.get(version=version, base_version=base)


def full_document(version: DenyListVersion) -> DenyListDocument:
    """The signed full list at ``version`` (built once)."""
    found = DenyListDocument.objects.filter(version=version.version, base_version=FULL).first()
    if found is not None:
        return found
    state = list_state(version.version)
    doc = docs.full_document(
        version=version.version,
        issued_at=version.issued_at,
        max_age=max_age(),
        entries=[(ref, reason, since) for ref, (reason, since) in state.items()],
    )
    return _sign(version.version, FULL, doc)


def delta_document(base: int, version: DenyListVersion) -> DenyListDocument:
    """The signed delta from ``base`` to ``version`` (built once per pair). ``base`` must be ≥ 1
    and ≤ ``version``."""
    found = DenyListDocument.objects.filter(version=version.version, base_version=base).first()
    if found is not None:
        return found
    refs = sorted(
        set(
            DenyListChange.objects.filter(version_id__gt=base, version_id__lte=version.version).values_list(
                "card_ref", flat=True
            )
        )
    )
    before = list_state(base, refs) if refs else {}
    after = list_state(version.version, refs) if refs else {}
    full = full_document(version)
    import json

    doc = docs.delta_document(
        base_version=base,
        version=version.version,
        issued_at=version.issued_at,
        max_age=max_age(),
        entries=docs.delta_entries(before, after, refs),
        full_sha256=json.loads(bytes(full.canonical))["list_sha256"],
    )
    return _sign(version.version, base, doc)


def version_get(version: int) -> DenyListVersion:
    """A version by number: ``422 unknown_version`` when it was never issued."""
    found = DenyListVersion.objects.filter(version=version).first()
    if found is None:
        raise DomainError("unknown_version", f"deny-list version {version} was never issued", field="version")
    return found


def fresh_latest(*, now: dt.datetime | None = None) -> DenyListVersion:
    """The latest version, after running the tick when it is older than one hour (so the
    embedded default without beat serves fresh lists)."""
    now = now or timezone.now()
    latest = latest_version()
    if latest.issued_at <= now - dt.timedelta(hours=1):
        from cards.services.tick import deny_list_tick

        deny_list_tick(now=now)
        latest = latest_version()
    return latest
