"""The scheme key (spec/cards.md §The card scheme's clearing): cycles are keyed by (``scheme``,
``clr_date``); items carry ``scheme`` and ``clr_date`` with a composite relation to their cycle;
settlement accounts and journal entries/legs carry ``scheme``. Every existing row is ``medical``
(a database default, so bulk loads that name no scheme stay medical).

Database rules added (PostgreSQL; SQLite gets the leg rule as triggers):
- ``clearing_item_cycle_fk``: (scheme, clr_date) of an item references its cycle;
- ``clearing_journalleg_entry_scheme_fk``: (entry_id, scheme) of a leg references its entry's
  (id, scheme), and ``journal_leg_account_of_scheme`` ties a leg's account name to its scheme
  (``card:`` accounts are card legs), so no journal entry can mix schemes;
- the Merkle-order index becomes (clr_date, scheme, setl_id COLLATE "C"): one scheme's day is a
  contiguous index range.
"""

import django.db.models.deletion
from django.db import migrations, models

SCHEME = {
    "choices": [("medical", "Medical"), ("card", "Card")],
    "db_default": "medical",
    "default": "medical",
    "max_length": 8,
}

PG_FORWARD = """
ALTER TABLE clearing_clearingitem ADD CONSTRAINT clearing_item_cycle_fk
    FOREIGN KEY (scheme, clr_date) REFERENCES clearing_cycle (scheme, clr_date)
    DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE clearing_journalleg ADD CONSTRAINT clearing_journalleg_entry_scheme_fk
    FOREIGN KEY (entry_id, scheme) REFERENCES clearing_journalentry (id, scheme)
    DEFERRABLE INITIALLY DEFERRED;
DROP INDEX IF EXISTS clearing_item_cycle_setl_c;
CREATE INDEX IF NOT EXISTS clearing_item_day_scheme_setl_c
    ON clearing_clearingitem (clr_date, scheme, setl_id COLLATE "C");
"""

PG_BACKWARD = """
DROP INDEX IF EXISTS clearing_item_day_scheme_setl_c;
CREATE INDEX IF NOT EXISTS clearing_item_cycle_setl_c ON clearing_clearingitem (clr_date, setl_id COLLATE "C");
ALTER TABLE clearing_journalleg DROP CONSTRAINT IF EXISTS clearing_journalleg_entry_scheme_fk;
ALTER TABLE clearing_clearingitem DROP CONSTRAINT IF EXISTS clearing_item_cycle_fk;
"""

SQLITE_FORWARD = [
    """CREATE TRIGGER clearing_journalleg_scheme_ins BEFORE INSERT ON clearing_journalleg
    WHEN NEW.scheme IS NOT (SELECT scheme FROM clearing_journalentry WHERE id = NEW.entry_id)
    BEGIN SELECT RAISE(ABORT, 'journal leg of another scheme than its entry'); END""",
    """CREATE TRIGGER clearing_journalleg_scheme_upd BEFORE UPDATE ON clearing_journalleg
    WHEN NEW.scheme IS NOT (SELECT scheme FROM clearing_journalentry WHERE id = NEW.entry_id)
    BEGIN SELECT RAISE(ABORT, 'journal leg of another scheme than its entry'); END""",
    """CREATE TRIGGER clearing_journalentry_scheme_upd BEFORE UPDATE OF scheme ON clearing_journalentry
    WHEN EXISTS (SELECT 1 FROM clearing_journalleg WHERE entry_id = NEW.id AND scheme IS NOT NEW.scheme)
    BEGIN SELECT RAISE(ABORT, 'journal entry would mix schemes'); END""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS clearing_journalleg_scheme_ins",
    "DROP TRIGGER IF EXISTS clearing_journalleg_scheme_upd",
    "DROP TRIGGER IF EXISTS clearing_journalentry_scheme_upd",
]


def forwards(apps, schema_editor):  # noqa: ANN001, ANN201
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE_FORWARD:
            schema_editor.execute(sql)


def backwards(apps, schema_editor):  # noqa: ANN001, ANN201
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE_BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("clearing", "0004_proof_blocks")]

    operations = [
        # items: the FK on the unique clr_date becomes a plain date column plus scheme
        migrations.RemoveIndex(model_name="clearingitem", name="clearing_cl_clr_dat_a6fc25_idx"),
        migrations.AlterField(
            model_name="clearingitem", name="cycle", field=models.DateField(db_column="clr_date")
        ),
        migrations.RenameField(model_name="clearingitem", old_name="cycle", new_name="clr_date"),
        migrations.AddField(model_name="clearingitem", name="scheme", field=models.CharField(**SCHEME)),
        # cycles: unique per (scheme, day)
        migrations.AddField(model_name="cycle", name="scheme", field=models.CharField(**SCHEME)),
        migrations.AlterField(model_name="cycle", name="clr_date", field=models.DateField()),
        migrations.AddConstraint(
            model_name="cycle",
            constraint=models.UniqueConstraint(fields=("scheme", "clr_date"), name="one_cycle_per_scheme_day"),
        ),
        migrations.AlterModelOptions(name="cycle", options={"ordering": ["scheme", "clr_date"]}),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="clearingitem",
                    name="cycle",
                    field=models.ForeignObject(
                        from_fields=("scheme", "clr_date"),
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="items",
                        to="clearing.cycle",
                        to_fields=("scheme", "clr_date"),
                    ),
                )
            ]
        ),
        migrations.AddIndex(
            model_name="clearingitem",
            index=models.Index(fields=["clr_date", "scheme", "setl_id"], name="clearing_item_day_scheme_setl"),
        ),
        migrations.AlterField(
            model_name="clearingitem",
            name="kind",
            field=models.CharField(
                choices=[
                    ("settlement", "Settlement"),
                    ("reversal", "Reversal"),
                    ("adjustment", "Adjustment"),
                    ("acceptance", "Acceptance"),
                ],
                max_length=10,
            ),
        ),
        # settlement accounts: one per (scheme, province)
        migrations.AddField(model_name="prefundaccount", name="scheme", field=models.CharField(**SCHEME)),
        migrations.AlterField(model_name="prefundaccount", name="admdvs", field=models.CharField(max_length=6)),
        migrations.AddConstraint(
            model_name="prefundaccount",
            constraint=models.UniqueConstraint(fields=("scheme", "admdvs"), name="one_account_per_scheme"),
        ),
        migrations.AlterModelOptions(name="prefundaccount", options={"ordering": ["scheme", "admdvs"]}),
        # ledger: no entry mixes schemes
        migrations.AddField(model_name="journalentry", name="scheme", field=models.CharField(**SCHEME)),
        migrations.AddField(model_name="journalleg", name="scheme", field=models.CharField(**SCHEME)),
        migrations.AddConstraint(
            model_name="journalentry",
            constraint=models.UniqueConstraint(fields=("id", "scheme"), name="journal_entry_id_scheme"),
        ),
        migrations.AddConstraint(
            model_name="journalleg",
            constraint=models.CheckConstraint(
                condition=models.Q(("account__startswith", "card:"), ("scheme", "card"))
                | models.Q(("scheme", "medical"), models.Q(("account__startswith", "card:"), _negated=True)),
                name="journal_leg_account_of_scheme",
            ),
        ),
        migrations.AlterField(
            model_name="dispute",
            name="reason_code",
            field=models.CharField(
                choices=[
                    ("not_eligible", "Not Eligible"),
                    ("not_covered", "Not Covered"),
                    ("duplicate", "Duplicate"),
                    ("amount_error", "Amount Error"),
                    ("other", "Other"),
                    ("card_denied_missed", "Card Denied Missed"),
                ],
                max_length=20,
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
