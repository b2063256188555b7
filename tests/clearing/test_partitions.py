"""Clearing items partitioned by month of ``clr_date`` on PostgreSQL (clearing.partitions,
docs/scaling.md §Declarative partitioning): the close and the proof/receipt lookups read one
partition, the periodic task creates months ahead and keeps the default partition empty."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re

import psycopg
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from clearing import fold_worker
from clearing.models import ClearingItem, Dispute
from clearing.partitions import ITEMS, item_partitions_ahead
from clearing.services.close import cycle_close
from clearing.services.cycles import cycle_ensure, open_cycle_date
from clearing.tasks import periodic_partitions_ahead
from core.partitioning import (
    add_months,
    date_ranges,
    default_rows,
    is_partitioned,
    month_partition_name,
    month_start,
)
from tests.clearing.helpers import load_prefunds, record, record_example_day

pytestmark = [pytest.mark.postgres]
OLD = dt.date(2020, 1, 3)  # no month covers it: the default partition


def _partition_of(day: dt.date) -> str:
    return month_partition_name(ITEMS, month_start(day))


def _scanned(sql: str, params) -> set[str]:  # noqa: ANN001
    """The tables an EXPLAIN of ``sql`` reads (``… on <table>``)."""
    with connection.cursor() as cur:
        cur.execute("EXPLAIN " + sql, params)
        plan = "\n".join(r[0] for r in cur.fetchall())
    return set(re.findall(r" on (\S+)", plan))


@pytest.mark.django_db
def test_items_partitioned_by_month_with_months_ahead_and_a_default():
    today = dt.datetime.now(dt.UTC).date()
    with connection.cursor() as cur:
        assert is_partitioned(cur, ITEMS)
        ranges = date_ranges(cur, ITEMS)
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", [f"{ITEMS}_default"])
        assert cur.fetchone()[0]
        cur.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s",
                    ["clearing_item_setl_day"])
        assert cur.fetchone()[0] == "UNIQUE (setl_id, clr_date)"
    covered = {add_months(month_start(today), k) for k in range(0, 4)}
    assert all(any(lo <= m < hi for lo, hi in ranges) for m in covered)


@pytest.mark.django_db(transaction=True)
def test_close_reads_only_its_days_partition():
    """Other months' partitions (one with rows, and the default one) are locked ACCESS EXCLUSIVE by
    another connection during the close: a close reading or even opening them would wait and hit
    its lock timeout; it closes with the worked example's figures instead."""
    load_prefunds()
    day = open_cycle_date()
    record_example_day()
    later = add_months(month_start(day), 2) + dt.timedelta(days=4)
    record("340000", "310000", "1.00", "H31010400001", cycle=cycle_ensure(later))
    params = connection.get_connection_params()
    keys = ("host", "port", "dbname", "user", "password")
    other = psycopg.connect(**{k: v for k, v in params.items() if k in keys})
    try:
        other.execute(f'LOCK TABLE "{_partition_of(later)}", "{ITEMS}_default" IN ACCESS EXCLUSIVE MODE')
        with connection.cursor() as cur:
            cur.execute("SELECT set_config('lock_timeout', '3s', false)")
        cycle = cycle_close(clr_date=day, actor="test")
    finally:
        other.rollback()
        other.close()
        with connection.cursor() as cur:
            cur.execute("SELECT set_config('lock_timeout', '0', false)")
    head = json.loads(bytes(cycle.head.canonical))
    assert (head["item_cnt"], head["gross"], head["net_funding"]) == (6, "6166.00", "5820.44")


@pytest.mark.django_db
def test_close_scans_prune_to_one_partition():
    """EXPLAIN of the close's aggregate and of a fold worker's leaf query names one partition."""
    day = open_cycle_date()
    record_example_day()
    from clearing.services.figures import item_groups  # noqa: F401 - the query below is its own
    qs = (ClearingItem.objects.filter(clr_date=day, scheme="medical")
          .values_list("payer", "payee", "fixmedins_code").order_by())
    sql, params = qs.query.sql_with_params()
    assert _scanned(sql, params) == {_partition_of(day)}

    class Fake:  # captures the worker's query instead of running it
        seen: list = []

        def cursor(self):  # noqa: ANN201
            return self

        def __enter__(self):  # noqa: ANN204
            return self

        def __exit__(self, *a) -> None:  # noqa: ANN002
            return None

        def execute(self, sql, params, binary=False) -> None:  # noqa: ANN001
            self.seen.append((sql, dict(params)))

        def fetchone(self):  # noqa: ANN201
            return None, None, 0, True

    job = {"table": ITEMS, "clr_date": day.isoformat(), "scheme": "medical", "lo": None, "hi": "Z",
           "chunk": 8192}
    list(fold_worker._chunks(Fake(), job))
    sql, params = Fake.seen[0]
    assert _scanned(sql, params) == {_partition_of(day)}


@pytest.mark.django_db
def test_proof_and_receipt_lookups_read_one_partition(monkeypatch):
    from clearing import selectors

    day = open_cycle_date()
    items = record_example_day()
    sid = items["E1"].setl_id
    qs = ClearingItem.objects.filter(setl_id=sid, clr_date=day)
    assert _scanned(*qs.query.sql_with_params()) == {_partition_of(day)}
    # without the day every month's index is probed
    assert len(_scanned(*ClearingItem.objects.filter(setl_id=sid).query.sql_with_params())) > 2
    cycle_close(clr_date=day, actor="test")
    with CaptureQueriesContext(connection) as ctx:
        proof = selectors.item_inclusion_proof(sid, day)
    first = next(q["sql"] for q in ctx.captured_queries if ITEMS in q["sql"])
    assert f"\"clr_date\" = '{day.isoformat()}'" in first
    assert proof == selectors.item_inclusion_proof(sid)  # same proof as the unpruned lookup
    # a wrong day falls back to the unpruned lookup
    assert selectors.item_inclusion_proof(sid, OLD) == proof


@pytest.mark.django_db(transaction=True)
def test_partitions_ahead_idempotent_and_the_default_kept_empty(caplog):  # noqa: F811
    far = dt.date(2031, 2, 10)
    stray = record("340000", "310000", "2.50", "H31010400001", cycle=cycle_ensure(far))
    with connection.cursor() as cur:
        assert default_rows(cur, ITEMS, "clr_date") == 1
    errors = caplog.at_level(logging.ERROR, logger="clearing.partitions")
    with errors, transaction.atomic(), connection.cursor() as cur:
        created = item_partitions_ahead(cur, dt.date(2030, 12, 20))
        assert created == [f"{ITEMS}_y2030m11", f"{ITEMS}_y2030m12", f"{ITEMS}_y2031m01", f"{ITEMS}_y2031m02",
                           f"{ITEMS}_y2031m03"]
        assert default_rows(cur, ITEMS, "clr_date") == 0
        assert item_partitions_ahead(cur, dt.date(2030, 12, 20)) == []
    assert not [r for r in caplog.records if r.message == "partition_default_rows"]
    moved = ClearingItem.objects.get(setl_id=stray.setl_id)
    assert (moved.pk, bytes(moved.leaf_hash)) == (stray.pk, bytes(stray.leaf_hash))
    assert moved.clr_amt == stray.clr_amt
    with connection.cursor() as cur:
        cur.execute(f"SELECT tableoid::regclass::text FROM {ITEMS} WHERE id = %s", [stray.pk])
        assert cur.fetchone()[0] == f"{ITEMS}_y2031m02"
    # a day no month covers is alerted
    record("340000", "310000", "1.00", "H31010400001", cycle=cycle_ensure(OLD))
    with caplog.at_level(logging.ERROR, logger="clearing.partitions"):
        assert periodic_partitions_ahead() == []
    assert [r.rows for r in caplog.records if r.message == "partition_default_rows"] == [1]


@pytest.mark.django_db
def test_dispute_references_its_item_with_the_items_day():
    """The composite foreign key (item_id, item_clr_date): the day is filled by the trigger, and
    the item cannot be deleted while a dispute references it."""
    item = record("340000", "310000", "9.00", "H31010400001", cycle=cycle_ensure(OLD))
    from django.utils import timezone

    Dispute.objects.create(setl_id=item.setl_id, item=item, payer="340000", payee="310000",
                           fixmedins_code="H31010400001", reason_code="other", amount="9.00",
                           opened_by="t", opened_at=timezone.now())
    with connection.cursor() as cur:
        cur.execute("SELECT item_clr_date FROM clearing_dispute WHERE item_id = %s", [item.pk])
        assert cur.fetchone()[0] == OLD
        from django.db import IntegrityError

        with pytest.raises(IntegrityError, match="clearing_dispute_item_fk"), transaction.atomic():
            cur.execute(f"DELETE FROM {ITEMS} WHERE id = %s", [item.pk])
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
