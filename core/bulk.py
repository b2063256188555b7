"""Many rows in one statement, for the hot batch paths (docs/performance.md).

Both entry points write ``INSERT … SELECT FROM unnest(…)`` on PostgreSQL, one array parameter per
column (the statement text does not depend on the row count), inside the caller's transaction;
elsewhere (the embedded SQLite default, whose writers are serialised) ``bulk_create``:

- :func:`insert_rows` (card acceptances): plain tuples of plain values (``str``, ``int``, ``bool``,
  ``Decimal``, aware ``datetime``, ``date``, ``bytes``, ``None``) bound as binary arrays over a
  server-side-binding cursor of Django's own connection, without the fields' ``get_db_prep_save``;
  ``conflict`` adds ``ON CONFLICT (cols) DO NOTHING`` and ``returning`` names a column whose values
  of the rows actually inserted come back. Arrays of the base types, as below.
- :func:`values_in` (reads): ``filter(key__in=values)`` with the values as one array parameter.
- :func:`rows_insert` / :func:`rows_update` (settlements, fee lines, accumulators, balances,
  clearing items, audit records): unsaved model instances, their values read as they are (JSON
  dumped, ``auto_now`` set, a saved related object's id taken), ``ON CONFLICT … DO NOTHING`` or
  ``DO UPDATE``, several ``RETURNING`` columns, primary keys set on the instances. Arrays are of the
  base types (``text``, ``numeric``, ``int8``…), so the INSERT's assignment cast checks length and
  precision as Django's own INSERT does (a string too long raises ``DataError``, never truncated);
  a ``Decimal`` never becomes a binary float.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any, TypeVar

import psycopg
from django.db import connection, models


def _field(model: type[models.Model], name: str) -> models.Field:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or not field.column:
        raise ValueError(f"{model.__name__}.{name} is not a concrete column")
    return field


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
    values = [f"u.c{i}" for i in range(len(cols))] + [f"%b::{_array_type(f)}" for f in fixed_cols]
    arrays = ", ".join(f"%b::{_array_type(f)}[]" for f in cols)
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
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cur:
        cur.execute(sql, params, prepare=False)  # errors as Django's (IntegrityError, DataError…)
        return [r[0] for r in cur.fetchall()] if returning else []



M = TypeVar("M", bound=models.Model)

# Django internal type → the base type of the array parameter. Char types go through ``text`` and
# numbers through ``numeric``/``int8`` (no typmod), so the INSERT's assignment cast is what checks
# the length and the precision, as for Django's own INSERT (an explicit ``::varchar(n)`` would
# truncate silently).
_ARRAY_TYPE = {
    "CharField": "text",
    "TextField": "text",
    "SlugField": "text",
    "EmailField": "text",
    "DecimalField": "numeric",
    "DateTimeField": "timestamptz",
    "DateField": "date",
    "BooleanField": "boolean",
    "IntegerField": "int8",
    "BigIntegerField": "int8",
    "SmallIntegerField": "int8",
    "PositiveIntegerField": "int8",
    "PositiveSmallIntegerField": "int8",
    "PositiveBigIntegerField": "int8",
    "AutoField": "int8",
    "BigAutoField": "int8",
    "JSONField": "jsonb",
    "BinaryField": "bytea",
}


def _array_type(field: models.Field) -> str:
    target = field.target_field if field.is_relation else field  # type: ignore[attr-defined]
    return _ARRAY_TYPE[target.get_internal_type()]


def _column(field: models.Field, objs: Sequence[models.Model]) -> list[Any]:
    """The column's values, read from the instances (FK ids refreshed from saved related objects,
    ``auto_now[_add]`` set, JSON dumped)."""
    attname = field.attname
    if field.is_relation:
        out = []
        for o in objs:
            value = getattr(o, attname)
            if value is None and field.is_cached(o):  # type: ignore[attr-defined]
                related = field.get_cached_value(o)  # type: ignore[attr-defined]
                value = related.pk if related is not None else None
                setattr(o, attname, value)
            out.append(value)
        return out
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return [field.pre_save(o, add=True) for o in objs]
    values = [getattr(o, attname) for o in objs]
    if isinstance(field, models.JSONField):
        return [None if v is None else json.dumps(v, cls=field.encoder) for v in values]
    if isinstance(field, models.BinaryField):
        return [None if v is None else bytes(v) for v in values]
    return values


def _insert_fields(model: type[models.Model]) -> list[models.Field]:
    pk = model._meta.pk
    return [f for f in model._meta.concrete_fields if f is not pk]


def rows_insert(
    model: type[M],
    objs: Sequence[M],
    *,
    conflict: Sequence[str] = (),
    update: Sequence[str] = (),
    returning: Sequence[str] = ("id",),
) -> list[tuple[Any, ...]]:
    """Insert ``objs`` (unsaved; primary key from the database) with one statement; returns the
    ``returning`` columns of the rows written, in ``unnest`` order. When every instance was written
    and ``returning`` starts with ``"id"``, each instance gets its primary key.

    ``conflict``: column names of a unique constraint; with ``update`` empty the conflicting rows
    are skipped (``DO NOTHING``: fewer rows come back, the caller compares), else ``update``'s
    columns take the new values (``DO UPDATE``). Raises the database's ``IntegrityError`` /
    ``DataError``. On SQLite: ``bulk_create``; there a ``DO NOTHING`` conflict raises
    ``IntegrityError`` instead (writers are serialised there), and an upsert returns ``[]``."""
    if not objs:
        return []
    if connection.vendor != "postgresql":
        upsert = bool(conflict and update)
        kwargs: dict[str, Any] = (
            {"update_conflicts": True, "unique_fields": list(conflict), "update_fields": list(update)}
            if upsert else {}
        )
        made = model._default_manager.bulk_create(list(objs), **kwargs)
        return [] if upsert else [tuple(getattr(o, c) for c in returning) for o in made]
    fields = _insert_fields(model)
    qn = connection.ops.quote_name
    columns = ", ".join(qn(f.column) for f in fields)
    arrays = ", ".join(f"%b::{_array_type(f)}[]" for f in fields)
    sql = f"INSERT INTO {qn(model._meta.db_table)} ({columns}) SELECT * FROM unnest({arrays})"  # noqa: S608
    if conflict:
        target = ", ".join(qn(c) for c in conflict)
        if update:
            sets = ", ".join(f"{qn(c)} = EXCLUDED.{qn(c)}" for c in update)
            sql += f" ON CONFLICT ({target}) DO UPDATE SET {sets}"
        else:
            sql += f" ON CONFLICT ({target}) DO NOTHING"
    if returning:
        sql += " RETURNING " + ", ".join(qn(c) for c in returning)
    rows = _execute(sql, [_column(f, objs) for f in fields], fetch=bool(returning))
    if returning and returning[0] == "id" and len(rows) == len(objs):
        for o, row in zip(objs, rows, strict=True):
            o.pk = row[0]
            o._state.adding, o._state.db = False, "default"
    return rows


def rows_update(model: type[M], values: dict[Any, dict[str, Any]]) -> None:
    """Set, for each primary key of ``values``, its ``{field name: value}`` (every entry naming the
    same fields): one ``UPDATE … FROM unnest(…)`` joined on the primary key (PostgreSQL),
    ``bulk_update`` elsewhere."""
    if not values:
        return
    names = list(next(iter(values.values())))
    if connection.vendor != "postgresql":
        objs = [model(pk=pk, **row) for pk, row in values.items()]
        model._default_manager.bulk_update(objs, names)
        return
    opts, qn = model._meta, connection.ops.quote_name
    pk = opts.pk
    assert pk is not None
    cols: list[models.Field] = [opts.get_field(name) for name in names]  # type: ignore[misc]
    sets = ", ".join(f"{qn(str(f.column))} = v.c{i}" for i, f in enumerate(cols))
    arrays = ", ".join(f"%b::{_array_type(f)}[]" for f in [pk, *cols])
    aliases = ", ".join(["k"] + [f"c{i}" for i in range(len(cols))])
    sql = (
        f"UPDATE {qn(opts.db_table)} AS t SET {sets} FROM unnest({arrays}) AS v({aliases}) "  # noqa: S608
        f"WHERE t.{qn(str(pk.column))} = v.k"
    )
    _execute(sql, [list(values)] + [[row[n] for row in values.values()] for n in names], fetch=False)


def _execute(sql: str, params: list[Any], *, fetch: bool) -> list[tuple[Any, ...]]:
    """Run ``sql`` (``%b`` placeholders) with binary parameters on Django's connection, in the
    caller's transaction; never a named prepared statement (PgBouncer's transaction pooling,
    docs/scaling.md). Binary arrays cost about a third of the CPU of Django's quoted literals."""
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cur:
        cur.execute(sql, params, prepare=False)  # errors as Django's (IntegrityError, DataError…)
        return cur.fetchall() if fetch else []


def values_in(
    queryset: models.QuerySet[Any], fields: Sequence[str], key: str, values: Collection[Any]
) -> list[tuple[Any, ...]]:
    """``queryset.filter(<key>__in=values).values_list(*fields)`` as plain tuples. On PostgreSQL the
    list is **one** array parameter (``<key> = ANY(%s)``) sent over a server-side-binding cursor,
    instead of one placeholder per value that Django prepares and psycopg splices into the text
    (a 1,000-value ``IN`` costs more than the rows it reads). Fields must need no ``from_db_value``
    conversion (plain columns: text, numbers, dates, aware times)."""
    if not values:
        return []
    if connection.vendor != "postgresql":
        return list(queryset.filter(**{f"{key}__in": list(values)}).values_list(*fields))
    qn = connection.ops.quote_name
    column = f"{qn(queryset.model._meta.db_table)}.{qn(_field(queryset.model, key).column)}"
    # the column name comes from the model, the values are one bound parameter
    query = queryset.extra(where=[f"{column} = ANY(%s)"], params=[list(values)])  # noqa: S610
    query = query.values_list(*fields)
    sql, params = query.query.sql_with_params()
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cur:
        cur.execute(sql, params, prepare=False)
        return cur.fetchall()


def rows_where_in(
    model: type[M], column: str, values: Sequence[Any], *, extra: str = "", extra_params: Sequence[Any] = (),
    lock: bool = False,
) -> list[M]:
    """``model`` rows whose ``column`` is in ``values`` (``extra``: more SQL after the ``IN``, e.g.
    ``AND institution_id = %s``, or an ``ORDER BY``), as instances, through ``Model.objects.raw``:
    no ORM compilation for the hot reads of the write path. ``lock``: ``FOR UPDATE`` where the
    database has it (SQLite serialises its writers instead)."""
    if not values:
        return []
    qn = connection.ops.quote_name
    marks = ", ".join(["%s"] * len(values))
    sql = f"SELECT * FROM {qn(model._meta.db_table)} WHERE {qn(column)} IN ({marks}) {extra}"  # noqa: S608
    if lock and connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    return list(model._default_manager.raw(sql, [*values, *extra_params]))
