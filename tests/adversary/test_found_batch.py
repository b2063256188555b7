"""Adversary (engineer H): one bad batch item must not fail the others
(spec/hospital-api.md §batch: "one bad or contended item never blocks or fails the others")."""
from __future__ import annotations

import pytest

from tests.adversary.helpers import bill, line

pytestmark = pytest.mark.django_db


@pytest.mark.postgres
@pytest.mark.parametrize("bad", ["nul", "overflow"])
def test_batch_with_one_bad_item_settles_the_good_one(examples, institution_client, bad):
    from settlement.models import Settlement

    good = bill(serial="ADV-BATCH-GOOD")
    if bad == "nul":
        other = bill(serial="ADV-BATCH-BAD", dise_codg="K\x0035")
    else:
        big = "99999990000000.00"  # 100000000000 × 999.9999, a valid 14-digit line; two overflow the total
        other = bill(serial="ADV-BATCH-BAD", lines=[
            line(sn=str(i), code="C0301020300000100001", cnt="100000000000", pric="999.9999", amount=big)
            for i in (1, 2)])
    r = institution_client("H31010400001").post("/api/v1/settlements/batch", {"items": [good, other]})
    assert r.status_code == 200, (r.status_code, r.content[:200])
    results = r.json()["results"]
    assert results[0]["status"] == 201
    assert results[1]["status"] in (400, 422)
    assert list(Settlement.objects.values_list("medins_setl_id", flat=True)) == ["ADV-BATCH-GOOD"]
