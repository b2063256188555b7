"""The scope rules of spec/security.md §Scopes as one permission layer.

Views declare the roles that may call them with ``permission_classes = [roles("bureau", ...)]``;
row-level scope (own institution, own province, own person) is applied by the selectors with
:func:`province_scope` and friends, which answer 404 for records outside the caller's scope.
"""
from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission

from core.errors import Forbidden
from core.principals import Principal

ROLES = ("institution", "bureau", "clearing_staff", "cardholder", "acceptor", "card_bureau", "card_desk")


class DenyAll(BasePermission):
    """Default: an endpoint that forgot to declare its roles is closed."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return False


def roles(*allowed: str) -> type[BasePermission]:
    """A permission class admitting only principals whose role is in ``allowed``.
    Anonymous → 401 (DRF's NotAuthenticated), authenticated with another role → 403."""
    for r in allowed:
        if r not in ROLES:
            raise ValueError(f"unknown role {r}")

    class _Roles(BasePermission):
        message = "Your role may not call this endpoint."

        def has_permission(self, request: Any, view: Any) -> bool:
            user = request.user
            if not isinstance(user, Principal):
                return False
            return user.role in allowed

    _Roles.__name__ = "Roles_" + "_".join(allowed)
    _Roles.allowed = allowed  # type: ignore[attr-defined]
    return _Roles


class AllowAnyone(BasePermission):
    def has_permission(self, request: Any, view: Any) -> bool:
        return True


def province_scope(principal: Principal) -> str | None:
    """The province a staff caller may see, or ``None`` for clearing staff (all provinces)."""
    if principal.role == "clearing_staff":
        return None
    if principal.role in ("bureau", "card_bureau"):
        return principal.admdvs
    raise Forbidden()


def require_province(principal: Principal, admdvs: str) -> None:
    """Bureau callers may act only on their own province; clearing staff on any."""
    scope = province_scope(principal)
    if scope is not None and scope != admdvs[:2] + "0000":
        raise Forbidden("This record belongs to another province.")
