"""Hash-chained audit log (spec/security.md §Audit).

Writers call :func:`audit_log` inside their transaction (the record commits or rolls back with the
write). :func:`audit_seal` links committed records in id order; :func:`audit_verify` re-computes
the chain. No personal data in clear: callers pass ids (``psn_no``, ``setl_id``) and codes only.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from core.canonical import canonical_bytes
from core.middleware import request_id_var
from core.models import AuditRecord

GENESIS = "0" * 64


def audit_log(*, actor: str, role: str, action: str, object_type: str, object_id: str,
              detail: dict[str, Any] | None = None) -> AuditRecord:
    """Append an (unsealed) audit record. ``detail`` must hold no personal data."""
    return AuditRecord.objects.create(
        at=timezone.now(), actor=actor[:100], role=role, action=action, object_type=object_type,
        object_id=str(object_id)[:100], request_id=request_id_var.get(), detail=detail or {},
    )


def audit_principal(principal: Any, action: str, object_type: str, object_id: str,
                    detail: dict[str, Any] | None = None) -> AuditRecord:
    """:func:`audit_log` for a :class:`core.principals.Principal` (or ``None`` → system)."""
    actor = getattr(principal, "actor", "system")
    role = getattr(principal, "role", "system")
    return audit_log(actor=actor, role=role, action=action, object_type=object_type, object_id=object_id,
                     detail=detail)


def _record_bytes(r: AuditRecord) -> bytes:
    return canonical_bytes({
        "id": r.id, "at": r.at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": r.actor, "role": r.role, "action": r.action, "object_type": r.object_type,
        "object_id": r.object_id, "request_id": r.request_id, "detail": r.detail,
    })


def _link(prev: str, r: AuditRecord) -> str:
    return hashlib.sha256(prev.encode() + _record_bytes(r)).hexdigest()


def audit_seal(batch: int = 5000) -> int:
    """Seal committed, unsealed records in id order. Returns how many were sealed.

    Holds an advisory lock (PostgreSQL) so two sealers never interleave.
    """
    sealed = 0
    while True:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cur:
                    cur.execute("SELECT pg_advisory_xact_lock(7302, 1)")
            last = AuditRecord.objects.exclude(record_hash="").order_by("-id").first()
            prev = last.record_hash if last else GENESIS
            after = last.id if last else 0
            rows = list(AuditRecord.objects.filter(id__gt=after, record_hash="").order_by("id")[:batch])
            if not rows:
                return sealed
            for r in rows:
                r.prev_hash = prev
                r.record_hash = prev = _link(prev, r)
            AuditRecord.objects.bulk_update(rows, ["prev_hash", "record_hash"])
            sealed += len(rows)


@dataclass
class AuditVerdict:
    ok: bool
    checked: int
    unsealed: int
    first_bad_id: int | None = None
    reason: str = ""


def audit_verify() -> AuditVerdict:
    """Re-compute the chain over every sealed record; detects edits, deletions and re-ordering."""
    prev = GENESIS
    checked = 0
    seen_unsealed = False
    unsealed = 0
    for r in AuditRecord.objects.order_by("id").iterator(chunk_size=5000):
        if not r.record_hash:
            seen_unsealed = True
            unsealed += 1
            continue
        if seen_unsealed:
            return AuditVerdict(False, checked, unsealed, r.id, "sealed record after an unsealed one")
        if r.prev_hash != prev or _link(prev, r) != r.record_hash:
            return AuditVerdict(False, checked, unsealed, r.id, "hash chain broken (edited or deleted record)")
        prev = r.record_hash
        checked += 1
    return AuditVerdict(True, checked, unsealed)
