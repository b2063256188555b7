"""core.partitioning's pure parts, and the embedded default: on SQLite the partitioning
migrations are no-ops that keep plain tables (clearing 0009, settlement 0005)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from core.partitioning import add_months, month_partition_name, month_start, with_key, without_key


def test_months():
    assert month_start(dt.date(2026, 12, 31)) == dt.date(2026, 12, 1)
    assert add_months(dt.date(2026, 12, 1), 1) == dt.date(2027, 1, 1)
    assert add_months(dt.date(2026, 1, 1), -1) == dt.date(2025, 12, 1)
    assert add_months(dt.date(2026, 11, 1), 14) == dt.date(2028, 1, 1)
    assert month_partition_name("t", dt.date(2027, 3, 1)) == "t_y2027m03"


def test_partition_key_in_unique_definitions():
    assert with_key("PRIMARY KEY (id)", "clr_date") == "PRIMARY KEY (id, clr_date)"
    assert with_key("UNIQUE (institution_id, medins_setl_id)", "institution_id") == (
        "UNIQUE (institution_id, medins_setl_id)"
    )
    idx = "CREATE UNIQUE INDEX one ON public.s USING btree (orig_id) WHERE (orig_id IS NOT NULL)"
    assert with_key(idx, "institution_id") == (
        "CREATE UNIQUE INDEX one ON public.s USING btree (orig_id, institution_id) "
        "WHERE (orig_id IS NOT NULL)"
    )
    assert without_key(with_key(idx, "institution_id"), "institution_id") == idx
    assert without_key("UNIQUE (institution_id, medins_setl_id)", "institution_id") == (
        "UNIQUE (institution_id, medins_setl_id)"
    )


@pytest.mark.django_db
def test_sqlite_keeps_plain_tables():
    if connection.vendor != "sqlite":
        pytest.skip("the embedded default (SQLite) only")
    with connection.cursor() as cur:
        cur.execute(
            "SELECT name, type FROM sqlite_master WHERE name IN ('clearing_clearingitem', "
            "'settlement_settlement', 'settlement_feedetail', 'clearing_item_setl_day') ORDER BY name"
        )
        rows = cur.fetchall()
        cur.execute("PRAGMA table_info(clearing_dispute)")
        columns = {r[1] for r in cur.fetchall()}
    assert rows == [
        ("clearing_clearingitem", "table"),
        ("clearing_item_setl_day", "index"),
        ("settlement_feedetail", "table"),
        ("settlement_settlement", "table"),
    ]
    assert "item_clr_date" not in columns


def test_partitions_ahead_runs_hourly_on_the_periodic_queue():
    from config.celery import app

    entry = app.conf.beat_schedule["partitions-ahead"]
    assert entry["task"] == "clearing.tasks.periodic_partitions_ahead"
    assert app.amqp.router.route({}, entry["task"])["queue"].name == "periodic"
    assert str(entry["schedule"]) == "<crontab: 7 * * * * (m/h/dM/MY/d)>"


@pytest.mark.django_db
def test_partitions_ahead_is_a_no_op_on_sqlite():
    if connection.vendor != "sqlite":
        pytest.skip("the embedded default (SQLite) only")
    from clearing.tasks import periodic_partitions_ahead

    assert periodic_partitions_ahead() == []
