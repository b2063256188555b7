"""Celery tasks of the card half (thin, idempotent)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="cards.tasks.deny_list_tick")
def deny_list_tick() -> dict:
    """Every minute (beat): lapse due temporary losses, issue the hourly heartbeat if missing."""
    from cards.services.tick import deny_list_tick as tick

    r = tick()
    return {"lapsed": r.lapsed, "heartbeat_version": r.heartbeat_version}
