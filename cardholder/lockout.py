"""Login lockouts of cardholders (spec/cardholder-api.md §token).

Two fixed windows of failed attempts:

- per (certno, client address): 5 failures within 15 minutes → ``429`` until the window passes;
- per certno from all addresses: 20 failures within an hour → likewise.

Keys use the certno's blind index (never the clear certno) and a hash of the address. A window
starts at the first failure and is not extended by later ones, so a stranger cannot lock the owner
out for long.

An attempt *reserves* a slot before the password is checked (an atomic increment); if the
reservation goes over the limit the attempt is refused with ``429`` whatever the password, and a
successful attempt gives its slot back. So parallel attempts can never check more than 5 (or 20)
passwords in a window.

The windows are rows of the database (``core.durable.attempt_window_add``, one row lock each), not
cache entries: every process shares them, and a Redis restart without persistence does not hand a
guesser a fresh set of attempts (issue 10 §3).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from core.durable import attempt_window_add
from core.errors import DomainError

PER_ADDRESS_LIMIT = 5
PER_ADDRESS_WINDOW = 15 * 60
PER_CERTNO_LIMIT = 20
PER_CERTNO_WINDOW = 60 * 60


class LockedOut(DomainError):
    """``429 too_many_attempts`` with ``Retry-After`` (seconds until the window passes)."""

    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "too_many_attempts",
            "Too many failed attempts; try again later.",
            headers={"Retry-After": str(max(1, retry_after))},
            extra={"retry_after": max(1, retry_after)},
        )


@dataclass(frozen=True)
class _Window:
    key: str
    limit: int
    seconds: int


def _address_tag(address: str) -> str:
    return hashlib.sha256(address.encode()).hexdigest()[:24]


def _windows(certno_bidx: str, address: str) -> tuple[_Window, _Window]:
    return (
        _Window(f"ch:fail:pa:{certno_bidx}:{_address_tag(address)}", PER_ADDRESS_LIMIT, PER_ADDRESS_WINDOW),
        _Window(f"ch:fail:p:{certno_bidx}", PER_CERTNO_LIMIT, PER_CERTNO_WINDOW),
    )


def _incr(window: _Window, delta: int) -> tuple[int, int]:
    """Add ``delta`` to the window's count; returns ``(count, seconds left)``. Starts the window
    when it does not exist (only when ``delta`` > 0)."""
    return attempt_window_add(key=window.key, delta=delta, seconds=window.seconds)


def attempt_reserve(*, certno_bidx: str, address: str) -> None:
    """Reserve one attempt for ``certno_bidx`` from ``address`` before checking a password.

    Raises :class:`LockedOut` (``429``) when either window is full; the caller then checks
    nothing. Call :func:`attempt_succeeded` after a correct password; a failure keeps the slot.
    """
    per_address, per_certno = _windows(certno_bidx, address)
    count, left = _incr(per_address, 1)
    if count > per_address.limit:
        _incr(per_address, -1)  # the refused attempt was not a failure; the window is not extended
        raise LockedOut(left)
    count, left_all = _incr(per_certno, 1)
    if count > per_certno.limit:
        _incr(per_certno, -1)
        _incr(per_address, -1)
        raise LockedOut(left_all)


def attempt_succeeded(*, certno_bidx: str, address: str) -> None:
    """Give back the slot reserved by :func:`attempt_reserve` (a correct password is no failure)."""
    for window in _windows(certno_bidx, address):
        _incr(window, -1)
