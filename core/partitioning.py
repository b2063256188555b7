"""Declarative partitioning on PostgreSQL (docs/scaling.md §Declarative partitioning): the
catalogue questions and the DDL that the partitioning migrations, the periodic task that creates
monthly partitions ahead and the tests share. Generic over table names (nothing here imports an
app); every function takes a DB-API cursor on a PostgreSQL connection and runs inside the caller's
transaction. SQLite keeps plain tables: callers check ``connection.vendor`` first.

Names: a monthly range partition of ``T`` is ``T_yYYYYmMM``; the net for rows outside every range
is ``T_default``; hash partitions are ``T_hNN``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

_RANGE = re.compile(r"FROM \('(\d{4}-\d{2}-\d{2})'\) TO \('(\d{4}-\d{2}-\d{2})'\)")


def month_start(day: dt.date) -> dt.date:
    """The first day of ``day``'s month."""
    return day.replace(day=1)


def add_months(first: dt.date, n: int) -> dt.date:
    """The first day of the month ``n`` months after the month of ``first`` (``n`` may be < 0)."""
    k = first.year * 12 + first.month - 1 + n
    return dt.date(k // 12, k % 12 + 1, 1)


def month_partition_name(table: str, first: dt.date) -> str:
    """``T_yYYYYmMM``: the partition of ``table`` holding the month that starts on ``first``."""
    return f"{table}_y{first.year:04d}m{first.month:02d}"


def is_partitioned(cur: Any, table: str) -> bool:
    """True when ``table`` exists and is a partitioned table (``relkind = 'p'``)."""
    cur.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [table])
    row = cur.fetchone()
    return row is not None and row[0] == "p"


def partitions(cur: Any, table: str) -> list[tuple[str, str]]:
    """``[(partition name, bound expression)]`` of ``table``, e.g.
    ``("clearing_clearingitem_y2026m12", "FOR VALUES FROM ('2026-12-01') TO ('2027-01-01')")``."""
    cur.execute(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(%s) ORDER BY 1",
        [table],
    )
    return [(r[0], r[1]) for r in cur.fetchall()]


def date_ranges(cur: Any, table: str) -> list[tuple[dt.date, dt.date]]:
    """The ``[from, to)`` date ranges of ``table``'s range partitions (the default excluded)."""
    out = []
    for _name, bound in partitions(cur, table):
        m = _RANGE.search(bound)
        if m:
            out.append((dt.date.fromisoformat(m.group(1)), dt.date.fromisoformat(m.group(2))))
    return sorted(out)


def default_rows(cur: Any, table: str, column: str) -> int:
    """Rows in ``table``'s default partition (0 without one): rows whose ``column`` falls in no
    monthly range. The periodic task keeps it empty and logs an alert when it is not."""
    name = f"{table}_default"
    cur.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
    if not cur.fetchone()[0]:
        return 0
    cur.execute(f'SELECT count(*) FROM "{name}"')  # noqa: S608 (a catalogue name, not input)
    return int(cur.fetchone()[0])


def month_partition_ensure(cur: Any, table: str, column: str, first: dt.date) -> str | None:
    """Create the partition of ``table`` for the month starting ``first`` unless a range already
    covers any of it. Rows of that month sitting in the default partition are moved into the new
    partition in the same transaction (the attach would fail otherwise). Returns the created
    partition's name, or ``None`` when the month was covered."""
    nxt = add_months(first, 1)
    if any(lo < nxt and first < hi for lo, hi in date_ranges(cur, table)):
        return None
    name = month_partition_name(table, first)
    default = f"{table}_default"
    bounds = f"FROM ('{first.isoformat()}') TO ('{nxt.isoformat()}')"
    cur.execute("SELECT to_regclass(%s) IS NOT NULL", [default])
    has_default = cur.fetchone()[0]
    stray = 0
    if has_default:
        cur.execute(
            f'SELECT count(*) FROM "{default}" WHERE "{column}" >= %s AND "{column}" < %s',  # noqa: S608
            [first, nxt],
        )
        stray = int(cur.fetchone()[0])
    if not stray:
        cur.execute(f'CREATE TABLE "{name}" PARTITION OF "{table}" FOR VALUES {bounds}')
        return name
    cur.execute(f'LOCK TABLE "{default}" IN ACCESS EXCLUSIVE MODE')
    cur.execute(f'CREATE TABLE "{name}" (LIKE "{table}" INCLUDING DEFAULTS)')
    cur.execute(
        f'WITH moved AS (DELETE FROM "{default}" WHERE "{column}" >= %s AND "{column}" < %s '  # noqa: S608
        f'RETURNING *) INSERT INTO "{name}" SELECT * FROM moved',
        [first, nxt],
    )
    cur.execute(f'ALTER TABLE "{table}" ATTACH PARTITION "{name}" FOR VALUES {bounds}')
    return name


def default_partition_ensure(cur: Any, table: str) -> None:
    """Create ``table``'s default partition when missing."""
    cur.execute(f'CREATE TABLE IF NOT EXISTS "{table}_default" PARTITION OF "{table}" DEFAULT')


def hash_partitions_create(cur: Any, table: str, modulus: int, *, parent: str | None = None) -> None:
    """Create ``modulus`` hash partitions ``T_h00`` … of the partitioned ``table`` (or of ``parent``,
    its temporary name during a rebuild)."""
    for r in range(modulus):
        cur.execute(
            f'CREATE TABLE "{table}_h{r:02d}" PARTITION OF "{parent or table}" '
            f"FOR VALUES WITH (MODULUS {modulus}, REMAINDER {r})"
        )


def sequence_value(cur: Any, table: str, column: str = "id") -> int:
    """The larger of ``table.column``'s sequence position and ``max(column)``: where its identity
    must continue after the table is rebuilt (0 when empty and never used)."""
    cur.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, column])
    seq = cur.fetchone()[0]
    last = 0
    if seq:
        cur.execute(f"SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {seq}")  # noqa: S608
        last = int(cur.fetchone()[0])
    cur.execute(f'SELECT coalesce(max("{column}"), 0) FROM "{table}"')  # noqa: S608
    return max(last, int(cur.fetchone()[0]))


def identity_restore(cur: Any, table: str, value: int, column: str = "id") -> None:
    """Make ``table.column`` an identity column continuing after ``value``."""
    cur.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" ADD GENERATED BY DEFAULT AS IDENTITY')
    if value > 0:
        cur.execute("SELECT setval(pg_get_serial_sequence(%s, %s), %s, true)", [table, column, value])


def foreign_keys_into(cur: Any, table: str) -> list[tuple[str, str, str]]:
    """``[(referencing table, constraint name, definition)]`` of the foreign keys referencing
    ``table`` (its partitions' clones excluded)."""
    cur.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND confrelid = to_regclass(%s) AND conparentid = 0 ORDER BY 1, 2",
        [table],
    )
    return [(r[0], r[1], r[2]) for r in cur.fetchall()]


def constraints_of(cur: Any, table: str) -> list[tuple[str, str, str]]:
    """``[(name, contype, definition)]`` of ``table``'s own constraints (primary key ``p``, unique
    ``u``, foreign key ``f``, check ``c``), NOT NULL excluded."""
    cur.execute(
        "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = to_regclass(%s) AND contype IN ('p', 'u', 'f', 'c') AND conparentid = 0 "
        "ORDER BY 2, 1",
        [table],
    )
    return [(r[0], r[1], r[2]) for r in cur.fetchall()]


def plain_indexes_of(cur: Any, table: str) -> list[tuple[str, str]]:
    """``[(name, CREATE INDEX statement)]`` of ``table``'s indexes that back no constraint."""
    cur.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = to_regclass(%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid "
        "AND k.conrelid = i.indrelid) ORDER BY 1",
        [table],
    )
    return [(r[0], r[1]) for r in cur.fetchall()]


def with_key(definition: str, key: str) -> str:
    """A ``PRIMARY KEY (…)``/``UNIQUE (…)`` definition or ``CREATE UNIQUE INDEX … (…)`` statement
    with the partition ``key`` column appended to its column list (unchanged when present)."""
    m = re.search(r"\(([^()]*)\)", definition)
    if m is None:
        raise ValueError(definition)
    cols = [c.strip() for c in m.group(1).split(",")]
    if key in cols:
        return definition
    return f"{definition[: m.end(1)]}, {key}{definition[m.end(1):]}"


def without_key(definition: str, key: str) -> str:
    """The inverse of :func:`with_key`: ``key`` removed when it is the last of several columns."""
    return re.sub(rf", {re.escape(key)}\)", ")", definition, count=1)


def table_rebuild(
    cur: Any, table: str, *, partition_by: str | None, key: str, keep: frozenset[str] = frozenset(),
    drop: frozenset[str] = frozenset(), fk_map: dict[str, str] | None = None,
    make_partitions: Callable[[Any, str], None] | None = None,
) -> int:
    """Rebuild ``table`` with the same columns, rows, ids, constraints and indexes, as a table
    partitioned ``partition_by`` (e.g. ``"HASH (institution_id)"``; ``None``: a plain table again)
    — by copying its rows in the caller's transaction (``ACCESS EXCLUSIVE`` on ``table`` until
    commit). Primary keys, unique constraints and unique indexes get the partition ``key`` appended
    (``None``: removed again), except those named in ``keep``; constraints named in ``drop`` are
    not re-created; ``fk_map`` replaces foreign-key definitions by name. Foreign keys of other
    tables into ``table`` are dropped: the caller re-creates them (returned count of rows copied).
    ``make_partitions(cur, parent)`` creates the partitions of the new table under its temporary
    name ``parent`` before the copy (named after ``table``)."""
    for ref_table, name, _ in foreign_keys_into(cur, table):
        if ref_table != table:
            cur.execute(f'ALTER TABLE {ref_table} DROP CONSTRAINT "{name}"')
    cons = constraints_of(cur, table)
    idx = plain_indexes_of(cur, table)
    seq = sequence_value(cur, table)
    new = f"{table}__new"
    clause = f" PARTITION BY {partition_by}" if partition_by else ""
    cur.execute(f'CREATE TABLE "{new}" (LIKE "{table}" INCLUDING DEFAULTS){clause}')
    if partition_by and make_partitions is not None:
        make_partitions(cur, new)
    cur.execute(f'INSERT INTO "{new}" SELECT * FROM "{table}"')  # noqa: S608
    copied = cur.rowcount
    cur.execute(f'DROP TABLE "{table}" CASCADE')
    cur.execute(f'ALTER TABLE "{new}" RENAME TO "{table}"')
    identity_restore(cur, table, seq)
    _recreate(cur, table, cons, idx, key=key, partitioned=bool(partition_by), keep=keep, drop=drop,
              fk_map=fk_map or {})
    return copied


def _recreate(
    cur: Any, table: str, cons: list[tuple[str, str, str]], idx: list[tuple[str, str]], *, key: str,
    partitioned: bool, keep: frozenset[str], drop: frozenset[str], fk_map: dict[str, str],
) -> None:
    """Add ``cons`` and ``idx`` (captured by :func:`constraints_of`/:func:`plain_indexes_of`) to
    ``table``, adapting unique ones to the partition ``key``."""
    def adapt(defn: str) -> str:
        return with_key(defn, key) if partitioned else without_key(defn, key)

    for name, kind, defn in sorted(cons, key=lambda c: "pucf".index(c[1])):  # keys before FKs
        if name in drop:
            continue
        if name in fk_map:
            defn = fk_map[name]
        elif kind in "pu" and name not in keep:
            defn = adapt(defn)
        cur.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {defn}')
    for name, defn in idx:
        if defn.startswith("CREATE UNIQUE") and name not in keep:
            defn = adapt(defn)
        cur.execute(defn)

