"""Money beyond the 14-digit format (spec/README.md §Units; docs/decisions.md §Money beyond 14
digits): a deposit or a close that would leave it is refused with 422 amount_out_of_range and
changes nothing — never a database overflow (500)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from clearing.models import Cycle, CycleHead, JournalLeg, PrefundAccount, PrefundPosting
from clearing.services.close import cycle_close
from clearing.services.cycles import open_cycle_date
from clearing.services.ledger import trial_balance
from core.errors import DomainError
from tests.clearing.helpers import load_prefunds, record, staff_client

pytestmark = pytest.mark.django_db
TOP = "99999999999999.99"
HIGH = "99999999999000.00"  # near the top yet exact as a SQLite REAL (the embedded default)


def test_deposit_past_14_digits_is_422_and_changes_nothing():
    load_prefunds()
    staff = staff_client("clearing_staff", "000000")
    postings, legs = PrefundPosting.objects.count(), JournalLeg.objects.count()
    r = staff.post("/api/v1/prefunds/310000/deposits", {"amount": TOP, "value_date": "2026-11-27",
                                                        "reference": "BIG"})
    assert (r.status_code, r.json()["code"]) == (422, "amount_out_of_range")
    assert PrefundAccount.objects.get(scheme="medical", admdvs="310000").balance == Decimal("5000.00")
    assert (PrefundPosting.objects.count(), JournalLeg.objects.count()) == (postings, legs)
    ok = staff.post("/api/v1/prefunds/310000/deposits", {"amount": "99999999994000.00",
                                                         "value_date": "2026-11-27", "reference": "HIGH"})
    assert ok.status_code == 201, ok.content
    assert PrefundAccount.objects.get(scheme="medical", admdvs="310000").balance == Decimal(HIGH)
    more = staff.post("/api/v1/prefunds/310000/deposits", {"amount": "1000.00",
                                                           "value_date": "2026-11-27", "reference": "MORE"})
    assert (more.status_code, more.json()["code"]) == (422, "amount_out_of_range")


def test_close_whose_bilateral_sum_overflows_is_refused_and_stays_cut():
    load_prefunds()
    day = open_cycle_date()
    record("340000", "310000", TOP, "H31010400001")
    record("340000", "310000", "0.01", "H31010400001")
    with pytest.raises(DomainError) as err:
        cycle_close(clr_date=day, actor="test")
    assert err.value.code == "amount_out_of_range"
    assert Cycle.objects.get(clr_date=day).status == "cut"
    assert not CycleHead.objects.exists()
    assert PrefundAccount.objects.get(scheme="medical", admdvs="310000").balance == Decimal("5000.00")
    assert trial_balance()["total"] == Decimal("0.00")


def test_close_whose_net_would_overflow_a_prefund_balance_is_refused():
    load_prefunds()
    staff = staff_client("clearing_staff", "000000")
    r = staff.post("/api/v1/prefunds/310000/deposits", {"amount": "99999999994000.00",
                                                        "value_date": "2026-11-27", "reference": "HIGH"})
    assert r.status_code == 201, r.content
    day = open_cycle_date()
    record("340000", "310000", "1000.00", "H31010400001")
    r = staff.post(f"/api/v1/cycles/{day}/close", {})
    assert (r.status_code, r.json()["code"]) == (422, "amount_out_of_range")
    assert Cycle.objects.get(clr_date=day).status == "cut"
    assert PrefundAccount.objects.get(scheme="medical", admdvs="310000").balance == Decimal(HIGH)
    assert PrefundAccount.objects.get(scheme="medical", admdvs="340000").balance == Decimal("10000.00")
    assert not PrefundPosting.objects.filter(kind="net").exists()
