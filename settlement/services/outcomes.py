"""What a settle or reverse call answers (spec/hospital-api.md §Idempotency)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.errors import Conflict
from settlement.models import FeeDetail, Settlement


@dataclass
class SettleOutcome:
    """A recorded settlement (or reversal) and whether this call created it (201) or replayed it
    (200); for a settlement this call created, ``cap_left`` (the annual cap left before it, see
    :class:`settlement.services.drafts.Draft`) and ``lines`` (its fee lines as written), else None."""

    settlement: Settlement
    created: bool
    cap_left: Decimal | None = None
    lines: list[FeeDetail] | None = None


def replay_or_conflict(existing: Settlement, fingerprint: str) -> SettleOutcome:
    """Same business content under a recorded serial → replay; anything else → ``409
    medins_setl_id_conflict`` naming the settlement that holds the serial."""
    if existing.fingerprint == fingerprint:
        return SettleOutcome(existing, created=False)
    raise Conflict(
        "medins_setl_id_conflict",
        f"medins_setl_id {existing.medins_setl_id} was already used for {existing.setl_id} "
        "with different content.",
        extra={"setl_id": existing.setl_id},
    )
