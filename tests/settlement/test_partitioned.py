"""Settlements and fee lines hash-partitioned on PostgreSQL (settlement.partitions,
docs/scaling.md §Declarative partitioning): exactly-once under concurrent duplicates still holds,
and the database keeps guarding what the plain tables' foreign keys guarded."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from clearing.models import ClearingItem
from core.partitioning import is_partitioned, partitions
from settlement.models import FeeDetail, Settlement
from tests.settlement.conftest import CERT, bill
from tests.settlement.test_concurrency import run_at_once

pytestmark = [pytest.mark.postgres]

LINES = [("001201000010000", "1", "100.00", "100.00"), ("XA01AAA001", "2", "12.50", "25.00")]


def _immediate() -> None:
    with connection.cursor() as cur:
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.mark.django_db
def test_settlements_and_fee_lines_are_hash_partitioned():
    with connection.cursor() as cur:
        assert is_partitioned(cur, "settlement_settlement") and is_partitioned(cur, "settlement_feedetail")
        parts = partitions(cur, "settlement_settlement")
        cur.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s",
            ["settlement_medins_setl_id_unique"],
        )
        idempotency = cur.fetchone()[0]
    assert len(parts) == 16
    assert parts[0] == ("settlement_settlement_h00", "FOR VALUES WITH (modulus 16, remainder 0)")
    # the idempotency key is one constraint over every partition: the partition key is in it
    assert idempotency == "UNIQUE (institution_id, medins_setl_id)"


@pytest.mark.django_db(transaction=True)
def test_identical_batches_at_once_settle_each_bill_once(world):
    """Eight identical batches of three bills of one institution at once: each bill settles once
    (one settlement, its fee lines, one clearing item), and every answer names the same ids."""
    body = {"items": [bill(CERT["丁"], "310", "24", LINES, "1"), bill(CERT["甲"], "310", "21", LINES, "1"),
                      bill(CERT["丁"], "310", "24", LINES[:1], "1")]}
    results = run_at_once(world["H31010400001"], "/api/v1/settlements/batch", [body] * 8)
    assert [r.status_code for r in results] == [200] * 8
    problems = [x["problem"] for r in results for x in r.json()["results"] if "problem" in x]
    assert problems == []
    ids = {tuple(x["setlinfo"]["setl_id"] for x in r.json()["results"]) for r in results}
    assert len(ids) == 1
    assert sorted(x["status"] for r in results for x in r.json()["results"]) == [200] * 21 + [201] * 3
    assert Settlement.objects.count() == 3 and ClearingItem.objects.count() == 3
    assert FeeDetail.objects.count() == 5
    with connection.cursor() as cur:
        cur.execute("SELECT DISTINCT tableoid::regclass::text FROM settlement_settlement")
        assert [r[0] for r in cur.fetchall()] != ["settlement_settlement"]  # rows live in partitions


@pytest.mark.django_db
def test_fee_line_of_no_settlement_is_refused(world):
    world["H31010400001"].post("/api/v1/settlements", bill(CERT["丁"], "310", "24", LINES, "1"))
    _immediate()  # the settlement's own deferred checks now, and every check below at once
    line = FeeDetail.objects.first()
    with pytest.raises(IntegrityError, match="references no settlement"), transaction.atomic():
        FeeDetail.objects.filter(pk=line.pk).update(settlement_id=10**12)
    with pytest.raises(IntegrityError, match="still has fee lines"), transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("DELETE FROM settlement_settlement WHERE id = %s", [line.settlement_id])
    assert FeeDetail.objects.filter(settlement_id=line.settlement_id).count() == 2


@pytest.mark.django_db
def test_reversal_stays_one_per_settlement_of_its_own_institution(world):
    h = world["H31010400001"]
    r = h.post("/api/v1/settlements", bill(CERT["丁"], "310", "24", LINES, "1"))
    sid = r.json()["setlinfo"]["setl_id"]
    assert h.post(f"/api/v1/settlements/{sid}/reversal", {"medins_setl_id": "REV-1"}).status_code == 201
    rev = Settlement.objects.get(status="reversal")
    from accounts.models import Institution

    second = Settlement.objects.get(pk=rev.pk)
    second.pk, second.setl_id, second.medins_setl_id = None, "R-SECOND", "REV-2"
    _immediate()
    duplicate = r"\(orig_id, institution_id\)=.* already exists"
    with pytest.raises(IntegrityError, match=duplicate), transaction.atomic():
        second.save(force_insert=True)
    elsewhere = Institution.objects.exclude(pk=rev.institution_id).first()
    second.pk, second.institution = None, elsewhere
    with pytest.raises(IntegrityError, match="settlemen_orig_id_de00d481_fk"), transaction.atomic():
        second.save(force_insert=True)  # the original is another institution's
