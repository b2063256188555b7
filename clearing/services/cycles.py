"""Cycle bookkeeping on the write path (spec/clearing.md §Cycles, guarantee 1).

Every item (settlement, reversal, adjustment) is recorded with :func:`clearing_item_record` inside
the writer's transaction. The open cycle's date is ``max(today in Asia/Shanghai, last cut or closed
date + 1)``: at midnight the previous day is cut whether or not a job ran, and after an early close
new items go to the next business day.

On PostgreSQL each writer takes a *shared* transaction-level advisory lock on its cycle and then
re-reads the status; the cut takes the same lock *exclusive* to flip ``open`` → ``cut``
(:func:`cycle_lock_exclusive`). So a writer that committed before the cut is in the cycle, and one
that had not yet taken the lock sees ``cut`` and moves to the next day. On SQLite every write
transaction is ``IMMEDIATE`` and so already serialised.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from clearing.leaf import leaf_bytes, leaf_hash
from clearing.models import ClearingItem, Cycle

SHANGHAI = ZoneInfo("Asia/Shanghai")
_LOCK_CLASS = 7301  # advisory lock namespace for cycles


def business_day(at: dt.datetime | None = None) -> dt.date:
    """Asia/Shanghai date of an aware datetime (default: now)."""
    return (at or timezone.now()).astimezone(SHANGHAI).date()


def _date_key(d: dt.date) -> int:
    return d.year * 10000 + d.month * 100 + d.day


def open_cycle_date(now: dt.datetime | None = None) -> dt.date:
    """The date of the cycle open now: max(today, last cut/closed + 1)."""
    last = Cycle.objects.exclude(status=Cycle.Status.OPEN).aggregate(m=Max("clr_date"))["m"]
    today = business_day(now)
    if last is not None and last >= today:
        return last + dt.timedelta(days=1)
    return today


def cycle_ensure(clr_date: dt.date) -> Cycle:
    """The cycle row for ``clr_date``, created ``open`` when missing (safe under concurrency)."""
    cycle = Cycle.objects.filter(clr_date=clr_date).first()
    if cycle is not None:
        return cycle
    try:
        with transaction.atomic():
            return Cycle.objects.create(clr_date=clr_date, status=Cycle.Status.OPEN)
    except IntegrityError:
        return Cycle.objects.get(clr_date=clr_date)


def cycle_lock_shared(clr_date: dt.date) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock_shared(%s, %s)", [_LOCK_CLASS, _date_key(clr_date)])


def cycle_lock_exclusive(clr_date: dt.date) -> None:
    """Waits until every writer holding the shared lock of ``clr_date`` has committed or rolled back.
    Must be called inside the transaction that flips the status."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_CLASS, _date_key(clr_date)])


def cycle_for_write() -> Cycle:
    """The open cycle, locked shared for the rest of the caller's transaction.

    Must run inside ``transaction.atomic``. Returns a cycle whose status was ``open`` after the
    lock was taken, so it cannot be cut before the caller commits.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("cycle_for_write must run inside transaction.atomic")
    for _ in range(366):
        clr_date = open_cycle_date()
        cycle = cycle_ensure(clr_date)
        cycle_lock_shared(clr_date)
        status = Cycle.objects.filter(pk=cycle.pk).values_list("status", flat=True).get()
        if status == Cycle.Status.OPEN:
            cycle.status = status
            return cycle
    raise RuntimeError("no open cycle could be found")  # pragma: no cover


def clearing_item_record(
    *,
    setl_id: str,
    kind: str,
    payer: str,
    payee: str,
    clr_amt: Decimal,
    fixmedins_code: str,
    cycle: Cycle | None = None,
) -> ClearingItem:
    """Record one clearing item in the open cycle, inside the caller's transaction.

    ``payer``/``payee`` are province codes (``xx0000``); ``clr_amt`` Decimal yuan (negative for
    reversals and adjustments). Pass ``cycle`` when the caller already called
    :func:`cycle_for_write` in this transaction (to learn ``clr_date`` first). Returns the item;
    its ``cycle_id`` is the ``clr_date``.
    """
    cycle = cycle or cycle_for_write()
    data = leaf_bytes(
        setl_id=setl_id,
        kind=kind,
        payer=payer,
        payee=payee,
        clr_amt=clr_amt,
        fixmedins_code=fixmedins_code,
        clr_date=cycle.clr_date,
    )
    return ClearingItem.objects.create(
        setl_id=setl_id,
        kind=kind,
        payer=payer,
        payee=payee,
        clr_amt=clr_amt,
        fixmedins_code=fixmedins_code,
        cycle=cycle,
        leaf_hash=leaf_hash(data),
    )


_MOVES = {(Cycle.Status.OPEN, Cycle.Status.CUT), (Cycle.Status.CUT, Cycle.Status.CLOSED)}


def cycle_transition(cycle: Cycle, to_status: str, *, actor: str, at: dt.datetime | None = None) -> Cycle:
    """The one function that moves a cycle's status (spec/clearing.md §Cycles: only forward,
    ``open`` → ``cut`` → ``closed``), recording who and when in :class:`CycleTransition`.

    Call inside ``transaction.atomic`` holding the cycle row lock. Raises ``ValueError`` for any
    other move; the unique (cycle, to_status) constraint makes a repeated move fail.
    """
    from clearing.models import CycleTransition

    if (cycle.status, to_status) not in _MOVES:
        raise ValueError(f"cycle {cycle.clr_date}: {cycle.status} → {to_status} is not allowed")
    at = at or timezone.now()
    CycleTransition.objects.create(
        cycle=cycle, from_status=cycle.status, to_status=to_status, actor=actor[:100], at=at
    )
    fields = {"status": to_status}
    if to_status == Cycle.Status.CUT:
        fields["cut_at"] = at
    Cycle.objects.filter(pk=cycle.pk).update(**fields)
    for k, v in fields.items():
        setattr(cycle, k, v)
    return cycle
