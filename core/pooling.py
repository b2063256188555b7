"""What the code keeps to so PgBouncer in transaction pooling mode can sit in front of the primary
(docs/scaling.md §PgBouncer, issue 15 item 2): between two transactions a client may be handed
another server connection, so nothing may outlive a transaction on the server.

- advisory locks are transaction-scoped (``pg_advisory_xact_lock*``), never session locks;
- settings change with ``set_config(name, value, true)`` inside a transaction, never ``SET``;
  Django's own ``SET TIME ZONE`` on connect is avoided by the pooler's ``timezone=UTC``;
- server-side cursors (``QuerySet.iterator()`` on PostgreSQL) are opened inside a transaction
  (:func:`cursor_transaction`): outside one Django declares them ``WITH HOLD``, which lives in
  the session; long exports page by key instead;
- no named prepared statements (Django's default ``prepare_threshold=None``; raw psycopg
  cursors pass ``prepare=False``), no ``LISTEN``, no temporary tables.

``tests/core/test_pooling.py`` checks the source for the forbidden forms; the replica/PgBouncer
test (``tests/reliability/test_replica_pgbouncer.py``) runs the worked day through a real one.
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.db import connections, transaction


def cursor_transaction(using: str = "default") -> Any:
    """The transaction a server-side cursor on ``using`` must live in (PostgreSQL); nothing on
    SQLite, whose cursors are client-side and whose ``IMMEDIATE`` transactions lock writers out."""
    if connections[using].vendor == "postgresql":
        return transaction.atomic(using=using)
    return contextlib.nullcontext()
