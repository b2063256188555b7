"""Settlements and fee lines hash-partitioned (docs/scaling.md §Declarative partitioning),
PostgreSQL only; Django's model state is unchanged, so SQLite keeps plain tables.

- ``settlement_settlement`` ``PARTITION BY HASH (institution_id)``, :data:`MODULUS` partitions
  ``settlement_settlement_h00`` …: the idempotency key ``(institution_id, medins_setl_id)``
  contains the partition key and stays one unique constraint (the target of the batch insert's
  ``ON CONFLICT``); primary key ``(id, institution_id)``; ``setl_id`` unique per institution;
  one reversal per settlement ``(orig_id, institution_id)``; the reversal's ``orig`` is a
  composite foreign key ``(orig_id, institution_id)`` → ``(id, institution_id)`` (a reversal is
  always of the same institution's settlement, ``settlement.services.reverse``).
- ``settlement_feedetail`` ``PARTITION BY HASH (settlement_id)``: primary key ``(id,
  settlement_id)``; ``(settlement_id, feedetl_sn)`` unique as before. A foreign key into the
  settlements would need their partition key (``institution_id``) in the fee line, so the
  reference is guarded by triggers instead (:data:`GUARDS`): after each statement that inserts
  or updates fee lines, their settlements exist (locked ``FOR KEY SHARE`` like a foreign key);
  a settlement with fee lines is not deleted (a deferred constraint trigger).

Both are rebuilt by copying rows (a hash partition cannot adopt an existing table).
"""

from __future__ import annotations

from typing import Any

from core import partitioning as p

SETTLEMENTS = "settlement_settlement"
LINES = "settlement_feedetail"
MODULUS = 16
ORIG_FK = "settlement_settlemen_orig_id_de00d481_fk_settlemen"

# The fee line → settlement reference (measured, docs/scaling.md §Declarative partitioning: a row
# trigger cost ≈ 9× a foreign key per line, mostly probing 16 partitions from PL/pgSQL one row at
# a time; a statement trigger over the statement's new rows costs about what the foreign key did).
# Nested loops are forced inside the check so a batch's few rows probe the settlements' indexes
# instead of hashing the whole table (transition tables have no statistics).
GUARDS = """
CREATE OR REPLACE FUNCTION settlement_feedetail_settlement_exists() RETURNS trigger
SET enable_hashjoin = off SET enable_mergejoin = off SET enable_seqscan = off AS $$
DECLARE missing bigint;
BEGIN
    PERFORM 1 FROM settlement_settlement
        WHERE id IN (SELECT DISTINCT settlement_id FROM new_lines) FOR KEY SHARE;
    SELECT n.settlement_id INTO missing FROM new_lines n
        WHERE NOT EXISTS (SELECT 1 FROM settlement_settlement s WHERE s.id = n.settlement_id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'fee line references no settlement %', missing USING ERRCODE = '23503';
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS settlement_feedetail_settlement_fk ON settlement_feedetail;
DROP TRIGGER IF EXISTS settlement_feedetail_settlement_ins ON settlement_feedetail;
DROP TRIGGER IF EXISTS settlement_feedetail_settlement_upd ON settlement_feedetail;
CREATE TRIGGER settlement_feedetail_settlement_ins AFTER INSERT ON settlement_feedetail
    REFERENCING NEW TABLE AS new_lines
    FOR EACH STATEMENT EXECUTE FUNCTION settlement_feedetail_settlement_exists();
CREATE TRIGGER settlement_feedetail_settlement_upd AFTER UPDATE ON settlement_feedetail
    REFERENCING NEW TABLE AS new_lines
    FOR EACH STATEMENT EXECUTE FUNCTION settlement_feedetail_settlement_exists();
CREATE OR REPLACE FUNCTION settlement_settlement_lines_kept() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM settlement_feedetail WHERE settlement_id = OLD.id)
       AND NOT EXISTS (SELECT 1 FROM settlement_settlement WHERE id = OLD.id) THEN
        RAISE EXCEPTION 'settlement % still has fee lines', OLD.id USING ERRCODE = '23503';
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS settlement_settlement_lines_fk ON settlement_settlement;
CREATE CONSTRAINT TRIGGER settlement_settlement_lines_fk
    AFTER DELETE OR UPDATE OF id ON settlement_settlement
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION settlement_settlement_lines_kept();
"""
UNGUARD = """
DROP TRIGGER IF EXISTS settlement_feedetail_settlement_fk ON settlement_feedetail;
DROP TRIGGER IF EXISTS settlement_feedetail_settlement_ins ON settlement_feedetail;
DROP TRIGGER IF EXISTS settlement_feedetail_settlement_upd ON settlement_feedetail;
DROP TRIGGER IF EXISTS settlement_settlement_lines_fk ON settlement_settlement;
DROP FUNCTION IF EXISTS settlement_feedetail_settlement_exists();
DROP FUNCTION IF EXISTS settlement_settlement_lines_kept();
"""


def guards_install(cur: Any) -> None:
    """(Re)create :data:`GUARDS` when the tables are partitioned (settlement 0006 replaced the
    first version's row trigger on fee lines by the statement triggers)."""
    if p.is_partitioned(cur, SETTLEMENTS):
        cur.execute(GUARDS)


def settlements_partition(cur: Any) -> bool:
    """Rebuild settlements and fee lines as hash-partitioned tables in the caller's transaction
    (``False`` when they already are)."""
    if p.is_partitioned(cur, SETTLEMENTS):
        return False
    p.table_rebuild(
        cur, SETTLEMENTS, partition_by="HASH (institution_id)", key="institution_id",
        fk_map={ORIG_FK: "FOREIGN KEY (orig_id, institution_id) REFERENCES settlement_settlement "
                         "(id, institution_id) DEFERRABLE INITIALLY DEFERRED"},
        make_partitions=lambda c, parent: p.hash_partitions_create(c, SETTLEMENTS, MODULUS, parent=parent),
    )
    p.table_rebuild(
        cur, LINES, partition_by="HASH (settlement_id)", key="settlement_id",
        drop=frozenset(n for n, kind, _ in p.constraints_of(cur, LINES) if kind == "f"),
        make_partitions=lambda c, parent: p.hash_partitions_create(c, LINES, MODULUS, parent=parent),
    )
    cur.execute(GUARDS)
    return True


def settlements_unpartition(cur: Any) -> None:
    """The inverse of :func:`settlements_partition`: plain tables with plain foreign keys."""
    if not p.is_partitioned(cur, SETTLEMENTS):
        return
    cur.execute(UNGUARD)
    p.table_rebuild(
        cur, SETTLEMENTS, partition_by=None, key="institution_id",
        fk_map={ORIG_FK: "FOREIGN KEY (orig_id) REFERENCES settlement_settlement (id) "
                         "DEFERRABLE INITIALLY DEFERRED"},
    )
    p.table_rebuild(cur, LINES, partition_by=None, key="settlement_id")
    cur.execute(
        f"ALTER TABLE {LINES} ADD CONSTRAINT settlement_feedetail_settlement_id_184fed47_fk_settlemen "
        f"FOREIGN KEY (settlement_id) REFERENCES {SETTLEMENTS} (id) DEFERRABLE INITIALLY DEFERRED"
    )
