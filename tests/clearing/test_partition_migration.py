"""The migration path of an existing database (clearing 0009, settlement 0005; docs/scaling.md
§Declarative partitioning): a database with plain tables and a worked day in them (settlements,
fee lines, a reversal, a dispute, a closed cycle) is migrated; the same rows, figures and signed
bytes are there after, the items' old table is a partition attached without a copy, and
settling, closing and proving go on."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from clearing.models import BilateralPosition, ClearingItem, CycleHead, NetPosition, Statement
from clearing.partitions import ITEMS
from clearing.selectors import item_inclusion_proof
from clearing.services.close import cycle_close
from clearing.services.cycles import open_cycle_date
from core.partitioning import is_partitioned, partitions
from settlement.models import FeeDetail, Settlement
from tests.clearing.helpers import staff_client
from tests.clearing.test_example_settlements import settle_day
from tests.settlement.conftest import CERT, bill, world  # noqa: F401 - the fixture

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
BEFORE = [("clearing", "0008_verbose_names"), ("settlement", "0004_settlement_reversal_kind")]
TABLES = {
    ITEMS: ClearingItem,
    "settlement_settlement": Settlement,
    "settlement_feedetail": FeeDetail,
}


def _migrate(targets: list[tuple[str, str]] | None) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    connection.close()  # no cached plans or types of the tables just replaced


def _snapshot() -> dict:
    """Every column Django knows of the three tables, row by row, and what the close signed."""
    out: dict = {}
    with connection.cursor() as cur:
        for table, model in {**TABLES, "clearing_dispute": None, "clearing_itemreversal": None}.items():
            cols = (
                [f.column for f in model._meta.concrete_fields]
                if model
                else ["id", "item_id", "setl_id" if table == "clearing_dispute" else "reversal_setl_id"]
            )
            cur.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY id")  # noqa: S608
            rows = cur.fetchall()
            out[table] = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in rows]
    out["heads"] = [(bytes(h.canonical), bytes(h.signature), bytes(h.block_hashes or b""))
                    for h in CycleHead.objects.order_by("id")]
    out["statements"] = [(bytes(s.canonical), bytes(s.signature)) for s in Statement.objects.order_by("id")]
    out["figures"] = (
        sorted(NetPosition.objects.values_list("cycle_id", "admdvs", "receivable", "payable", "net")),
        sorted(BilateralPosition.objects.values_list("cycle_id", "payer", "payee", "cnt", "amount")),
    )
    return out


def test_existing_database_keeps_rows_figures_and_signed_bytes(world):  # noqa: F811
    _migrate(BEFORE)
    with connection.cursor() as cur:
        assert not is_partitioned(cur, ITEMS) and not is_partitioned(cur, "settlement_settlement")
    day = open_cycle_date()
    ids = settle_day(world)
    cycle_close(clr_date=day, actor="test")
    h31 = world["H31010400001"]
    reversal = h31.post(f"/api/v1/settlements/{ids['E4']}/reversal", {"medins_setl_id": "REV-E4"})
    assert reversal.status_code == 201
    assert staff_client("bureau", "340000").post(
        "/api/v1/disputes", {"setl_id": ids["E1"], "reason_code": "other"}).status_code == 201
    proof = item_inclusion_proof(ids["E1"])
    before = _snapshot()
    assert len(before[ITEMS]) == 8 and len(before["clearing_dispute"]) == 1
    assert len(before["clearing_itemreversal"]) == 1

    _migrate(None)

    with connection.cursor() as cur:
        assert is_partitioned(cur, ITEMS) and is_partitioned(cur, "settlement_settlement")
        assert is_partitioned(cur, "settlement_feedetail")
        names = dict(partitions(cur, ITEMS))
        legacy = [n for n in names if "_to_" in n]
        cur.execute(f"SELECT DISTINCT tableoid::regclass::text FROM {ITEMS}")
        holding = [r[0] for r in cur.fetchall()]
    assert len(legacy) == 1 and holding == legacy  # the old table itself, attached, not copied
    assert names[legacy[0]].startswith(f"FOR VALUES FROM ('{day.replace(day=1).isoformat()}')")
    assert _snapshot() == before
    assert item_inclusion_proof(ids["E1"], day) == proof
    # the day closes again to the same bytes; settling goes on with fresh ids
    assert bytes(cycle_close(clr_date=day, actor="test").head.canonical) == before["heads"][0][0]
    line = [("001201000010000", "1", "10.00", "10.00")]
    r = h31.post("/api/v1/settlements", bill(CERT["丁"], "310", "24", line, "1"))
    assert r.status_code == 201, r.content
    new = Settlement.objects.get(setl_id=r.json()["setlinfo"]["setl_id"])
    assert new.pk > max(row[0] for row in before["settlement_settlement"])
    item = ClearingItem.objects.get(setl_id=new.setl_id)
    assert item.pk > max(row[0] for row in before[ITEMS])
