"""The admin's guard rails (issue 10 §1): every admin action audited, the shared staff lockout on
its login form.

- :class:`AdminAuditMiddleware`: every admin request that can change something (any method but
  GET/HEAD/OPTIONS: sign-in, sign-out, password forms, any POST a form or action makes) appends a
  hash-chained audit record ``admin_request`` with the user (or the submitted username on a
  sign-in, or ``anonymous``), the path, the method and the answer's status. Model changes the
  admin allows are also in ``django_admin_log`` (Django writes it). While the request runs,
  :data:`admin_actor_var` names the signed-in user, so records written deeper (a password set)
  name who did it.
- :class:`StaffAdminLoginForm`: Django's admin login form, answering the lockout of
  ``accounts.services.staff_login`` (shared with ``POST /api/v1/auth/token``) with a form error.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from accounts.context import admin_actor_var
from accounts.services.staff_login import StaffLockedOut
from core.audit import audit_log

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ADMIN_PREFIX = "/admin/"


def _actor(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user.get_username()
    return "anonymous"


class AdminAuditMiddleware:
    """Audit every non-safe request to the admin (after it ran, whatever it answered)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(ADMIN_PREFIX) or request.method in SAFE_METHODS:
            return self.get_response(request)
        before = _actor(request)
        token = admin_actor_var.set(before if before != "anonymous" else "")
        try:
            response = self.get_response(request)
        finally:
            admin_actor_var.reset(token)
        actor = before if before != "anonymous" else _actor(request)
        detail: dict[str, Any] = {"method": request.method, "status": response.status_code}
        if request.path.rstrip("/").endswith("/login"):
            detail["username"] = str(request.POST.get("username", ""))[:150]
            detail["signed_in"] = actor != "anonymous"
        audit_log(actor=actor, role="admin", action="admin_request", object_type="admin_path",
                  object_id=request.path, detail=detail)
        return response


class StaffAdminLoginForm(AdminAuthenticationForm):
    """The admin login, locked out together with the API's staff token endpoint."""

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except StaffLockedOut as exc:
            minutes = -(-exc.retry_after // 60)
            raise ValidationError(
                f"Too many failed sign-ins for this username; try again in {minutes} minutes.",
                code="too_many_attempts",
            ) from None
