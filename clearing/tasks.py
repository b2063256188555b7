"""Celery tasks of the clearing (thin: each calls one service; idempotent; ``acks_late`` so a
worker killed mid-close leaves the message to be redelivered, and the close's unique constraints
make the redelivery finish the same close)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task

from clearing.services.close import cycle_close, cycles_close_due

# A close that runs past the soft limit is stopped (its transaction rolls back, the cycle stays
# ``cut``) and the next beat run starts it again; the hard limit kills a stuck worker. Both stay
# below the broker's visibility timeout (settings.CELERY_BROKER_TRANSPORT_OPTIONS), so a message
# is never redelivered while its close still runs (docs/decisions.md §Close resumption).
CLOSE_LIMITS = {"soft_time_limit": 600, "time_limit": 660}


@shared_task(name="clearing.tasks.close_cut_cycles", acks_late=True, reject_on_worker_lost=True,
             **CLOSE_LIMITS)
def close_cut_cycles() -> list[str]:
    """The nightly job, re-run by beat every 5 minutes: close every cut cycle of each scheme whose
    close time (00:30 Asia/Shanghai of the next day) has passed, oldest first; a no-op when none.
    So a close interrupted by a killed worker resumes at the next run. Returns the closed dates
    (card ones as ``card:YYYY-MM-DD``)."""
    return [
        c.clr_date.isoformat() if c.scheme == "medical" else f"{c.scheme}:{c.clr_date.isoformat()}"
        for c in cycles_close_due(actor="celery-beat", scheduled=True)
    ]


@shared_task(name="clearing.tasks.close_cycle", acks_late=True, reject_on_worker_lost=True,
             **CLOSE_LIMITS)
def close_cycle(clr_date: str, actor: str, scheme: str = "medical") -> str:
    """Close one date (``YYYY-MM-DD``) of ``scheme`` for the staff endpoint. Returns the head's SHA-256."""
    cycle = cycle_close(clr_date=dt.date.fromisoformat(clr_date), actor=actor, scheme=scheme)
    return cycle.head.sha256


@shared_task(name="clearing.tasks.periodic_partitions_ahead")
def periodic_partitions_ahead() -> list[str]:
    """Beat, hourly, queue ``periodic``: create the clearing items' monthly partitions from last
    month to three months ahead on PostgreSQL (``clearing.partitions.item_partitions_ahead``;
    idempotent, a no-op on SQLite). Returns the partitions created."""
    from django.db import connection, transaction

    from clearing.partitions import ITEMS, item_partitions_ahead
    from core.partitioning import is_partitioned

    if connection.vendor != "postgresql":
        return []
    with transaction.atomic(), connection.cursor() as cur:
        if not is_partitioned(cur, ITEMS):  # a database before clearing 0009
            return []
        return item_partitions_ahead(cur, dt.datetime.now(dt.UTC).date())
