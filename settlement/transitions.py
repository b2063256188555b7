"""The settlement's status moves (spec/hospital-api.md §Statuses): ``settled`` → ``reversed`` only
(a ``reversal`` record never moves). The one place that assigns ``Settlement.status`` after the
row is written; the move is recorded in the audit log."""
from __future__ import annotations

from core.audit import audit_principal
from core.principals import Principal
from core.transitions import Moves, check_move
from settlement.models import Settlement

S = Settlement.Status
MOVES: Moves = {S.SETTLED: frozenset({S.REVERSED})}


def settlement_status_move(settlement: Settlement, to: str, *, principal: Principal | None) -> None:
    """Move ``settlement`` to ``to`` (caller holds its row lock), recording who moved it.
    Raises ``409 illegal_transition`` for any move not in :data:`MOVES`."""
    check_move(MOVES, f"settlement {settlement.setl_id}", settlement.status, to)
    Settlement.objects.filter(pk=settlement.pk, status=settlement.status).update(status=to)
    audit_principal(principal, "settlement.status", "settlement", settlement.setl_id,
                    {"from": settlement.status, "to": to})
    settlement.status = to
