"""Adversary (engineer H): a deposit whose resulting balance exceeds the column → 500."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.postgres
def test_deposit_that_overflows_the_balance_is_refused_not_500(examples, staff_client):
    from clearing.models import PrefundAccount

    staff = staff_client("clearing_staff", "000000")
    before = PrefundAccount.objects.get(scheme="medical", admdvs="310000").balance
    r = staff.post("/api/v1/prefunds/310000/deposits",
                   {"amount": "99999999999999.99", "value_date": "2026-11-27", "reference": "ADV-BIG"})
    assert r.status_code in (400, 422), (r.status_code, r.content[:200])
    assert PrefundAccount.objects.get(scheme="medical", admdvs="310000").balance == before
