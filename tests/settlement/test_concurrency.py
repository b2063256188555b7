"""Concurrency with real PostgreSQL connections in threads (spec/hospital-api.md §Idempotency,
spec/policy.md: two settlements of one person at once equal some serial order)."""

from __future__ import annotations

import threading
from decimal import Decimal as D

import pytest
from django.db import connection

from accounts.models import Person
from clearing.models import ClearingItem
from settlement.models import Accumulator, Settlement
from tests.settlement.conftest import CERT, bill
from tests.signing import SignedClient

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def run_at_once(client: SignedClient, path: str, bodies: list[dict]) -> list:
    barrier = threading.Barrier(len(bodies))
    results: list = [None] * len(bodies)

    def worker(i: int) -> None:
        try:
            own = SignedClient(client.client_id, client.secret)
            barrier.wait()
            results[i] = own.post(path, bodies[i])
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_sixteen_identical_at_once(world):
    body = bill(CERT["丁"], "310", "24", [("001201000010000", "1", "3000.00", "3000.00")], "1")
    results = run_at_once(world["H31010400001"], "/api/v1/settlements", [body] * 16)
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200] * 15 + [201]
    assert len({r.content for r in results}) == 1
    assert Settlement.objects.count() == 1 and ClearingItem.objects.count() == 1
    assert Person.objects.get(psn_no="33010000000000000004").acct_balance == D("400.00")


def test_two_bills_near_cap_equal_a_serial_order(world):
    bodies = [
        bill(CERT["丙"], "390", "21", [("001201000010000", "1", "5000.00", "5000.00")], "1") for _ in range(2)
    ]
    results = run_at_once(world["H32010200001"], "/api/v1/settlements", bodies)
    assert [r.status_code for r in results] == [201, 201]
    paid = sorted(r.json()["setlinfo"]["hifp_pay"] for r in results)
    assert paid == ["0.00", "500.00"]
    acc = Accumulator.objects.get(
        person__psn_no="34010000000000000003",
        med_type_group="inpatient",
        year=Settlement.objects.first().accum_year,
    )
    assert acc.fund_paid == D("150000.00")


def test_two_bills_share_the_balance(world):
    bodies = [bill(CERT["戊"], "310", "41", [("XB02BBB002", "1", "200.00", "200.00")], "1") for _ in range(2)]
    results = run_at_once(world["P34010400001"], "/api/v1/settlements", bodies)
    assert [r.status_code for r in results] == [201, 201]
    pays = sorted((r.json()["setlinfo"]["acct_pay"], r.json()["setlinfo"]["balc"]) for r in results)
    assert pays == [("100.00", "0.00"), ("200.00", "100.00")]
    assert Person.objects.get(psn_no="31000000000000000005").acct_balance == D("0.00")


def test_batches_crossing_persons_do_not_deadlock(world):
    line = [("001201000010000", "1", "100.00", "100.00")]
    a = {"items": [bill(CERT["丁"], "310", "24", line, "1"), bill(CERT["甲"], "310", "21", line, "1")]}
    b = {"items": [bill(CERT["甲"], "310", "21", line, "1"), bill(CERT["丁"], "310", "24", line, "1")]}
    results = run_at_once(world["H31010400001"], "/api/v1/settlements/batch", [a, b])
    assert [r.status_code for r in results] == [200, 200]
    assert [x["status"] for r in results for x in r.json()["results"]] == [201] * 4
    assert Settlement.objects.count() == 4


def test_same_serial_different_people_at_once(world):
    """Both pass the serial check before either commits; the unique constraint decides (IntegrityError
    caught in a savepoint → 409 naming the winner), never 500."""
    line = [("001201000010000", "1", "100.00", "100.00")]
    bodies = [
        bill(CERT["丁"], "310", "24", line, "1", serial="SAME-1"),
        bill(CERT["甲"], "310", "21", line, "1", serial="SAME-1"),
    ]
    results = run_at_once(world["H31010400001"], "/api/v1/settlements", bodies)
    assert sorted(r.status_code for r in results) == [201, 409]
    winner = next(r for r in results if r.status_code == 201).json()["setlinfo"]["setl_id"]
    loser = next(r for r in results if r.status_code == 409).json()
    assert (loser["code"], loser["setl_id"]) == ("medins_setl_id_conflict", winner)
    assert Settlement.objects.count() == 1


def test_two_reversals_one_serial_at_once(world):
    line = [("001201000010000", "1", "100.00", "100.00")]
    h = world["H31010400001"]
    a = h.post("/api/v1/settlements", bill(CERT["丁"], "310", "24", line, "1")).json()["setlinfo"]["setl_id"]
    b = h.post("/api/v1/settlements", bill(CERT["甲"], "310", "21", line, "1")).json()["setlinfo"]["setl_id"]
    barrier = threading.Barrier(2)
    results: dict = {}

    def worker(sid: str) -> None:
        try:
            own = SignedClient(h.client_id, h.secret)
            barrier.wait()
            results[sid] = own.post(f"/api/v1/settlements/{sid}/reversal", {"medins_setl_id": "REV-SAME"})
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(sid,)) for sid in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(r.status_code for r in results.values()) == [201, 409]
    assert Settlement.objects.filter(status="reversal").count() == 1
    assert Settlement.objects.filter(status="reversed").count() == 1
