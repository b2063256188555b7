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
from typing import Any

from django.db import DatabaseError, DataError, IntegrityError, transaction
from django.utils import timezone

from accounts.models import Institution
from clearing.services.cycles import cycle_for_write
from core.errors import DomainError, field_error, is_outage, problem_body
from settlement.presenters import setlinfo
from settlement.requests import parse_settle_request
from settlement.services.batch_state import (
    BatchState,
    batch_lock_persons,
    batch_state_load,
)
from settlement.services.settle import (
    existing_by_serial,
    existing_by_serials,
    prepare_parsed,
    replay_or_conflict,
    settle_locked,
)

logger = logging.getLogger("kuasheng.settlement")
MAX_ITEMS = 1000
RETRIES = 3
RETRYABLE_PGCODES = ("40P01", "40001")  # deadlock_detected, serialization_failure


def problem_of(e: DomainError) -> dict[str, Any]:
    """The problem+json document of a refusal, as the API would answer it alone."""
    extra = dict(e.extra)
    if e.errors is not None:
        extra["errors"] = e.errors
    elif e.field:
        extra["errors"] = [field_error(e.field, e.code, e.detail)]
    return problem_body(e.status, e.code, e.detail, **extra)


def _failure(e: Exception) -> dict[str, Any]:
    """The result of an item that failed unexpectedly (not a refusal). Outages are never passed here."""
    if isinstance(e, DataError):
        problem = problem_body(400, "invalid", "The request is not valid.", errors=[
            field_error("body", "unstorable_value", "A value of this request cannot be stored.")])
        return {"status": 400, "problem": problem}
    logger.exception("batch item failed")
    return {"status": 422, "problem": problem_body(
        422, "item_failed", "This item could not be settled; nothing was recorded for it. Retry it alone.")}


def _setlinfo(s: Any) -> dict[str, Any]:
    """The item's ``setlinfo`` (no query: person and institution are already loaded)."""
    return setlinfo(s, person=s.person, institution=s.institution)


def _retryable(e: DatabaseError) -> bool:
    return getattr(getattr(e, "__cause__", None), "sqlstate", None) in RETRYABLE_PGCODES


def _validate_items(data: Any) -> list[Any]:
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
        raise DomainError(
            "invalid",
            "The request is not valid.",
            status=400,
            errors=[field_error("items", "length", f"items must be a list of 1 to {MAX_ITEMS} requests")],
        )
    return items


def settlements_batch(*, institution: Institution, data: Any, principal: Any) -> list[dict[str, Any]]:
    """Settle ``data["items"]`` (1–1000 settle requests) in order. Returns one result per item:
    ``{"status": 201|200, "setlinfo": {...}}`` or ``{"status": 400|409|422, "problem": {...}}``.
    Raises ``400 invalid`` only when ``items`` itself is malformed.

    Each item gets the checks of the single endpoint in the same order (format, known serial, line
    amounts, person); the serials already recorded are read in one query for the whole batch."""
    items = _validate_items(data)
    now = timezone.now()
    results: list[dict[str, Any] | None] = [None] * len(items)
    parsed: list[tuple[int, Any, str]] = []
    for i, item in enumerate(items):
        try:
            req = parse_settle_request(item, now=now)
            parsed.append((i, req, req.fingerprint()))
        except Exception as e:  # noqa: BLE001 — one item's failure is its own result
            results[i] = _item_error(e)
    known = _known_serials(institution, [req for _, req, _ in parsed])
    pending: list[tuple[int, Any, str, int]] = []
    for i, req, fingerprint in parsed:
        try:
            existing = (
                known.get(req.medins_setl_id or "")
                if known is not None
                else existing_by_serial(institution, req.medins_setl_id)
            )
            replay, person = prepare_parsed(req, fingerprint, existing)
        except Exception as e:  # noqa: BLE001 — one item's failure is its own result
            results[i] = _item_error(e)
            continue
        if replay is not None:
            results[i] = {"status": 200, "setlinfo": _setlinfo(replay.settlement)}
        else:
            pending.append((i, req, fingerprint, person.pk))
    if pending:
        done = _settle_pending(institution, pending, principal)
        for i, res in done.items():
            results[i] = res
    return [r for r in results if r is not None]


def _item_error(e: Exception) -> dict[str, Any]:
    """The result of an item refused or failed before the writing transaction (outages re-raised)."""
    if isinstance(e, DomainError):
        return {"status": e.status, "problem": problem_of(e)}
    if is_outage(e):
        raise e
    return _failure(e)


def _known_serials(institution: Institution, reqs: list[Any]) -> dict[str, Any] | None:
    """The batch's serials already recorded (one query); None when that query fails other than by
    an outage, so each item looks its serial up alone and only that item fails."""
    try:
        return existing_by_serials(institution, [r.medins_setl_id or "" for r in reqs])
    except Exception as e:  # noqa: BLE001
        if is_outage(e):
            raise
        return None


def _settle_pending(
    institution: Institution, pending: list[tuple[int, Any, str, int]], principal: Any
) -> dict[int, dict[str, Any]]:
    for attempt in range(RETRIES):
        done: dict[int, dict[str, Any]] = {}
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
    req: Any,
    fingerprint: str,
    person_id: int,
    principal: Any,
    cycle: Any,
    state: BatchState,
) -> dict[str, Any]:
    """One item; its writes are one savepoint (:func:`settle_locked`'s own), as is the replay read
    after a duplicate serial (nothing else here queries, so a failure never poisons the batch).
    Outages (and retryable deadlocks, which are operational errors) propagate to
    :func:`_settle_pending`; everything else is this item's result."""
    try:
        outcome = _settle_or_replay(institution, req, fingerprint, person_id, principal, cycle, state)
        return {"status": 201 if outcome.created else 200, "setlinfo": _setlinfo(outcome.settlement)}
    except DomainError as e:
        return {"status": e.status, "problem": problem_of(e)}
    except Exception as e:  # noqa: BLE001 — one item's failure is its own result
        if is_outage(e):
            raise
        return _failure(e)


def _settle_or_replay(
    institution: Institution,
    req: Any,
    fingerprint: str,
    person_id: int,
    principal: Any,
    cycle: Any,
    state: BatchState,
) -> Any:
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
