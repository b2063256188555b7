"""A batch gives what its items give one by one (spec/hospital-api.md §POST /settlements/batch): the
batch reads serials, accumulators, filings, catalogue and policies once, and must carry balances,
accumulators, a temporary filing recorded by an earlier item and serials used by earlier items."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

from accounts.models import Filing, Person
from settlement.models import Settlement
from tests.settlement.conftest import CERT, bill
from tests.settlement.test_idempotency_and_reversal import E4, standing

pytestmark = pytest.mark.django_db
VOLATILE = ("setl_id", "mdtrt_id", "setl_time")


def _items() -> list[dict]:
    first = bill(CERT["丁"], "310", "24", E4, "1", serial="BS-1")
    second = bill(CERT["丁"], "310", "24", [("001201000010000", "1", "900.00", "900.00")], "1", serial="BS-2")
    third = bill(CERT["丁"], "310", "24", [("001201000010000", "2", "150.00", "300.00")], "1", serial="BS-3")
    clash = bill(CERT["丁"], "310", "24", [("001201000010000", "1", "1.00", "1.00")], "1", serial="BS-2")
    no_filing = bill(CERT["己"], "310", "11", [("XA01AAA001", "1", "20.00", "20.00")], serial="BS-4")
    return [first, second, dict(first), clash, third, no_filing]


def _outcome(status: int, body: dict) -> tuple:
    if "setlinfo" in body:
        return status, {k: v for k, v in body["setlinfo"].items() if k not in VOLATILE}
    problem = body.get("problem", body)
    return status, problem["code"]


def _state() -> tuple:
    temp = sorted(Filing.objects.filter(created_by_settlement=True).values_list("filing_type", "begndate"))
    return standing("33010000000000000004"), temp, Settlement.objects.count()


def test_batch_equals_the_same_items_one_by_one(world):
    client = world["H31010400001"]
    with transaction.atomic():
        r = client.post("/api/v1/settlements/batch", {"items": _items()})
        assert r.status_code == 200, r.content
        batch = [_outcome(x["status"], x) for x in r.json()["results"]]
        batch_state = _state()
        transaction.set_rollback(True)
    assert Settlement.objects.count() == 0
    singles = []
    for item in _items():
        resp = client.post("/api/v1/settlements", item)
        singles.append(_outcome(resp.status_code, resp.json()))
    assert [s for s, _ in batch] == [201, 201, 200, 409, 201, 422]
    assert batch == singles
    assert batch_state == _state()
    infos = [x for s, x in batch if s in (200, 201)]
    assert [i["filing"]["created_now"] for i in infos] == [True, False, True, False]
    assert batch[5][1] == "no_filing" and batch[3][1] == "medins_setl_id_conflict"
    assert Person.objects.get(psn_no="33010000000000000004").acct_balance == Decimal(infos[-1]["balc"])
