"""Statements per gateway call along G1 and G2 (spec/nhsa-gateway.md §6; issue 12's speed: every
statement is a round trip on the call's critical path). Budgets, not exact counts: a change that
adds statements to a call must raise its budget here and say why. The bulk writes of
:mod:`core.bulk` (their own binary cursor) are counted too.

Issue 12's cuts: the settlement service takes the person the gateway already found and checked
(no second credential lookup, no second deny-list read), and 2206/2207/2303/2304 answer
``crt_payb_lmt_amt`` from the split's own standing (no second stamp and accumulator read)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

import core.bulk
from clearing.services import cycles
from tests.gateway.test_worked_examples import G1, G2, send

# G1.1 9001 sign-in … G1.6 2303 preview, G1.7 2304 settle, G2.1 2601 correction (before the cuts:
# G1.6 20, G1.7 30 plus its bulk writes)
BUDGET = {"G1.1": 9, "G1.2": 14, "G1.3": 10, "G1.4": 13, "G1.5": 12, "G1.6": 17, "G1.7": 33,
          "G1.8": 8, "G2.1": 32, "G2.2": 8, "G2.3": 8}


@pytest.mark.postgres  # the production set-up: PostgreSQL, and Redis for nonces and throttles
@pytest.mark.skipif(not settings.REDIS_URL, reason="without REDIS_URL nonces and throttles are database rows")
@pytest.mark.django_db
def test_statements_per_call_within_budget(gw, monkeypatch):  # noqa: ANN001
    bulk: list[str] = []
    real = core.bulk._execute

    def counted(sql, params, *, fetch):  # noqa: ANN001, ANN202
        bulk.append(sql)
        return real(sql, params, fetch=fetch)

    monkeypatch.setattr(core.bulk, "_execute", counted)
    # the open cycle's date as a fresh process finds it (a date another test left behind would
    # cost its check and a second look; the budget is for the first settlement of a process)
    monkeypatch.setattr(cycles, "_open_dates", {})
    counts = {}
    for step in G1 + G2:
        bulk.clear()
        with CaptureQueriesContext(connection) as ctx:
            r, want = send(gw, step)
        assert r.content.decode() == want.decode(), step
        counts[step] = len(ctx.captured_queries) + len(bulk)
    assert {s: n for s, n in counts.items() if n > BUDGET[s]} == {}, counts
