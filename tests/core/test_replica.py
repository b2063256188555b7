"""Read replica routing (issue 15 item 1, core.replica). The ``replica`` alias here is a second
connection to the test database; a lagging replica is one that answers from a snapshot taken
before the close (a transaction opened on it first, ``REPEATABLE READ``). The real streaming
replica is exercised by tests/reliability/test_replica_pgbouncer.py."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.db import connections
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from clearing.models import Cycle
from clearing.services.close import cycle_close
from clearing.services.cycles import open_cycle_date
from core import replica
from tests.clearing.helpers import load_prefunds, record_example_day, staff_client

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@contextlib.contextmanager
def _replica(**overrides: Any) -> Iterator[Any]:
    """A ``replica`` connection of this thread, created from the test database's settings and
    then removed from ``DATABASES`` (so Django's test isolation treats it as a dynamic connection,
    which it allows); :func:`core.replica.configured` is made to answer yes."""
    connections.databases[replica.REPLICA] = {**connections.databases["default"], **overrides}
    conn = connections[replica.REPLICA]
    del connections.databases[replica.REPLICA]
    replica._down_until = 0.0
    try:
        with mock.patch.object(replica, "configured", lambda: True):
            yield conn
    finally:
        conn.close()
        with contextlib.suppress(AttributeError):
            delattr(connections._connections, replica.REPLICA)
        replica._down_until = 0.0


@pytest.fixture
def replica_alias(db):  # noqa: ANN001 - after the database is set up
    with _replica() as conn:
        yield conn


def _close_day():  # noqa: ANN202
    load_prefunds()
    day = open_cycle_date()
    record_example_day()
    cycle_close(clr_date=day, actor="test")
    return day


def _read_db() -> str:
    return Cycle.objects.all().db


def test_without_a_replica_everything_is_read_from_the_primary():
    assert not replica.configured()
    calls = []
    assert replica.run_on_replica(lambda: calls.append(_read_db()) or "ok") == "ok"
    assert calls == ["default"]


def test_reads_in_scope_go_to_the_replica_and_a_write_pins_the_rest_to_the_primary(replica_alias):
    def view():  # noqa: ANN202
        before = _read_db()
        Cycle.objects.create(clr_date="2020-01-01")
        return before, _read_db()

    assert _read_db() == "default"
    assert replica.run_on_replica(view) == ("replica", "default")
    assert replica.run_on_replica(_read_db) == "replica"


def test_a_lagging_replica_is_asked_again_on_the_primary(replica_alias):
    """The replica has not seen the close (409 cycle_not_closed there): the statement comes from
    the primary, after the replica was asked; the items of the closed day likewise."""
    from django.db import transaction

    with transaction.atomic(using=replica.REPLICA):  # the replica's snapshot: before the close
        replica_alias.cursor().execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        replica_alias.cursor().execute("SELECT count(*) FROM clearing_cycle")
        closed_day = _close_day()
        bureau = staff_client("bureau", "320000")
        with CaptureQueriesContext(replica_alias) as on_replica:
            resp = bureau.get(f"/api/v1/cycles/{closed_day}/statement")
        items = bureau.get(f"/api/v1/cycles/{closed_day}/items")
    assert resp.status_code == 200 and resp.json()["statement"]["net"] == "398.22"
    assert any("clearing_cycle" in q["sql"] for q in on_replica.captured_queries)
    assert items.status_code == 200 and len(items.json()["results"]) == 4


def test_a_dead_replica_falls_back_and_is_left_alone_for_a_while():
    closed_day = _close_day()
    with _replica(HOST="127.0.0.1", PORT="1", OPTIONS={"connect_timeout": 1}):
        bureau = staff_client("bureau", "320000")
        resp = bureau.get(f"/api/v1/cycles/{closed_day}/statement")
        assert resp.status_code == 200 and resp.json()["statement"]["net"] == "398.22"
        assert not replica.replica_usable() and replica.run_on_replica(_read_db) == "default"


def test_a_caller_that_just_wrote_reads_from_the_primary(replica_alias):
    rf = RequestFactory()
    mine = rf.get("/", HTTP_AUTHORIZATION="Bearer mine")
    theirs = rf.get("/", HTTP_AUTHORIZATION="Bearer theirs")
    post = rf.post("/", HTTP_AUTHORIZATION="Bearer mine")
    assert replica.run_on_replica(_read_db, mine) == "replica"
    middleware = replica.ReadYourWritesMiddleware(lambda request: HttpResponse(status=201))
    middleware(post)
    assert replica.run_on_replica(_read_db, mine) == "default"
    assert replica.run_on_replica(_read_db, theirs) == "replica"
