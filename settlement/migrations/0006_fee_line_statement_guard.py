"""PostgreSQL only: the fee lines' check that their settlement exists becomes a statement trigger
over the statement's new rows (``settlement.partitions.GUARDS``): the row trigger of 0005 cost
about nine times a foreign key per line (docs/scaling.md §Declarative partitioning). A no-op on
SQLite and on plain tables."""

from django.db import migrations


def forward(apps, schema_editor):  # noqa: ANN001, ANN201
    conn = schema_editor.connection
    if conn.vendor != "postgresql":
        return
    from settlement.partitions import guards_install

    with conn.cursor() as cur:
        guards_install(cur)


class Migration(migrations.Migration):
    dependencies = [("settlement", "0005_partition_settlements")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
