"""PostgreSQL only (docs/scaling.md §Declarative partitioning): clearing items partitioned by
month of ``clr_date`` (``clearing.partitions``). An existing table with rows is attached as one
partition, not copied: first, online (writes go on), its ``(setl_id, clr_date)`` and ``(id,
clr_date)`` indexes are built ``CONCURRENTLY`` and a range ``CHECK`` is added ``NOT VALID`` and
validated; then one short transaction (catalogue changes only) renames it, creates the
partitioned parent and attaches it (``clearing.partitions``). On SQLite only the ``(setl_id, clr_date)``
unique index is added (the ``ON CONFLICT`` target on both engines); the table stays plain.
"""

import datetime as dt

from django.db import migrations, models, transaction

UNIQUE = "clearing_item_setl_day"


def unique_forward(apps, schema_editor):  # noqa: ANN001, ANN201
    conn = schema_editor.connection
    with conn.cursor() as cur:
        if conn.vendor == "postgresql":
            from clearing.partitions import items_prepare
            from core.partitioning import is_partitioned

            if is_partitioned(cur, "clearing_clearingitem"):
                return
            cur.execute(
                f"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {UNIQUE} "
                "ON clearing_clearingitem (setl_id, clr_date)"
            )
            cur.execute(
                f"ALTER TABLE clearing_clearingitem ADD CONSTRAINT {UNIQUE} UNIQUE USING INDEX {UNIQUE}"
            )
            items_prepare(cur, dt.datetime.now(dt.UTC).date())
        else:
            cur.execute(f"CREATE UNIQUE INDEX {UNIQUE} ON clearing_clearingitem (setl_id, clr_date)")


def unique_backward(apps, schema_editor):  # noqa: ANN001, ANN201
    conn = schema_editor.connection
    with conn.cursor() as cur:
        if conn.vendor == "postgresql":
            cur.execute(f"ALTER TABLE clearing_clearingitem DROP CONSTRAINT IF EXISTS {UNIQUE}")
            cur.execute("DROP INDEX IF EXISTS clearing_item_id_day_pre")
            cur.execute(
                "SELECT conname FROM pg_constraint WHERE conrelid = 'clearing_clearingitem'::regclass "
                "AND conname LIKE 'clearing_item_range_%%'"
            )
            for (name,) in cur.fetchall():
                cur.execute(f"ALTER TABLE clearing_clearingitem DROP CONSTRAINT {name}")
        else:
            cur.execute(f"DROP INDEX IF EXISTS {UNIQUE}")


def partition_forward(apps, schema_editor):  # noqa: ANN001, ANN201
    conn = schema_editor.connection
    if conn.vendor != "postgresql":
        return
    from clearing.partitions import items_partition

    with transaction.atomic(using=conn.alias), conn.cursor() as cur:
        items_partition(cur, dt.datetime.now(dt.UTC).date())


def partition_backward(apps, schema_editor):  # noqa: ANN001, ANN201
    conn = schema_editor.connection
    if conn.vendor != "postgresql":
        return
    from clearing.partitions import items_unpartition

    with transaction.atomic(using=conn.alias), conn.cursor() as cur:
        items_unpartition(cur)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY; the partitioning itself runs in one transaction
    dependencies = [("clearing", "0008_verbose_names")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddConstraint(
                    model_name="clearingitem",
                    constraint=models.UniqueConstraint(fields=("setl_id", "clr_date"), name=UNIQUE),
                )
            ],
            database_operations=[migrations.RunPython(unique_forward, unique_backward)],
        ),
        migrations.RunPython(partition_forward, partition_backward),
    ]
