"""The reference stamp (settlement.ReferenceVersion) and the triggers that change it on every
write to policies and catalogue rows, whatever writes them (uploads, import_reference, the admin,
raw SQL): statement triggers on PostgreSQL (TRUNCATE included), row triggers on SQLite."""
from django.db import migrations, models

TABLES = ("settlement_policy", "settlement_catalogueitem")

PG = """
CREATE OR REPLACE FUNCTION settlement_reference_bump() RETURNS trigger AS $$
BEGIN
    INSERT INTO settlement_referenceversion (id, stamp) VALUES (1, floor(random() * 9e15)::bigint)
    ON CONFLICT (id) DO UPDATE SET stamp = EXCLUDED.stamp;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
""" + "".join(
    f"""
CREATE TRIGGER {t}_reference_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {t}
    FOR EACH STATEMENT EXECUTE FUNCTION settlement_reference_bump();
"""
    for t in TABLES
)

SQLITE = [
    f"""CREATE TRIGGER {t}_reference_bump_{op.lower()} AFTER {op} ON {t} BEGIN
    INSERT INTO settlement_referenceversion (id, stamp) VALUES (1, random())
    ON CONFLICT (id) DO UPDATE SET stamp = excluded.stamp;
END"""
    for t in TABLES
    for op in ("INSERT", "UPDATE", "DELETE")
]


def forwards(apps, schema_editor):  # noqa: ANN001, ANN201
    conn = schema_editor.connection
    with conn.cursor() as cur:
        if conn.vendor == "postgresql":
            cur.execute(PG)
        elif conn.vendor == "sqlite":
            for sql in SQLITE:
                cur.execute(sql)
        cur.execute("INSERT INTO settlement_referenceversion (id, stamp) VALUES (1, 1)")


def backwards(apps, schema_editor):  # noqa: ANN001, ANN201
    conn = schema_editor.connection
    with conn.cursor() as cur:
        for t in TABLES:
            if conn.vendor == "postgresql":
                cur.execute(f"DROP TRIGGER IF EXISTS {t}_reference_bump ON {t}")
            else:
                for op in ("insert", "update", "delete"):
                    cur.execute(f"DROP TRIGGER IF EXISTS {t}_reference_bump_{op}")
        if conn.vendor == "postgresql":
            cur.execute("DROP FUNCTION IF EXISTS settlement_reference_bump()")


class Migration(migrations.Migration):
    dependencies = [("settlement", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="ReferenceVersion",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("stamp", models.BigIntegerField()),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
