"""Clearing items partitioned by business day (docs/scaling.md §Declarative partitioning),
PostgreSQL only: ``clearing_clearingitem`` ``PARTITION BY RANGE (clr_date)``, one partition per
month (``clearing_clearingitem_yYYYYmMM``) plus ``clearing_clearingitem_default``, the net for a
day no month covers, which :func:`item_partitions_ahead` keeps empty.

In the database (Django's model state is unchanged, so SQLite keeps one plain table):
- primary key ``(id, clr_date)``; ``setl_id`` unique per day (``clearing_item_setl_day``);
- disputes and item reversals reference ``(item_id, item_clr_date)`` with a composite foreign key;
  ``item_clr_date`` is a database-only column a ``BEFORE INSERT OR UPDATE`` trigger fills from
  the item (:data:`REFS`).

:func:`items_partition` converts an existing table without copying its rows: the old table
becomes one partition covering its months (``CHECK … NOT VALID``, ``VALIDATE``, ``ATTACH``).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from core import partitioning as p

log = logging.getLogger(__name__)

ITEMS = "clearing_clearingitem"
REFS = ("clearing_dispute", "clearing_itemreversal")  # tables with an ``item_id`` into items
AHEAD = 3  # months created ahead of the current one
PRE_INDEX = "clearing_item_id_day_pre"

FILL = """
CREATE OR REPLACE FUNCTION clearing_item_clr_date_fill() RETURNS trigger AS $$
BEGIN
    SELECT clr_date INTO NEW.item_clr_date FROM clearing_clearingitem WHERE id = NEW.item_id;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
"""


def item_refs_composite(cur: Any) -> None:
    """Disputes and item reversals: add ``item_clr_date`` (filled from the items, then by trigger)
    and the composite foreign key ``(item_id, item_clr_date)`` → items ``(id, clr_date)``."""
    cur.execute(FILL)
    for t in REFS:
        cur.execute(f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS item_clr_date date")
        cur.execute(
            f"UPDATE {t} r SET item_clr_date = i.clr_date FROM {ITEMS} i WHERE i.id = r.item_id"  # noqa: S608
        )
        cur.execute(f"ALTER TABLE {t} ALTER COLUMN item_clr_date SET NOT NULL")
        cur.execute(
            f"CREATE TRIGGER {t}_item_clr_date BEFORE INSERT OR UPDATE OF item_id ON {t} "
            "FOR EACH ROW EXECUTE FUNCTION clearing_item_clr_date_fill()"
        )
        cur.execute(
            f"ALTER TABLE {t} ADD CONSTRAINT {t}_item_fk FOREIGN KEY (item_id, item_clr_date) "
            f"REFERENCES {ITEMS} (id, clr_date) DEFERRABLE INITIALLY DEFERRED"
        )


def item_refs_plain(cur: Any) -> None:
    """The inverse of :func:`item_refs_composite`: plain ``item_id`` foreign keys again."""
    for t in REFS:
        cur.execute(f"ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {t}_item_fk")
        cur.execute(f"DROP TRIGGER IF EXISTS {t}_item_clr_date ON {t}")
        cur.execute(f"ALTER TABLE {t} DROP COLUMN IF EXISTS item_clr_date")
        cur.execute(
            f"ALTER TABLE {t} ADD CONSTRAINT {t}_item_id_fk FOREIGN KEY (item_id) "
            f"REFERENCES {ITEMS} (id) DEFERRABLE INITIALLY DEFERRED"
        )
    cur.execute("DROP FUNCTION IF EXISTS clearing_item_clr_date_fill()")


def items_month_span(cur: Any) -> tuple[dt.date, dt.date] | None:
    """``[first month, month after the last)`` of the items' ``clr_date``, or ``None`` when empty."""
    cur.execute(f"SELECT min(clr_date), max(clr_date) FROM {ITEMS}")  # noqa: S608
    lo, hi = cur.fetchone()
    if lo is None:
        return None
    return p.month_start(lo), p.add_months(p.month_start(hi), 1)


def _check_name(lo: dt.date, hi: dt.date) -> str:
    return f"clearing_item_range_{lo:%Y%m%d}_{hi:%Y%m%d}"


def _prepared_range(cur: Any) -> tuple[dt.date, dt.date] | None:
    """The ``[lo, hi)`` of a validated range ``CHECK`` :func:`items_prepare` left on the table."""
    cur.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(%s) AND contype = 'c' "
        "AND convalidated AND conname LIKE 'clearing_item_range_%%' ORDER BY 1 DESC LIMIT 1", [ITEMS]
    )
    row = cur.fetchone()
    if row is None:
        return None
    lo, hi = row[0].rsplit("_", 2)[1:]
    return tuple(dt.date(int(v[:4]), int(v[4:6]), int(v[6:])) for v in (lo, hi))  # type: ignore[return-value]


def items_prepare(cur: Any, today: dt.date, *, concurrently: bool = True) -> None:
    """The online part of the migration of a plain items table with rows, on an autocommit
    connection (writes go on; a no-op when the table is partitioned or empty): build the
    ``(id, clr_date)`` index the partition's primary key adopts ``CONCURRENTLY``, then add the range
    ``CHECK`` of the months the table holds — through next month, so the day's writers stay
    inside it — ``NOT VALID`` (a short lock; new rows are checked from then on) and ``VALIDATE``
    it (a scan that lets writes go on)."""
    if p.is_partitioned(cur, ITEMS):
        return
    span = items_month_span(cur)
    if span is None:
        return
    how = "CONCURRENTLY " if concurrently else ""
    cur.execute(f"CREATE UNIQUE INDEX {how}IF NOT EXISTS {PRE_INDEX} ON {ITEMS} (id, clr_date)")
    lo, hi = span[0], max(span[1], p.add_months(p.month_start(today), 2))
    if _prepared_range(cur) is None:
        name = _check_name(lo, hi)
        cur.execute(
            # DDL takes no bound parameters: the dates are written out (ISO, from date objects)
            f"ALTER TABLE {ITEMS} ADD CONSTRAINT {name} "
            f"CHECK (clr_date >= '{lo.isoformat()}' AND clr_date < '{hi.isoformat()}') NOT VALID"
        )
        cur.execute(f"ALTER TABLE {ITEMS} VALIDATE CONSTRAINT {name}")


def items_partition(cur: Any, today: dt.date) -> str | None:
    """Make the items table partitioned by month, in the caller's transaction (a no-op when it is).
    An empty table is rebuilt; a table with rows becomes the partition of the range its validated
    ``CHECK`` proves (:func:`items_prepare`, run here when it was not before), so the ``ATTACH``
    needs no scan: catalogue changes only. Returns the attached table's new name."""
    if p.is_partitioned(cur, ITEMS):
        return None
    for ref_table, name, _ in p.foreign_keys_into(cur, ITEMS):
        cur.execute(f'ALTER TABLE {ref_table} DROP CONSTRAINT "{name}"')
    legacy = None
    if items_month_span(cur) is None:
        cur.execute(f"DROP INDEX IF EXISTS {PRE_INDEX}")
        p.table_rebuild(cur, ITEMS, partition_by="RANGE (clr_date)", key="clr_date",
                        keep=frozenset({"clearing_item_setl_day"}),
                        drop=frozenset({f"{ITEMS}_setl_id_key"}))
    else:
        if _prepared_range(cur) is None:
            items_prepare(cur, today, concurrently=False)
        legacy = _attach_existing(cur, *(_prepared_range(cur) or (today, today)))
    p.default_partition_ensure(cur, ITEMS)
    item_partitions_ahead(cur, today)
    item_refs_composite(cur)
    return legacy


def _attach_existing(cur: Any, lo: dt.date, hi: dt.date) -> str:
    """Rename the items table and attach it to a new partitioned parent as ``[lo, hi)``."""
    legacy = f"{ITEMS}_y{lo.year}m{lo.month:02d}_to_y{hi.year}m{hi.month:02d}"
    cur.execute(f"ALTER TABLE {ITEMS} DROP CONSTRAINT {ITEMS}_pkey")
    cur.execute(f"ALTER TABLE {ITEMS} ADD CONSTRAINT {legacy}_pkey PRIMARY KEY USING INDEX {PRE_INDEX}")
    cons = [c for c in p.constraints_of(cur, ITEMS)
            if c[0] != f"{legacy}_pkey" and not c[0].startswith("clearing_item_range_")]
    idx = p.plain_indexes_of(cur, ITEMS)
    seq = p.sequence_value(cur, ITEMS)
    cur.execute(f"ALTER TABLE {ITEMS} ALTER COLUMN id DROP IDENTITY")
    cur.execute(f"ALTER TABLE {ITEMS} RENAME TO {legacy}")
    cur.execute(
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = to_regclass(%s) ORDER BY 1", [legacy]
    )
    for n, (name,) in enumerate(cur.fetchall()):
        if not name.startswith(legacy):
            cur.execute(f'ALTER INDEX "{name}" RENAME TO "{legacy[:50]}_ix{n}"')
    cur.execute(f"CREATE TABLE {ITEMS} (LIKE {legacy} INCLUDING DEFAULTS) PARTITION BY RANGE (clr_date)")
    p.identity_restore(cur, ITEMS, seq)
    cons.append((f"{ITEMS}_pkey", "p", "PRIMARY KEY (id)"))
    p._recreate(cur, ITEMS, cons, idx, key="clr_date", partitioned=True,
                keep=frozenset({"clearing_item_setl_day"}), drop=frozenset({f"{ITEMS}_setl_id_key"}),
                fk_map={})
    cur.execute(f"ALTER TABLE {ITEMS} ATTACH PARTITION {legacy} "
                f"FOR VALUES FROM ('{lo.isoformat()}') TO ('{hi.isoformat()}')")
    return legacy


def items_unpartition(cur: Any) -> None:
    """The inverse of :func:`items_partition`: one plain table again (rows copied), with the
    ``setl_id`` unique constraint and the plain foreign keys of disputes and item reversals."""
    if not p.is_partitioned(cur, ITEMS):
        return
    for t in REFS:
        cur.execute(f"ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {t}_item_fk")
    p.table_rebuild(cur, ITEMS, partition_by=None, key="clr_date", keep=frozenset({"clearing_item_setl_day"}))
    cur.execute(f"ALTER TABLE {ITEMS} ADD CONSTRAINT {ITEMS}_setl_id_key UNIQUE (setl_id)")
    item_refs_plain(cur)


def item_partitions_ahead(cur: Any, today: dt.date, ahead: int = AHEAD) -> list[str]:
    """Create the monthly partitions from last month to ``ahead`` months after ``today``'s
    (existing ones and months an older range covers are skipped; a month's rows found in the
    default partition move into its new partition). Returns the created names; logs an error
    (``partition_default_rows``) when the default partition still holds rows."""
    cur.execute("SELECT pg_advisory_xact_lock(hashtext('clearing_item_partitions'))")  # one at a time
    first = p.month_start(today)
    created = [
        name for k in range(-1, ahead + 1)
        if (name := p.month_partition_ensure(cur, ITEMS, "clr_date", p.add_months(first, k)))
    ]
    stray = p.default_rows(cur, ITEMS, "clr_date")
    if stray:
        log.error("partition_default_rows", extra={"table": ITEMS, "rows": stray})
    return created
