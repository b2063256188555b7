"""PostgreSQL only: refuse ``TRUNCATE`` of the ledger (issue 10 §2): the balance triggers of
``0003`` are row triggers, which ``TRUNCATE`` does not fire, so ``TRUNCATE clearing_journalleg``
would leave entries without legs. Uses ``kuasheng_refuse_truncate()`` of ``core 0005``."""
from django.db import migrations

TABLES = ("clearing_journalentry", "clearing_journalleg")


def forwards(apps, schema_editor):  # noqa: ANN001, ANN201
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION kuasheng_refuse_truncate()"
        )


def backwards(apps, schema_editor):  # noqa: ANN001, ANN201
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")


class Migration(migrations.Migration):
    dependencies = [("clearing", "0006_item_reversal"), ("core", "0005_refuse_truncate")]
    operations = [migrations.RunPython(forwards, backwards)]
