"""``deny_list_tick`` (spec/cards.md §Deny lists; beat every minute, and on demand before a
deny-list fetch finds its latest version older than one hour):

1. lapse every temporary loss whose ``temp_loss_expires_at`` has passed (自动解挂): the history row
   is dated ``temp_loss_expires_at`` — the card counts as usable from that second whenever the
   job runs — and one version removes them all;
2. the heartbeat: at most one version per full hour Asia/Shanghai (``heartbeat_hour`` unique), which
   also drops cards whose ``valid_until`` has passed.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cards.models import Card, CardStatus, DenyListVersion
from cards.services.denylist import Change, deny_list_version_issue, latest_version, list_state
from cards.services.status import SERVICE, CardTransaction, card_status_move

logger = logging.getLogger("kuasheng.cards.tick")
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@dataclass(frozen=True)
class TickResult:
    lapsed: int
    lapse_version: int | None
    heartbeat_version: int | None
    expired: int


def _lapse(now: dt.datetime) -> tuple[int, int | None]:
    with transaction.atomic():
        due = list(
            Card.objects.select_for_update()
            .filter(card_stas=CardStatus.TEMP_LOST, temp_loss_expires_at__lte=now)
            .order_by("temp_loss_expires_at", "id")
        )
        if not due:
            return 0, None
        tx = CardTransaction(at=now.replace(microsecond=0))
        for card in due:
            card_status_move(
                tx,
                card,
                CardStatus.ACTIVE,
                actor=SERVICE,
                reason="temp_loss_lapsed",
                at=card.temp_loss_expires_at,
            )
        version = tx.finish()
    logger.info("lapsed %d temporary losses, version %s", len(due), version and version.version)
    return len(due), version.version if version else None


def _heartbeat(now: dt.datetime) -> tuple[int | None, int]:
    local = now.astimezone(SHANGHAI)
    hour = local.replace(minute=0, second=0, microsecond=0)
    if DenyListVersion.objects.filter(heartbeat_hour=hour).exists():
        return None, 0
    with transaction.atomic():
        latest = latest_version()  # the issue below takes the version lock; re-check under it
        if DenyListVersion.objects.filter(heartbeat_hour=hour).exists():
            return None, 0
        listed = list_state(latest.version)
        today = local.date()
        expired = (
            set(
                Card.objects.filter(card_ref__in=list(listed), valid_until__lt=today).values_list(
                    "card_ref", flat=True
                )
            )
            if listed
            else set()
        )
        version = deny_list_version_issue(
            changes=[Change(ref, "remove") for ref in sorted(r for r in expired if r is not None)],
            cause=DenyListVersion.Cause.HEARTBEAT,
            at=now,
            heartbeat_hour=hour,
        )
    return version.version, len(expired)


def deny_list_tick(*, now: dt.datetime | None = None) -> TickResult:
    """Lapse due temporary losses, then issue this hour's heartbeat if it is missing."""
    now = now or timezone.now()
    lapsed, lapse_version = _lapse(now)
    heartbeat, expired = _heartbeat(now)
    return TickResult(lapsed, lapse_version, heartbeat, expired)
