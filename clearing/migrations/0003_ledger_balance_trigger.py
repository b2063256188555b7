"""PostgreSQL only: the Merkle-order index (clr_date, setl_id COLLATE "C"), and the ledger's
balance rule (spec/clearing.md §Ledger): every journal entry has ≥ 2 legs summing to exactly 0.00,
checked at commit by DEFERRABLE INITIALLY DEFERRED constraint triggers, so no code path, bulk load
or raw SQL can commit an unbalanced entry. On SQLite ``clearing.services.ledger`` checks the same
rule before writing."""
from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION clearing_journal_check(entry bigint) RETURNS void AS $$
DECLARE n integer; s numeric;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM clearing_journalentry WHERE id = entry) THEN
        RETURN;
    END IF;
    SELECT count(*), COALESCE(sum(amount), 0) INTO n, s FROM clearing_journalleg WHERE entry_id = entry;
    IF n < 2 OR s <> 0 THEN
        RAISE EXCEPTION 'journal entry %% is unbalanced: %% legs summing to %%', entry, n, s
            USING ERRCODE = '23514';
    END IF;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION clearing_journalleg_balanced() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN PERFORM clearing_journal_check(NEW.entry_id); END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN PERFORM clearing_journal_check(OLD.entry_id); END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION clearing_journalentry_balanced() RETURNS trigger AS $$
BEGIN
    PERFORM clearing_journal_check(NEW.id);
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER clearing_journalleg_balanced
    AFTER INSERT OR UPDATE OR DELETE ON clearing_journalleg
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION clearing_journalleg_balanced();

CREATE CONSTRAINT TRIGGER clearing_journalentry_balanced
    AFTER INSERT OR UPDATE ON clearing_journalentry
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION clearing_journalentry_balanced();

-- The Merkle order (setl_id as bytes) per cycle: leaf streaming, leaf index and item cursors.
CREATE INDEX IF NOT EXISTS clearing_item_cycle_setl_c ON clearing_clearingitem (clr_date, setl_id COLLATE "C");
"""

REVERSE = """
DROP INDEX IF EXISTS clearing_item_cycle_setl_c;
DROP TRIGGER IF EXISTS clearing_journalentry_balanced ON clearing_journalentry;
DROP TRIGGER IF EXISTS clearing_journalleg_balanced ON clearing_journalleg;
DROP FUNCTION IF EXISTS clearing_journalentry_balanced();
DROP FUNCTION IF EXISTS clearing_journalleg_balanced();
DROP FUNCTION IF EXISTS clearing_journal_check(bigint);
"""


def forwards(apps, schema_editor):  # noqa: ANN001, ANN201
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)


def backwards(apps, schema_editor):  # noqa: ANN001, ANN201
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE)


class Migration(migrations.Migration):
    dependencies = [("clearing", "0002_prefunds_ledger_disputes")]
    operations = [migrations.RunPython(forwards, backwards)]
