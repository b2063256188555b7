"""The one read-only ``ModelAdmin`` of the project (issue 10 §1).

The admin is for looking and for the few operator actions the spec gives staff; every rule- or
money-bearing model is registered with :class:`ReadOnlyAdmin`, so no add, change or delete form
exists for it whatever the user's permissions (a superuser included). Changes go through the
services, which version, validate and audit them.
"""
from __future__ import annotations

from typing import Any

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Lists and details only: no add, change or delete, no bulk actions."""

    actions = None

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    """An inline of a read-only admin: every field read-only, no add or delete."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
