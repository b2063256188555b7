"""PostgreSQL only (docs/scaling.md §Declarative partitioning, ``settlement.partitions``):
settlements ``PARTITION BY HASH (institution_id)``, fee lines ``PARTITION BY HASH
(settlement_id)``, 16 partitions each, rows copied in one transaction (a hash partition cannot
adopt an existing table: the tables are locked for the copy; docs/scaling.md gives the duration).
A no-op on SQLite (plain tables, Django's model state unchanged)."""

from django.db import migrations, transaction


def forward(apps, schema_editor):  # noqa: ANN001, ANN201
    conn = schema_editor.connection
    if conn.vendor != "postgresql":
        return
    from settlement.partitions import settlements_partition

    with transaction.atomic(using=conn.alias), conn.cursor() as cur:
        settlements_partition(cur)


def backward(apps, schema_editor):  # noqa: ANN001, ANN201
    conn = schema_editor.connection
    if conn.vendor != "postgresql":
        return
    from settlement.partitions import settlements_unpartition

    with transaction.atomic(using=conn.alias), conn.cursor() as cur:
        settlements_unpartition(cur)


class Migration(migrations.Migration):
    dependencies = [("settlement", "0004_settlement_reversal_kind")]
    operations = [migrations.RunPython(forward, backward)]
