"""Statement acknowledgement (确认, spec/bureau-api.md §Cycles and statements)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from clearing.models import StatementAck
from clearing.selectors import statement_get
from core.audit import audit_principal
from core.errors import Forbidden


def statement_ack(*, principal: Any, clr_date: dt.date, scheme: str = "medical") -> tuple[StatementAck, bool]:
    """Record the bureau's acknowledgement of its statement of ``scheme`` once, with user and
    time. Returns (ack, created); a repeat answers the first ack unchanged. Raises ``403`` for
    other roles (a card bureau acknowledges card statements, a bureau medical ones),
    ``409 cycle_not_closed`` before the close, ``404`` without a statement."""
    if principal.role != ("card_bureau" if scheme == "card" else "bureau"):
        raise Forbidden("Only the province's bureau acknowledges its statement.")
    statement = statement_get(clr_date, principal.admdvs, scheme)
    existing = StatementAck.objects.filter(statement=statement).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            ack = StatementAck.objects.create(
                statement=statement, acked_by=principal.actor, acked_at=timezone.now()
            )
            audit_principal(
                principal,
                "statement_ack",
                "statement",
                f"{clr_date}:{principal.admdvs}" + ("" if scheme == "medical" else f":{scheme}"),
            )
    except IntegrityError:
        return StatementAck.objects.get(statement=statement), False
    return ack, True
