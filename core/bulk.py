"""Many rows into one table with one statement, for the hot batch paths (docs/performance.md).

PostgreSQL: ``INSERT INTO t (…) SELECT … FROM unnest(%b::type[], …)`` with each column sent as
one binary array over a server-side-binding cursor of Django's own connection (so inside the
caller's transaction): no per-value SQL quoting, no per-row model objects, one round trip.
``conflict`` adds ``ON CONFLICT (cols) DO NOTHING``; ``returning`` names a column whose values of
the rows actually inserted come back (which rows a concurrent transaction had already committed is
then known without an error). Elsewhere (the embedded SQLite default, whose writers are
serialised) the same rows go through ``bulk_create``.

Values must be plain Python values of the columns' types (``str``, ``int``, ``bool``,
``Decimal``, aware ``datetime``, ``date``, ``bytes``, ``None``): they are bound as they are,
without the fields' ``get_db_prep_save``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from django.db import connection, models


def _field(model: type[models.Model], name: str) -> models.Field:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or not field.column:
        raise ValueError(f"{model.__name__}.{name} is not a concrete column")
    return field


def _type(field: models.Field) -> str:
    db_type = field.db_type(connection) or "text"
    return {"serial": "integer", "bigserial": "bigint"}.get(db_type, db_type)


def insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    fixed: Mapping[str, Any] | None = None,
    conflict: Sequence[str] | None = None,
    returning: str | None = None,
) -> list[Any]:
    """Insert ``rows`` (tuples in the order of ``fields``: model field names, ``…_id`` for a
    foreign key) into ``model``'s
    table, each also carrying the ``fixed`` field values. Returns the ``returning`` field's values
    of the inserted rows (all rows on SQLite; ``[]`` without ``returning``). Must run inside the
    caller's transaction on PostgreSQL (it is a write among others)."""
    fixed = dict(fixed or {})
    if not rows:
        return []
    meta = model._meta
    if connection.vendor != "postgresql":
        objs = [model(**dict(zip(fields, row, strict=True)), **fixed) for row in rows]
        model.objects.bulk_create(objs)  # type: ignore[attr-defined]
        return [getattr(o, returning) for o in objs] if returning else []
    qn = connection.ops.quote_name
    cols = [_field(model, f) for f in fields]
    fixed_cols = [_field(model, f) for f in fixed]
    names = [qn(f.column) for f in cols + fixed_cols]
    values = [f"u.c{i}" for i in range(len(cols))] + [f"%b::{_type(f)}" for f in fixed_cols]
    arrays = ", ".join(f"%b::{_type(f)}[]" for f in cols)
    aliases = ", ".join(f"c{i}" for i in range(len(cols)))
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(names)}) "  # noqa: S608 - names from meta
        f"SELECT {', '.join(values)} FROM unnest({arrays}) AS u({aliases})"
    )
    if conflict:
        sql += f" ON CONFLICT ({', '.join(qn(_field(model, f).column) for f in conflict)}) DO NOTHING"
    if returning:
        sql += f" RETURNING {qn(_field(model, returning).column)}"
    # placeholders in text order: the fixed values of the SELECT list, then the arrays
    params = [*fixed.values(), *(list(col) for col in zip(*rows, strict=True))]
    connection.ensure_connection()
    # never a named prepared statement (PgBouncer's transaction pooling, docs/scaling.md)
    with psycopg.Cursor(connection.connection) as cur:
        cur.execute(sql, params, prepare=False)
        return [r[0] for r in cur.fetchall()] if returning else []
