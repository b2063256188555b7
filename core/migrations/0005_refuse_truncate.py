"""PostgreSQL only: refuse ``TRUNCATE`` of the audit tables (issue 10 §2).

Row triggers do not fire on ``TRUNCATE``, so without a statement trigger one command would empty
the audit log (and its seal checkpoint) and commit. ``kuasheng_refuse_truncate()`` raises unless the
transaction set ``kuasheng.allow_truncate = on`` (only the test suite's flush does, with ``SET
LOCAL``). A superuser can still disable triggers (``session_replication_role = replica``), hence
the deploy check that the application's role is not one (``core/checks.py``).
"""
from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION kuasheng_refuse_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('kuasheng.allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'TRUNCATE of %% is refused: the table is append-only', TG_TABLE_NAME
        USING ERRCODE = '42501';
END $$ LANGUAGE plpgsql;
"""
TABLES = ("core_auditrecord", "core_auditsealcheckpoint")


def forwards(apps, schema_editor):  # noqa: ANN001, ANN201
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
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
    schema_editor.execute("DROP FUNCTION IF EXISTS kuasheng_refuse_truncate()")


class Migration(migrations.Migration):
    dependencies = [("core", "0004_cache_table_always")]
    operations = [migrations.RunPython(forwards, backwards)]
