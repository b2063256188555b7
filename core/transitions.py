"""One style for every status model (django-oscar's pipeline): a table of allowed moves, one
function per model that checks the move against it, moves, and records the move; an illegal move
is :class:`IllegalTransition` (``409 illegal_transition``), never a ``ValueError`` (a 500)."""
from __future__ import annotations

from collections.abc import Mapping

from core.errors import Conflict

Moves = Mapping[str, frozenset[str]]  # from status → the statuses it may move to


class IllegalTransition(Conflict):
    """``409 illegal_transition`` (or the model's own stable code, e.g. ``dispute_closed``): the
    object's status does not allow this move."""

    def __init__(self, what: str, from_status: str, to_status: str, code: str = "illegal_transition") -> None:
        super().__init__(code, f"{what} cannot move from {from_status} to {to_status}.",
                         extra={"from_status": from_status, "to_status": to_status})


def check_move(
    moves: Moves, what: str, from_status: str, to_status: str, *, code: str = "illegal_transition"
) -> None:
    """Raise :class:`IllegalTransition` (``code``) unless ``from_status`` → ``to_status`` is in ``moves``."""
    if to_status not in moves.get(from_status, frozenset()):
        raise IllegalTransition(what, from_status, to_status, code)
