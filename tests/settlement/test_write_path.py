"""The set-based write path keeps its guarantees on its slower branches (spec/hospital-api.md
§Idempotency, §POST /settlements/batch): a batch settled one by one after its multi-row write
failed moves every balance it reports, and a twin that committed a serial between the batch's read
and its write is replayed, never recorded twice."""

from __future__ import annotations

import pytest
from django.db import DataError, transaction

from settlement.models import Settlement
from settlement.services import batch as batch_module
from tests.settlement.conftest import CERT, bill
from tests.settlement.test_idempotency_and_reversal import E4, standing

pytestmark = pytest.mark.django_db
PSN = "33010000000000000004"  # 丁, employee (310) with a personal account


def _items() -> list[dict]:
    return [
        bill(CERT["丁"], "310", "24", E4, "1", serial="WP-1"),
        bill(CERT["丁"], "310", "24", [("001201000010000", "1", "900.00", "900.00")], "1", serial="WP-2"),
        bill(CERT["丁"], "310", "24", [("001201000010000", "2", "150.00", "300.00")], "1", serial="WP-3"),
    ]


def _post(client) -> list[tuple[int, str, str]]:
    r = client.post("/api/v1/settlements/batch", {"items": _items()})
    assert r.status_code == 200, r.content
    return [(x["status"], x["setlinfo"]["acct_pay"], x["setlinfo"]["balc"]) for x in r.json()["results"]]


def test_one_by_one_after_a_failed_batch_write_moves_each_balance(world, monkeypatch):
    client = world["H31010400001"]
    before = standing(PSN)
    with transaction.atomic():
        expected, expected_state = _post(client), standing(PSN)
        transaction.set_rollback(True)
    assert standing(PSN) == before
    real, calls = batch_module.drafts_write, []

    def failing_once(drafts, **kw):
        calls.append(len(drafts))
        if len(calls) == 1:  # the batch's multi-row write: as if a value could not be stored
            raise DataError("value out of range")
        return real(drafts, **kw)

    monkeypatch.setattr(batch_module, "drafts_write", failing_once)
    got = _post(client)
    assert calls == [3, 1, 1, 1]  # the batch, then each item in its own savepoint
    assert [s for s, _, _ in got] == [201, 201, 201]
    assert any(acct != "0.00" for _, acct, _ in got)
    assert got == expected
    assert standing(PSN) == expected_state  # the balance moved by every item's acct_pay


def test_a_twin_recorded_after_the_read_is_replayed_not_doubled(world, monkeypatch):
    client = world["H31010400001"]
    item = _items()[0]
    first = client.post("/api/v1/settlements", item)
    assert first.status_code == 201, first.content
    state = standing(PSN)
    # the batch read its serials before the twin committed: it does not know WP-1 yet
    monkeypatch.setattr(batch_module, "settlements_by_serials", lambda institution, serials: {})
    r = client.post("/api/v1/settlements/batch", {"items": [item]})
    assert r.status_code == 200, r.content
    (result,) = r.json()["results"]
    assert result["status"] == 200
    assert result["setlinfo"]["setl_id"] == first.json()["setlinfo"]["setl_id"]
    assert Settlement.objects.filter(medins_setl_id="WP-1").count() == 1
    assert standing(PSN) == state
    single = client.post("/api/v1/settlements", dict(item, insutype="310", dise_codg="X"))
    assert single.status_code == 409 and single.json()["code"] == "medins_setl_id_conflict"
