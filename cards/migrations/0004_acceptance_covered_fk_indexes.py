"""Drop the two single-column foreign-key indexes of ``cards_acceptance`` that another index
already covers (same leading column), which every insert paid for (~3 % of the per-record insert
cost, measured by cardspeed):

- ``cards_acceptance_acceptor_id_3490c12e`` (``acceptor_id``) — covered by the unique constraint
  ``one_acceptance_per_serial`` (``acceptor_id, acpt_serial``);
- ``cards_acceptance_card_id_1e66b3f1`` (``card_id``) — covered by ``cards_accep_card_id_687d6b_idx``
  (``card_id, used_at``).

Only the indexes are dropped: Django's own ``AlterField(db_index=False)`` would also drop and
re-create both foreign-key constraints, re-validating every row under a table lock. Index names are
Django's (deterministic, the same on PostgreSQL and SQLite).
"""

import django.db.models.deletion
from django.db import migrations, models

DROPS = {
    "cards_acceptance_acceptor_id_3490c12e": "acceptor_id",
    "cards_acceptance_card_id_1e66b3f1": "card_id",
}


class Migration(migrations.Migration):

    dependencies = [
        ("cards", "0003_verbose_names"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="acceptance",
                    name="acceptor",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                            related_name="acceptances", to="cards.acceptor",
                                            verbose_name="acceptor"),
                ),
                migrations.AlterField(
                    model_name="acceptance",
                    name="card",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                            related_name="acceptances", to="cards.card", verbose_name="card"),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "cards_acceptance" ("{column}")',
                )
                for name, column in DROPS.items()
            ],
        ),
    ]
