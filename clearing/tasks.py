"""Celery tasks of the clearing (thin: each calls one service; idempotent; ``acks_late`` so a
worker killed mid-close leaves the message to be redelivered, and the close's unique constraints
make the redelivery finish the same close)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task

from clearing.services.close import cycle_close, cycles_close_due


@shared_task(name="clearing.tasks.close_cut_cycles", acks_late=True, reject_on_worker_lost=True)
def close_cut_cycles() -> list[str]:
    """The 00:30 Asia/Shanghai job: close every cut cycle of each scheme, oldest first. Returns the
    closed dates (card ones as ``card:YYYY-MM-DD``)."""
    from core.audit import audit_seal

    audit_seal()
    return [
        c.clr_date.isoformat() if c.scheme == "medical" else f"{c.scheme}:{c.clr_date.isoformat()}"
        for c in cycles_close_due(actor="celery-beat")
    ]


@shared_task(name="clearing.tasks.close_cycle", acks_late=True, reject_on_worker_lost=True)
def close_cycle(clr_date: str, actor: str, scheme: str = "medical") -> str:
    """Close one date (``YYYY-MM-DD``) of ``scheme`` for the staff endpoint. Returns the head's SHA-256."""
    cycle = cycle_close(clr_date=dt.date.fromisoformat(clr_date), actor=actor, scheme=scheme)
    return cycle.head.sha256
