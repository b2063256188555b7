"""Many settlements in one call (spec/hospital-api.md §POST /settlements/batch).

Each item is atomic on its own (a savepoint of one transaction). Every person named by the batch
is locked up front in primary-key order, so two batches never deadlock each other; a deadlock or
serialization failure (e.g. against a concurrent reversal) rolls the whole attempt back and it is
retried, so results are still exactly once.

One item's failure is that item's result, never the batch's: a refusal (``DomainError``) is its
problem; a value the database cannot store (``DataError``, e.g. a numeric overflow) is ``400
invalid``; any other unexpected error of one item is ``422 item_failed`` (logged; its savepoint is
rolled back). Only an outage (``core.errors.is_outage``: ``OperationalError``/``InterfaceError``,
broker or cache connection failures) fails the whole call, so the client gets ``503`` and may retry;
deadlocks and serialization failures are operational errors too and are retried first.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.db import DatabaseError, DataError, IntegrityError, transaction

from accounts.models import Institution
from clearing.services.cycles import cycle_for_write
from core.errors import DomainError, is_outage
from core.principals import Principal
from settlement.errors import item_failed, unstorable_value
from settlement.requests import SettlementRequest
from settlement.services.batch_state import (
    BatchState,
    batch_lock_persons,
    batch_state_load,
)
from settlement.services.settle import (
    SettleOutcome,
    existing_by_serial,
    existing_by_serials,
    prepare_parsed,
    replay_or_conflict,
    settle_locked,
)

ItemResult = SettleOutcome | DomainError

logger = logging.getLogger("kuasheng.settlement")
RETRIES = 3
RETRYABLE_PGCODES = ("40P01", "40001")  # deadlock_detected, serialization_failure


def _failure(e: Exception) -> DomainError:
    """The result of an item that failed unexpectedly (not a refusal). Outages are never passed here."""
    if isinstance(e, DataError):
        return unstorable_value()
    logger.exception("batch item failed")
    return item_failed()


def _retryable(e: DatabaseError) -> bool:
    return getattr(getattr(e, "__cause__", None), "sqlstate", None) in RETRYABLE_PGCODES


def settlements_batch(
    *, institution: Institution, requests: Sequence[SettlementRequest], principal: Principal
) -> list[ItemResult]:
    """Settle ``requests`` (valid in format) in order. Returns one result per request, in order: a
    :class:`SettleOutcome` (``created`` False: replayed) or the ``DomainError`` refusing that item
    (``422 item_failed`` for an unexpected error of one item). Raises only for an outage.

    Each item gets the checks of the single endpoint in the same order (known serial, line amounts,
    person, ...); the serials already recorded are read in one query for the whole batch."""
    results: list[ItemResult | None] = [None] * len(requests)
    known = _known_serials(institution, list(requests))
    pending: list[tuple[int, SettlementRequest, str, int]] = []
    for i, req in enumerate(requests):
        try:
            fingerprint = req.fingerprint()
            if known is not None:
                existing = known.get(req.serial)
            else:
                existing = existing_by_serial(institution, req.medins_setl_id)
            replay, person = prepare_parsed(req, fingerprint, existing)
        except Exception as e:  # noqa: BLE001 — one item's failure is its own result
            results[i] = _item_error(e)
            continue
        if replay is not None:
            results[i] = replay
        else:
            assert person is not None
            pending.append((i, req, fingerprint, person.pk))
    if pending:
        for i, res in _settle_pending(institution, pending, principal).items():
            results[i] = res
    return [r for r in results if r is not None]


def _item_error(e: Exception) -> DomainError:
    """The result of an item refused or failed before the writing transaction (outages re-raised)."""
    if isinstance(e, DomainError):
        return e
    if is_outage(e):
        raise e
    return _failure(e)


def _known_serials(institution: Institution, reqs: list[SettlementRequest]) -> dict[str, Any] | None:
    """The batch's serials already recorded (one query); None when that query fails other than by
    an outage, so each item looks its serial up alone and only that item fails."""
    try:
        return existing_by_serials(institution, [r.medins_setl_id or "" for r in reqs])
    except Exception as e:  # noqa: BLE001
        if is_outage(e):
            raise
        return None


def _settle_pending(
    institution: Institution, pending: list[tuple[int, SettlementRequest, str, int]], principal: Principal
) -> dict[int, ItemResult]:
    for attempt in range(RETRIES):
        done: dict[int, ItemResult] = {}
        try:
            with transaction.atomic():
                persons = batch_lock_persons([p for *_, p in pending])
                cycle = cycle_for_write()
                state = batch_state_load(institution, persons, [req for _, req, _, _ in pending])
                for i, req, fingerprint, person_id in pending:
                    done[i] = _one(institution, req, fingerprint, person_id, principal, cycle, state)
            return done
        except DatabaseError as e:
            if not _retryable(e) or attempt == RETRIES - 1:
                raise
            logger.info("batch retried after %s", type(e).__name__)
    raise RuntimeError("unreachable")  # pragma: no cover


def _one(
    institution: Institution,
    req: SettlementRequest,
    fingerprint: str,
    person_id: int,
    principal: Principal,
    cycle: Any,
    state: BatchState,
) -> ItemResult:
    """One item; its writes are one savepoint (:func:`settle_locked`'s own), as is the replay read
    after a duplicate serial (nothing else here queries, so a failure never poisons the batch).
    Outages (and retryable deadlocks, which are operational errors) propagate to
    :func:`_settle_pending`; everything else is this item's result."""
    try:
        outcome = _settle_or_replay(institution, req, fingerprint, person_id, principal, cycle, state)
        return outcome
    except DomainError as e:
        return e
    except Exception as e:  # noqa: BLE001 — one item's failure is its own result
        if is_outage(e):
            raise
        return _failure(e)


def _settle_or_replay(
    institution: Institution,
    req: SettlementRequest,
    fingerprint: str,
    person_id: int,
    principal: Principal,
    cycle: Any,
    state: BatchState,
) -> SettleOutcome:
    try:
        return settle_locked(
            institution=institution,
            req=req,
            fingerprint=fingerprint,
            person_id=person_id,
            principal=principal,
            cycle=cycle,
            state=state,
        )
    except IntegrityError:
        with transaction.atomic():
            existing = existing_by_serial(institution, req.medins_setl_id)
        if existing is None:
            raise
        return replay_or_conflict(existing, fingerprint)
