"""The authentication backend of every staff sign-in door (issue 10 §1): Django's
``ModelBackend`` behind the shared lockout of ``accounts.services.staff_login``."""
from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from accounts.services.staff_login import staff_attempt_reserve, staff_attempt_succeeded


class LockoutModelBackend(ModelBackend):
    """``authenticate`` reserves an attempt first (raising ``StaffLockedOut`` when the username is
    locked, which ``django.contrib.auth.authenticate`` lets through to the door: the API answers
    ``429``, the admin login form says so), checks the password, and gives the slot back on
    success. Wrong password, unknown or inactive user: the slot stays a failure."""

    def authenticate(self, request: Any, username: str | None = None, password: str | None = None,
                     **kwargs: Any) -> Any:
        if username is None or password is None:
            return None
        staff_attempt_reserve(username)
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None:
            staff_attempt_succeeded(username)
        return user
