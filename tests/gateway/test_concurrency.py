"""Identical and competing 2304s at once, with real PostgreSQL connections in threads
(spec/nhsa-gateway.md §3.2 "never two effects", §4.3)."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from tests.gateway.conftest import PAASID, SECRET, Gateway, stamp, tif_headers, worked_examples
from tests.gateway.test_worked_examples import send

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]
STEPS = worked_examples()


def at_once(clock, bodies: list[bytes]) -> list:  # noqa: ANN001
    barrier = threading.Barrier(len(bodies))
    results: list = [None] * len(bodies)
    ts = STEPS["G1.7"]["timestamp"]

    def worker(i: int) -> None:
        try:
            gw = Gateway(Client(), clock)
            headers = tif_headers(PAASID, SECRET, ts)
            barrier.wait()
            results[i] = gw.post(bodies[i], headers=headers)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def _ready(gw) -> None:  # noqa: ANN001
    for step in ("G1.1", "G1.2", "G1.3", "G1.4", "G1.5", "G1.6"):
        send(gw, step)
    env = json.loads(STEPS["G1.7"]["response"])
    gw.clock.set(stamp(env["refmsg_time"]), stamp(env["respond_time"]))
    gw.clock.hex.append("5e8b90")


def test_eight_identical_2304_settle_once_and_answer_the_same_bytes(gw):  # noqa: ANN001
    from clearing.models import ClearingItem
    from settlement.models import Settlement

    _ready(gw)
    results = at_once(gw.clock, [STEPS["G1.7"]["request"].encode()] * 8)
    assert [r.status_code for r in results] == [200] * 8
    assert {r.content.decode() for r in results} == {STEPS["G1.7"]["response"]}
    assert Settlement.objects.count() == 1 and ClearingItem.objects.count() == 1


def test_two_msgids_for_one_visit_at_once_one_settles(gw):  # noqa: ANN001
    from settlement.models import Settlement

    _ready(gw)
    body = json.loads(STEPS["G1.7"]["request"])
    other = {**body, "msgid": "H31010400001202611271000030002"}
    results = at_once(gw.clock, [json.dumps(b, ensure_ascii=False).encode() for b in (body, other)])
    errs = sorted(json.loads(r.content)["err_msg"] for r in results)
    assert errs == ["", "[already_settled] 该就诊已结算，结算ID：20261127020003512000S5e8b90"]
    assert Settlement.objects.count() == 1
