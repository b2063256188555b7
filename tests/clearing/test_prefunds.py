"""Prefund accounts: the opening import (prefunds.csv), postings and their ledger entries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from clearing.models import JournalLeg, PrefundAccount, PrefundPosting
from clearing.services.ledger import trial_balance
from clearing.services.prefunds import prefund_post, prefunds_import
from core.errors import DomainError
from tests.clearing.helpers import SYSTEM, load_prefunds

pytestmark = pytest.mark.django_db


def test_import_is_idempotent_and_posts_opening_deposits():
    first = load_prefunds()
    assert (first.received, first.created, first.updated, first.unchanged, first.rejected) == (4, 4, 0, 0, [])
    again = load_prefunds()
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert PrefundPosting.objects.filter(reference="opening").count() == 4
    assert PrefundAccount.objects.get(scheme="medical", admdvs="330000").balance == Decimal("2000.00")
    tb = trial_balance()
    assert tb["bank"] == Decimal("22000.00") and tb["prefund:340000"] == Decimal("-10000.00")
    assert tb["total"] == Decimal("0.00")


def test_import_rejections_and_baseline_update():
    load_prefunds()
    rows = [
        {"admdvs": "310000", "baseline": "6000.00", "balance": "5000.00"},  # baseline updated
        {"admdvs": "320000", "baseline": "5000.00", "balance": "4000.00"},  # opening already posted
        {"admdvs": "3100", "baseline": "1.00", "balance": "1.00"},
        {"admdvs": "350000", "baseline": "1.0", "balance": "1.00"},
        {"admdvs": "350000", "baseline": "1.00", "balance": "-1.00"},
    ]
    result = prefunds_import(rows=rows, province=None, principal=SYSTEM)
    assert (result.updated, result.unchanged) == (1, 0)
    assert result.rejected == [
        {"row": 2, "field": "balance", "code": "opening_already_posted"},
        {"row": 3, "field": "admdvs", "code": "invalid"},
        {"row": 4, "field": "baseline", "code": "invalid"},
        {"row": 5, "field": "balance", "code": "invalid"},
    ]
    assert PrefundAccount.objects.get(scheme="medical", admdvs="310000").baseline == Decimal("6000.00")
    scoped = prefunds_import(
        rows=[{"admdvs": "310000", "baseline": "6000.00", "balance": "5000.00"}],
        province="340000",
        principal=SYSTEM,
    )
    assert scoped.rejected == [{"row": 1, "field": "admdvs", "code": "wrong_province"}]


def test_postings_write_balanced_entries():
    load_prefunds()
    day = dt.date(2026, 11, 30)
    posting, created = prefund_post(
        admdvs="320000",
        kind="deposit",
        amount=Decimal("10.00"),
        value_date=day,
        reference="d1",
        principal=SYSTEM,
    )
    assert created and posting.balance_after == Decimal("5010.00")
    assert prefund_post(
        admdvs="320000",
        kind="deposit",
        amount=Decimal("10.00"),
        value_date=day,
        reference="d1",
        principal=SYSTEM,
    ) == (posting, False)
    with pytest.raises(DomainError) as exc:
        prefund_post(
            admdvs="320000",
            kind="withdrawal",
            amount=Decimal("10.00"),
            value_date=day,
            reference="d1",
            principal=SYSTEM,
        )
    assert exc.value.code == "reference_conflict"
    with pytest.raises(DomainError) as exc:
        prefund_post(
            admdvs="320000",
            kind="deposit",
            amount=Decimal("0.00"),
            value_date=day,
            reference="d2",
            principal=SYSTEM,
        )
    assert exc.value.code == "invalid"
    legs = JournalLeg.objects.filter(entry__reference="prefund:320000:d1").order_by("account")
    assert [(leg.account, leg.amount) for leg in legs] == [
        ("bank", Decimal("10.00")),
        ("prefund:320000", Decimal("-10.00")),
    ]
    assert trial_balance()["total"] == Decimal("0.00")
