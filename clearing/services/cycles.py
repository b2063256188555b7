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

Everything here is per scheme (spec/cards.md §The card scheme's clearing): ``medical`` (the
default, so medical callers name no scheme) and ``card`` each have exactly one open cycle, their
own advisory-lock namespace and their own items; one clock and one cut-off rule serve both.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from clearing.leaf import leaf_hash, scheme_leaf_bytes
from clearing.models import ClearingItem, Cycle, Scheme
from core.bulk import rows_insert
from core.transitions import Moves, check_move

SHANGHAI = ZoneInfo("Asia/Shanghai")
MEDICAL = Scheme.MEDICAL
# advisory lock namespace for cycles, one per scheme (medical keeps its original 7301)
_LOCK_CLASS: dict[str, int] = {Scheme.MEDICAL: 7301, Scheme.CARD: 7302}


def business_day(at: dt.datetime | None = None) -> dt.date:
    """Asia/Shanghai date of an aware datetime (default: now)."""
    return (at or timezone.now()).astimezone(SHANGHAI).date()


def _date_key(d: dt.date) -> int:
    return d.year * 10000 + d.month * 100 + d.day


def open_cycle_date(now: dt.datetime | None = None, *, scheme: str = MEDICAL) -> dt.date:
    """The date of the ``scheme``'s cycle open now: max(today, last cut/closed + 1)."""
    last = (
        Cycle.objects.filter(scheme=scheme).exclude(status=Cycle.Status.OPEN).aggregate(m=Max("clr_date"))["m"]
    )
    today = business_day(now)
    if last is not None and last >= today:
        return last + dt.timedelta(days=1)
    return today


def published_status(cycle: Cycle, open_date: dt.date) -> str:
    """The status the clock gives ``cycle`` (spec/clearing.md §Cycles: at 00:00 day D is ``cut``
    whether or not any job has run): a row still ``open`` but dated before ``open_date`` (its
    scheme's :func:`open_cycle_date`) takes no more items, so it is published as ``cut``. The row
    itself moves (with who and when) when the close cuts it."""
    if cycle.status == Cycle.Status.OPEN and cycle.clr_date < open_date:
        return Cycle.Status.CUT
    return cycle.status


def cycle_open_now(*, scheme: str = MEDICAL) -> dt.date:
    """The ``scheme``'s open cycle's date, its row created when missing, so that a list shows
    exactly one ``open`` cycle from 00:00 on, before any item or job (used by the cycle list)."""
    return cycle_ensure(open_cycle_date(scheme=scheme), scheme=scheme).clr_date


def cycle_ensure(clr_date: dt.date, *, scheme: str = MEDICAL) -> Cycle:
    """The ``scheme``'s cycle row for ``clr_date``, created ``open`` when missing (safe under
    concurrency)."""
    cycle = Cycle.objects.filter(scheme=scheme, clr_date=clr_date).first()
    if cycle is not None:
        return cycle
    try:
        with transaction.atomic():
            return Cycle.objects.create(scheme=scheme, clr_date=clr_date, status=Cycle.Status.OPEN)
    except IntegrityError:
        return Cycle.objects.get(scheme=scheme, clr_date=clr_date)


def cycle_lock_shared(clr_date: dt.date, *, scheme: str = MEDICAL) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                "SELECT pg_advisory_xact_lock_shared(%s, %s)", [_LOCK_CLASS[scheme], _date_key(clr_date)]
            )


def cycle_lock_exclusive(clr_date: dt.date, *, scheme: str = MEDICAL) -> None:
    """Waits until every writer holding the shared lock of the ``scheme``'s ``clr_date`` has
    committed or rolled back. Must be called inside the transaction that flips the status."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_CLASS[scheme], _date_key(clr_date)])


_open_dates: dict[str, dt.date] = {}  # per process and scheme: the open cycle's date last found


_CURRENT_SQL = (
    "SELECT c.*, EXISTS (SELECT 1 FROM {t} d WHERE d.scheme = c.scheme AND d.clr_date >= c.clr_date "
    "AND d.status <> %s) AS done_after, EXISTS (SELECT 1 FROM {t} d WHERE d.scheme = c.scheme "
    "AND d.clr_date = %s AND d.status <> %s) AS done_before "
    "FROM {t} c WHERE c.scheme = %s AND c.clr_date = %s"
)


def _cycle_if_current(clr_date: dt.date, scheme: str) -> Cycle | None:
    """The ``scheme``'s cycle of ``clr_date`` when it is the open one, i.e. ``clr_date`` is
    :func:`open_cycle_date` and its row is ``open``: no cut or closed cycle on or after it, and it
    is today or the day after a cut or closed one. Else None. One statement (raw SQL: the ORM's
    compilation of two ``Exists`` cost more than the query)."""
    sql = _CURRENT_SQL.format(t=connection.ops.quote_name(Cycle._meta.db_table))
    open_ = Cycle.Status.OPEN
    # Cycle instances carrying the two extra bool columns done_after, done_before (untyped by the stubs)
    rows: list[Any] = list(
        Cycle.objects.raw(sql, [open_, clr_date - dt.timedelta(days=1), open_, scheme, clr_date])
    )
    row = rows[0] if rows else None
    today = business_day()
    if row is None or row.status != open_ or row.done_after:
        return None
    return row if clr_date == today or (clr_date > today and row.done_before) else None


def cycle_for_write(*, scheme: str = MEDICAL) -> Cycle:
    """The ``scheme``'s open cycle, locked shared for the rest of the caller's transaction.

    Must run inside ``transaction.atomic``. Returns a cycle whose status was ``open`` after the
    lock was taken, so it cannot be cut before the caller commits.

    Two statements in the usual case: the date found last time (kept per process) is locked shared,
    then one read confirms that its row is open, not before today and with no cut or closed cycle on
    or after it, which makes it :func:`open_cycle_date` (the date only moves forward). Otherwise the
    date is computed again, the row created if missing, locked and checked, as often as needed.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("cycle_for_write must run inside transaction.atomic")
    clr_date = _open_dates.get(scheme)
    for _ in range(366):
        if clr_date is None:
            clr_date = open_cycle_date(scheme=scheme)
            cycle_ensure(clr_date, scheme=scheme)
        cycle_lock_shared(clr_date, scheme=scheme)
        cycle = _cycle_if_current(clr_date, scheme)
        if cycle is not None:
            _open_dates[scheme] = clr_date
            return cycle
        _open_dates.pop(scheme, None)
        clr_date = None
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
    :func:`cycle_for_write` in this transaction (to learn ``clr_date`` first); without it the
    medical scheme's open cycle. The leaf is the cycle's scheme's
    (:func:`clearing.leaf.scheme_leaf_bytes`: a card item's ``setl_id`` is its ``acpt_id``,
    ``fixmedins_code`` its ``acceptor_code``). Returns the item; its ``clr_date`` is the cycle's.
    (Many card items at once: :func:`clearing_items_bulk_record`.)
    """
    cycle = cycle or cycle_for_write()
    data = scheme_leaf_bytes(
        scheme=cycle.scheme,
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
        scheme=cycle.scheme,
        clr_date=cycle.clr_date,
        leaf_hash=leaf_hash(data),
    )


def clearing_items_bulk_record(*, cycle: Cycle, items: list[ClearingItem]) -> list[ClearingItem]:
    """Insert prepared items (``leaf_hash`` computed by the caller from its scheme's leaf) into
    ``cycle`` — one multi-row ``INSERT`` — inside the caller's transaction, which must hold the
    cycle from :func:`cycle_for_write` (so the cut waits for it). Sets each item's ``scheme`` and
    ``clr_date`` from the cycle; ``setl_id`` uniqueness is the database's (:func:`core.bulk.rows_insert`)."""
    for item in items:
        item.scheme, item.clr_date = cycle.scheme, cycle.clr_date
        if len(bytes(item.leaf_hash)) != 32:
            raise ValueError(f"leaf hash of {item.setl_id} is not 32 bytes")
    rows_insert(ClearingItem, items)
    return items


MOVES: Moves = {
    Cycle.Status.OPEN: frozenset({Cycle.Status.CUT}),
    Cycle.Status.CUT: frozenset({Cycle.Status.CLOSED}),
}


def cycle_transition(cycle: Cycle, to_status: str, *, actor: str, at: dt.datetime | None = None) -> Cycle:
    """The one function that moves a cycle's status (spec/clearing.md §Cycles: only forward,
    ``open`` → ``cut`` → ``closed``), recording who and when in :class:`CycleTransition`.

    Call inside ``transaction.atomic`` holding the cycle row lock. Raises ``409 illegal_transition``
    (:mod:`core.transitions`) for any move not in :data:`MOVES`; the unique (cycle, to_status)
    constraint makes a repeated move fail.
    """
    from clearing.models import CycleTransition

    check_move(MOVES, f"cycle {cycle.clr_date}", cycle.status, to_status)
    at = at or timezone.now()
    CycleTransition.objects.create(
        cycle=cycle, from_status=cycle.status, to_status=to_status, actor=actor[:100], at=at
    )
    fields: dict[str, str | dt.datetime] = {"status": to_status}
    if to_status == Cycle.Status.CUT:
        fields["cut_at"] = at
    Cycle.objects.filter(pk=cycle.pk).update(**fields)
    for k, v in fields.items():
        setattr(cycle, k, v)
    return cycle
