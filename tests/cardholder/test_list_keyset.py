"""Issue 10 item 7: ``GET /api/v1/me/settlements?page_size=7``, pages 1–3, then 10 new settlements for
that person, then on to the end by ``next``: before, the last rows of page 3 came back (page numbers
shift on a newest-first list); with keyset links every row comes exactly once."""
from __future__ import annotations

import pytest

from tests.cardholder.conftest import E1
from tests.reliability.bills import bill

pytestmark = pytest.mark.django_db


def _settle(hospital, n: int) -> list[str]:  # noqa: ANN001
    resp = hospital.post("/api/v1/settlements/batch", {"items": [bill(E1["certno"]) for _ in range(n)]})
    assert resp.status_code == 200, resp.content[:300]
    results = resp.json()["results"]
    assert [r["status"] for r in results] == [201] * n
    return [r["setlinfo"]["setl_id"] for r in results]


def test_me_settlements_pages_do_not_shift_when_settlements_are_added(cardholder, institution_client):
    hospital = institution_client("H31010400001")
    before = _settle(hospital, 30)
    me = cardholder(E1)
    listed, url = [], "/api/v1/me/settlements?page_size=7"
    for _ in range(3):
        page = me.get(url).json()
        listed += [r["setl_id"] for r in page["results"]]
        url = page["next"]
    added = _settle(hospital, 10)
    while url:
        page = me.get(url).json()
        listed += [r["setl_id"] for r in page["results"]]
        url = page["next"]
    assert len(listed) == len(set(listed)) == 30  # nothing repeated, nothing missing
    assert set(listed) == set(before) and not set(listed) & set(added)
    assert page["count"] == 40
    fresh = me.get("/api/v1/me/settlements?page_size=7").json()  # a new walk starts with the new rows
    assert {r["setl_id"] for r in fresh["results"]} <= set(added)
