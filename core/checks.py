"""Deploy checks (``manage.py check --deploy``; spec/security.md §Limits, issue 10 §2).

``kuasheng.W001``: the application connects to PostgreSQL as a superuser. The ledger's balance
triggers and the ``TRUNCATE`` guards of the ledger and audit tables hold only for an ordinary
role: a superuser can ``SET session_replication_role = replica`` (which silences every trigger),
drop a trigger or truncate anyway. Run the service as a role that owns nothing it need not own
(docs/reliability.md §Audit sealing).
"""
from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Warning, register
from django.db import DatabaseError, connections

W001 = "kuasheng.W001"


def database_role_is_superuser(alias: str = "default") -> bool | None:
    """``True`` when the connection's role is a PostgreSQL superuser; ``None`` when not PostgreSQL
    or the database cannot be asked."""
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return None
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            row = cur.fetchone()
    except DatabaseError:
        return None
    return bool(row and row[0])


@register(deploy=True)
def check_database_role(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if database_role_is_superuser():
        return [Warning(
            "The application's database role is a PostgreSQL superuser: it can bypass the ledger "
            "and audit triggers (session_replication_role, DROP TRIGGER, TRUNCATE).",
            hint="Connect as an ordinary role (CREATE ROLE kuasheng LOGIN; GRANT only what the "
                 "application needs); see docs/reliability.md.",
            id=W001,
        )]
    return []
