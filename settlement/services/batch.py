"""Settle many bills in one call (spec/hospital-api.md §POST /settlements/batch); a single
settlement is a batch of one (:func:`settlement.services.settle.settlement_create`).

Set-based: the serials already recorded, the persons (by blind index), their accumulators and
filings are read with one query each for the whole batch, policies and catalogue come from the
process cache; the items are then checked and split in memory in order (each sees what the items
before it moved), and everything is written with one multi-row statement per table
(:mod:`settlement.services.writes`). Exactly once: ``(institution, medins_setl_id)`` is unique.

Isolation of one item: a refusal is that item's result and moves nothing. If the batch's writes
fail (a concurrent twin's serial, a value the database cannot store), the attempt is rolled back
and the items are settled again in a new transaction one by one, each in its own savepoint, so one
bad item never fails the others. Every person of the batch is locked up front in primary-key order, so
two batches never deadlock each other; a deadlock or serialization failure rolls the whole attempt
back and it is retried. Only an outage (``core.errors.is_outage``) fails the call (``503``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import DatabaseError, DataError, IntegrityError, transaction
from django.utils import timezone

from accounts.models import Institution, Person
from accounts.selectors import persons_by_credentials
from clearing.models import Cycle
from clearing.services.cycles import cycle_for_write
from core import metrics
from core.bulk import rows_where_in
from core.errors import DomainError, is_outage
from core.principals import Principal
from settlement import eligibility as elig
from settlement.errors import item_failed, unstorable_value
from settlement.models import Settlement
from settlement.requests import SettlementRequest
from settlement.selectors import settlement_by_serial, settlements_by_serials
from settlement.services.drafts import Draft, draft_apply, settlement_draft
from settlement.services.lookups import BatchLookups, batch_lookups_load
from settlement.services.outcomes import SettleOutcome, replay_or_conflict
from settlement.services.writes import SerialTaken, drafts_write

logger = logging.getLogger("kuasheng.settlement")
RETRIES = 3
RETRYABLE_PGCODES = ("40P01", "40001")  # deadlock_detected, serialization_failure
ItemResult = SettleOutcome | DomainError
Known = dict[str, Settlement]


@dataclass(frozen=True)
class Pending:
    """An item that passed the checks before the lock: to settle for ``person_id``."""

    index: int
    request: SettlementRequest
    fingerprint: str
    person_id: int


def settlements_batch(
    *, institution: Institution, requests: Sequence[SettlementRequest], principal: Principal
) -> list[ItemResult]:
    """Settle ``requests`` (valid in format) in order. Returns one result per request, in order: a
    :class:`SettleOutcome` (``created`` False: replayed) or the ``DomainError`` refusing that item
    (``422 item_failed`` for an unexpected error of one item, ``400 invalid`` ``unstorable_value``).
    Raises only for an outage. Each item gets the checks of the single endpoint in the same order."""
    return settle_requests(institution, list(requests), principal, isolate=True)


def settle_requests(
    institution: Institution,
    requests: list[SettlementRequest],
    principal: Principal,
    *,
    isolate: bool,
    persons: list[Person] | None = None,
) -> list[ItemResult]:
    """:func:`settlements_batch`; ``isolate`` False (a single request) lets an unexpected error raise.
    ``persons``: each request's person, already found by its credential and passed through
    :func:`settlement.eligibility.person_checks` by the caller (the gateway), so not looked up again."""
    results: list[ItemResult | None] = [None] * len(requests)
    fingerprints = [r.fingerprint() for r in requests]
    known = settlements_by_serials(institution, [r.serial for r in requests])
    checked: list[int] = []
    for i, req in enumerate(requests):  # spec order: known serial, line amounts, then the person
        if req.serial in known:
            results[i] = _replay(known[req.serial], fingerprints[i])
            continue
        try:
            elig.check_line_amounts(req)
            checked.append(i)
        except DomainError as e:
            results[i] = e
    found: list[Person | DomainError]
    listed: dict[str, dict] = {}
    if persons is not None:
        found = [persons[i] for i in checked]
    else:
        credentials = [(r.cert_type, r.cert_no, r.card_sn) for r in (requests[i] for i in checked)]
        found = persons_by_credentials(credentials)
        listed = elig.cards_listed(  # the deny list for every card of the batch: one query
            [requests[i] for i, p in zip(checked, found, strict=True) if not isinstance(p, DomainError)]
        )
    pending: list[Pending] = []
    for i, person in zip(checked, found, strict=True):
        try:
            if isinstance(person, DomainError):
                raise person
            if persons is None:
                elig.person_checks(requests[i], person, listed)
            pending.append(Pending(i, requests[i], fingerprints[i], person.pk))
        except DomainError as e:
            results[i] = e
    if pending:
        for i, res in _settle_pending(institution, pending, known, principal, isolate).items():
            results[i] = res
    decided = [r for r in results if r is not None]
    for r in decided:  # kuasheng_settlements_total, for the API and every other caller (the gateway)
        metrics.settlement_recorded(code=r.code if isinstance(r, DomainError) else
                                    "ok" if r.created else "replayed")
    return decided


def _replay(existing: object, fingerprint: str) -> ItemResult:
    try:
        return replay_or_conflict(existing, fingerprint)  # type: ignore[arg-type]
    except DomainError as e:
        return e


def _retryable(e: DatabaseError) -> bool:
    return getattr(getattr(e, "__cause__", None), "sqlstate", None) in RETRYABLE_PGCODES


class _WritesFailed(Exception):
    """The batch's multi-row writes failed (not an outage): settle its items one by one."""


def _settle_pending(
    institution: Institution, pending: list[Pending], known: Known, principal: Principal, isolate: bool
) -> dict[int, ItemResult]:
    one_by_one, attempt = False, 0
    lookups: Known | None = known
    while True:
        try:
            with transaction.atomic():  # a failure of the batch's writes rolls back the whole attempt
                return _attempt(institution, pending, None if one_by_one else lookups, principal, isolate,
                                one_by_one=one_by_one)
        except _WritesFailed as e:
            if isinstance(e.__cause__, SerialTaken) and lookups is not None:
                # a twin committed one of our serials first: read the serials again (its item is
                # then a replay or a 409) and write the batch again, once
                logger.info("batch serials taken meanwhile: reading them again")
                lookups = None
                continue
            logger.info("batch writes failed (%s): settling one by one", type(e.__cause__).__name__)
            one_by_one = True
        except DatabaseError as e:
            attempt += 1
            if not _retryable(e) or attempt == RETRIES:
                raise
            logger.info("batch retried after %s", type(e).__name__)


def _load(
    institution: Institution, pending: list[Pending], known: Known | None
) -> tuple[BatchLookups, Cycle]:
    """Lock the persons (primary-key order), then the open cycle (shared), then read the lookups
    (``known`` None: read the serials again)."""
    ids = sorted({p.person_id for p in pending})
    locked = rows_where_in(Person, "id", ids, extra="ORDER BY id", lock=True)
    cycle = cycle_for_write()
    lk = batch_lookups_load(institution, {p.pk: p for p in locked}, [p.request for p in pending],
                            clr_date=cycle.clr_date, known=known)
    return lk, cycle


def _attempt(
    institution: Institution,
    pending: list[Pending],
    known: Known | None,
    principal: Principal,
    isolate: bool,
    *,
    one_by_one: bool,
) -> dict[int, ItemResult]:
    """One try, inside the batch's transaction: every draft written at once (no savepoint: a
    failure raises :class:`_WritesFailed` and the caller starts again one by one)."""
    lk, cycle = _load(institution, pending, known)
    if one_by_one:
        return _one_by_one(lk, pending, cycle, principal, isolate)
    results: dict[int, ItemResult] = {}
    drafts: list[tuple[int, Draft]] = []
    for p in pending:
        try:
            outcome = _draft_or_replay(lk, p)
        except DomainError as e:
            results[p.index] = e
            continue
        except Exception as e:
            if is_outage(e) or not isolate:
                raise
            logger.exception("batch item failed")
            results[p.index] = item_failed()
            continue
        if isinstance(outcome, Draft):
            draft_apply(lk, outcome)
            drafts.append((p.index, outcome))
        else:
            results[p.index] = outcome
    try:
        drafts_write([d for _, d in drafts], cycle=cycle, principal=principal)
    except Exception as e:
        if is_outage(e):
            raise
        raise _WritesFailed from e
    results.update({i: _created(d) for i, d in drafts})
    return results


def _created(d: Draft) -> SettleOutcome:
    return SettleOutcome(d.settlement, created=True, cap_left=d.cap_left, lines=d.lines)


def _draft_or_replay(lk: BatchLookups, p: Pending) -> Draft | SettleOutcome:
    existing = lk.known.get(p.request.serial)
    if existing is not None:  # recorded before the lock was taken, or by an earlier item
        return replay_or_conflict(existing, p.fingerprint)
    return settlement_draft(lk, p.request, p.fingerprint, lk.persons[p.person_id], timezone.now())


def _one_by_one(
    lk: BatchLookups, pending: list[Pending], cycle: Cycle, principal: Principal, isolate: bool
) -> dict[int, ItemResult]:
    """Each item drafted and written in its own savepoint; only what was written is applied."""
    results: dict[int, ItemResult] = {}
    for p in pending:
        try:
            with transaction.atomic():
                outcome = _draft_or_replay(lk, p)
                if isinstance(outcome, Draft):
                    drafts_write([outcome], cycle=cycle, principal=principal)
            if isinstance(outcome, Draft):
                draft_apply(lk, outcome)
                outcome = _created(outcome)
            results[p.index] = outcome
        except DomainError as e:
            results[p.index] = e
        except Exception as e:
            if is_outage(e):
                raise
            results[p.index] = _failed(lk, p, e, isolate)
    return results


def _failed(lk: BatchLookups, p: Pending, e: Exception, isolate: bool) -> ItemResult:
    """An item whose own writes failed: a twin that committed first is replayed (or ``409``)."""
    if isinstance(e, IntegrityError):
        with transaction.atomic():
            existing = settlement_by_serial(lk.institution, p.request.medins_setl_id)
        if existing is not None:
            return _replay(existing, p.fingerprint)
    if isinstance(e, DataError):
        return unstorable_value()
    if not isolate:
        raise e
    logger.exception("batch item failed")
    return item_failed()
