"""Staff sign-in: one lockout for every door (spec/security.md §People, issue 10 §1).

``POST /api/v1/auth/token`` and ``/admin/login/`` both sign in through Django's ``authenticate``,
whose backend (:class:`accounts.backends.LockoutModelBackend`) applies this policy, so no door
has its own count:

- a fixed window per username (a keyed hash of it, never the name itself): 5 failures within
  15 minutes lock the username until the window passes, whatever the password;
- an attempt *reserves* its slot before the password is checked and a correct password gives it
  back, so parallel attempts never check more than 5 passwords in a window;
- the window is a database row (``core.durable.attempt_window_add``), so a Redis restart does not
  reset it (issue 10 §3).
"""
from __future__ import annotations

from core.crypto import blind_index
from core.durable import attempt_window_add
from core.errors import DomainError

LOGIN_FAILURES_ALLOWED = 5
LOGIN_LOCKOUT_SECONDS = 900


class StaffLockedOut(DomainError):
    """``429 too_many_attempts`` with ``Retry-After`` (seconds until the window passes)."""

    status = 429

    def __init__(self, retry_after: int) -> None:
        self.retry_after = max(1, retry_after)
        super().__init__("too_many_attempts", "Too many failed logins; retry later.",
                         headers={"Retry-After": str(self.retry_after)})


def _window_key(username: str) -> str:
    return f"login-failures:staff:{blind_index(username, purpose='staff-login')}"


def staff_attempt_reserve(username: str) -> None:
    """Reserve one attempt for ``username`` before its password is checked; raises
    :class:`StaffLockedOut` (and reserves nothing) when 5 failures are in the window."""
    key = _window_key(username)
    count, left = attempt_window_add(key=key, delta=1, seconds=LOGIN_LOCKOUT_SECONDS)
    if count > LOGIN_FAILURES_ALLOWED:
        attempt_window_add(key=key, delta=-1, seconds=LOGIN_LOCKOUT_SECONDS)
        raise StaffLockedOut(left)


def staff_attempt_succeeded(username: str) -> None:
    """Give back the slot reserved by :func:`staff_attempt_reserve` (a right password is no failure)."""
    attempt_window_add(key=_window_key(username), delta=-1, seconds=LOGIN_LOCKOUT_SECONDS)


def staff_attempt_failed(username: str) -> None:
    """Count one more failure (a right password refused for another reason, e.g. no staff role)."""
    attempt_window_add(key=_window_key(username), delta=1, seconds=LOGIN_LOCKOUT_SECONDS)
