"""Adversary (engineer H): bill totals beyond the 14-digit money format
(spec/README.md §Units: money matches ^-?\\d{1,14}\\.\\d{2}$; errors are 400/422, never 500)."""
from __future__ import annotations

import re

import pytest

from tests.adversary.helpers import bill, line

pytestmark = pytest.mark.django_db
MONEY = re.compile(r"^-?\d{1,14}\.\d{2}$")
BIG = "99999990000000.00"  # round(100000000000 × 999.9999): a valid line amount


def _two_big_lines() -> dict:
    return bill(lines=[line(sn=str(i), code="C0301020300000100001", cnt="100000000000", pric="999.9999",
                            amount=BIG) for i in (1, 2)])


@pytest.mark.postgres
def test_settle_total_over_14_digits_is_refused_not_500(examples, institution_client):
    from settlement.models import Settlement

    r = institution_client("H31010400001").post("/api/v1/settlements", _two_big_lines())
    assert r.status_code in (400, 422), (r.status_code, r.content[:200])
    assert not Settlement.objects.exists()


def test_preview_never_answers_amounts_outside_the_money_format(examples, institution_client):
    r = institution_client("H31010400001").post("/api/v1/settlements/preview", _two_big_lines())
    if r.status_code == 200:
        info = r.json()["setlinfo"]
        bad = {k: v for k, v in info.items() if k.endswith(("_amt", "_pay", "_selfpay", "_sumamt")) and
               isinstance(v, str) and not MONEY.match(v)}
        assert bad == {}
    else:
        assert r.status_code in (400, 422)
