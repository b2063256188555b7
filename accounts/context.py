"""Request context of the admin (no imports of the app, so any module may read it)."""
from __future__ import annotations

import contextvars

# The signed-in admin user while an admin request that can change something runs (set by
# ``accounts.admin_audit.AdminAuditMiddleware``), so audit records written deeper name who acted.
admin_actor_var: contextvars.ContextVar[str] = contextvars.ContextVar("admin_actor", default="")
