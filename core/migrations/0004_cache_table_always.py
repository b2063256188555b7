"""Creates the database cache table ``kuasheng_cache`` whatever ``CACHES`` says at migrate time.

0002 used ``createcachetable``, which only creates tables of the *configured* caches: a database
migrated with ``REDIS_URL`` set and later run without it had no cache table, and signed requests
failed (nonces live in that cache). The table is tiny and unused when Redis is configured.
"""
from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

TABLE = "kuasheng_cache"


def create_cache_table(apps, schema_editor):
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, TABLE, dry_run=False)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_audit_seal_checkpoint")]
    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
