"""Hash-chained audit log (spec/security.md §Audit).

Writers call :func:`audit_log` (or :func:`audit_principal`) inside their transaction, so the record
commits or rolls back with the write. :func:`audit_seal` links committed records into the chain
behind the writes (Celery beat every 5 s, and before each close); :func:`audit_verify` re-computes
the chain. No personal data in clear: callers pass ids (``psn_no``, ``setl_id``) and codes only.

Chain: sealed records in ``seal_seq`` order 1..N, ``record_hash = SHA-256(prev_hash ‖ RFC 8785 JSON
of the record)``, ``prev_hash`` of #1 = 64 zeros. The head (last seq, id, hash) is also kept in
:class:`core.models.AuditSealCheckpoint`, updated in the sealing transaction, so that deleting
the last sealed record (which breaks no link) is detected as well as edits and deletions inside.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.bulk import rows_insert
from core.canonical import canonical_bytes
from core.middleware import request_id_var
from core.models import AuditRecord, AuditSealCheckpoint
from core.pooling import cursor_transaction

GENESIS = "0" * 64
CHECKPOINT_PK = 1


def audit_log(*, actor: str, role: str, action: str, object_type: str, object_id: str,
              detail: dict[str, Any] | None = None) -> AuditRecord:
    """Append an (unsealed) audit record. ``detail`` must hold no personal data (JSON values only).
    One ``INSERT`` without the ORM's per-value preparation (:func:`core.bulk.rows_insert`): every
    write of the house pays it."""
    record = AuditRecord(
        at=timezone.now(), actor=actor[:100], role=role, action=action, object_type=object_type,
        object_id=str(object_id)[:100], request_id=request_id_var.get(), detail=detail or {},
    )
    rows_insert(AuditRecord, [record])
    return record


def audit_principal(principal: Any, action: str, object_type: str, object_id: str,
                    detail: dict[str, Any] | None = None) -> AuditRecord:
    """:func:`audit_log` for a :class:`core.principals.Principal` (or ``None`` → system)."""
    actor = getattr(principal, "actor", "system")
    role = getattr(principal, "role", "system")
    return audit_log(actor=actor, role=role, action=action, object_type=object_type, object_id=object_id,
                     detail=detail)


def audit_principal_many(principal: Any, action: str, object_type: str,
                         entries: list[tuple[str, dict[str, Any]]]) -> None:
    """:func:`audit_principal` for many objects at once, ``entries`` = ``[(object_id, detail)]``:
    one multi-row INSERT (e.g. a batch of settlements)."""
    actor = str(getattr(principal, "actor", "system"))[:100]
    role = getattr(principal, "role", "system")
    at, request_id = timezone.now(), request_id_var.get()
    rows_insert(AuditRecord, [
        AuditRecord(at=at, actor=actor, role=role, action=action, object_type=object_type,
                    object_id=str(object_id)[:100], request_id=request_id, detail=detail)
        for object_id, detail in entries
    ], returning=())


def _record_bytes(r: AuditRecord) -> bytes:
    return canonical_bytes({
        "id": r.id, "seq": r.seal_seq, "at": r.at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": r.actor, "role": r.role, "action": r.action, "object_type": r.object_type,
        "object_id": r.object_id, "request_id": r.request_id, "detail": r.detail,
    })


def _link(prev: str, r: AuditRecord) -> str:
    return hashlib.sha256(prev.encode() + _record_bytes(r)).hexdigest()


def _locked_checkpoint() -> AuditSealCheckpoint:
    """The checkpoint row, locked for this transaction (created on first use)."""
    head = AuditSealCheckpoint.objects.select_for_update().filter(pk=CHECKPOINT_PK).first()
    if head is not None:
        return head
    try:
        with transaction.atomic():
            AuditSealCheckpoint.objects.create(pk=CHECKPOINT_PK, last_seq=0, last_id=0, last_hash=GENESIS)
    except IntegrityError:  # another sealer created it first
        pass
    return AuditSealCheckpoint.objects.select_for_update().get(pk=CHECKPOINT_PK)


def _write_links(rows: list[AuditRecord]) -> None:
    """One UPDATE per row, sent as a batch (psycopg pipelines ``executemany``): linear, where
    ``bulk_update``'s CASE expression grows with the square of the batch."""
    table = connection.ops.quote_name(AuditRecord._meta.db_table)
    with connection.cursor() as cur:
        cur.executemany(
            f"UPDATE {table} SET seal_seq = %s, prev_hash = %s, record_hash = %s WHERE id = %s",  # noqa: S608
            [(r.seal_seq, r.prev_hash, r.record_hash, r.id) for r in rows],
        )


def audit_seal(batch: int = 5000) -> int:
    """Seal committed, unsealed records (oldest id first), ``batch`` per transaction.

    Returns how many were sealed. The checkpoint row is locked for each batch, so two sealers never
    interleave; writers are never blocked (they only insert). A record whose transaction commits
    after a higher id was sealed is simply sealed in a later run, at the end of the chain.
    """
    sealed = 0
    while True:
        with transaction.atomic():
            head = _locked_checkpoint()
            rows = list(AuditRecord.objects.filter(seal_seq__isnull=True).order_by("id")[:batch])
            if not rows:
                return sealed
            prev, seq = head.last_hash, head.last_seq
            for r in rows:
                seq += 1
                r.seal_seq, r.prev_hash = seq, prev
                r.record_hash = prev = _link(prev, r)
            _write_links(rows)
            head.last_seq, head.last_id, head.last_hash = seq, rows[-1].id, prev
            head.save(update_fields=["last_seq", "last_id", "last_hash", "updated_at"])
            sealed += len(rows)


@dataclass
class AuditVerdict:
    """Result of :func:`audit_verify`: ``checked`` sealed records re-computed (ids ``first_id`` ..
    ``last_id``), ``unsealed`` waiting, of which ``stale`` are older than the allowed lag (the
    oldest at ``oldest_unsealed_at``); on failure ``first_bad_id`` (record id, or ``None`` when the
    chain's end is missing or records are stale) and why."""

    ok: bool
    checked: int
    unsealed: int
    first_bad_id: int | None = None
    reason: str = ""
    stale: int = 0
    first_id: int | None = None
    last_id: int | None = None
    oldest_unsealed_at: dt.datetime | None = None


def _chain_verdict(unsealed: int) -> AuditVerdict:
    prev, checked, first_id, last_id = GENESIS, 0, None, 0
    sealed = AuditRecord.objects.filter(seal_seq__isnull=False).order_by("seal_seq")
    with cursor_transaction():  # the server-side cursor lives in a transaction (core.pooling)
        for r in sealed.iterator(chunk_size=5000):
            if r.seal_seq != checked + 1:
                return AuditVerdict(False, checked, unsealed, r.id,
                                    f"sealed record #{checked + 1} is missing (next found is #{r.seal_seq})")
            if r.prev_hash != prev or _link(prev, r) != r.record_hash:
                return AuditVerdict(False, checked, unsealed, r.id,
                                    "hash chain broken (edited or deleted record)")
            prev, checked, last_id = r.record_hash, checked + 1, r.id
            first_id = r.id if first_id is None else first_id
    head = AuditSealCheckpoint.objects.filter(pk=CHECKPOINT_PK).first()
    head_seq, head_hash = (head.last_seq, head.last_hash) if head else (0, GENESIS)
    if (head_seq, head_hash) != (checked, prev) or (head is not None and head.last_id != last_id):
        return AuditVerdict(False, checked, unsealed, None,
                            f"chain ends at #{checked} but the seal checkpoint says #{head_seq}: "
                            "sealed records were deleted (or the checkpoint altered)")
    return AuditVerdict(True, checked, unsealed, first_id=first_id, last_id=last_id or None)


def audit_verify(*, max_unsealed_age: float | None = None, now: dt.datetime | None = None) -> AuditVerdict:
    """Re-compute the chain over every sealed record and compare its end with the checkpoint.

    Detects an edited record (hash differs), a deleted or re-ordered one (``seal_seq`` gap or
    ``prev_hash`` mismatch), a deleted last record or a rolled-back checkpoint (end ≠ checkpoint).
    An unsealed record is protected by nothing, so with ``max_unsealed_age`` (seconds) unsealed
    records older than that fail the verdict: the sealer is not keeping up (or not running), and
    "OK" would speak about records nobody checked. ``None`` reports them without failing.
    """
    waiting = AuditRecord.objects.filter(seal_seq__isnull=True)
    unsealed = waiting.count()
    oldest = waiting.order_by("at").values_list("at", flat=True).first()
    verdict = _chain_verdict(unsealed)
    verdict.oldest_unsealed_at = oldest
    if max_unsealed_age is not None and oldest is not None:
        limit = (now or timezone.now()) - dt.timedelta(seconds=max_unsealed_age)
        verdict.stale = waiting.filter(at__lt=limit).count()
        if verdict.ok and verdict.stale:
            verdict.ok = False
            verdict.reason = (f"{verdict.stale} unsealed records are older than {max_unsealed_age:g} s "
                              "(the sealer is not running?): their integrity was not checked")
    return verdict
