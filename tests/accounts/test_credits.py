"""Personal-account credits (划入): idempotent, atomic, concurrent-safe (spec/bureau-api.md)."""
from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection

from accounts.models import AccountCredit, Person
from accounts.services import account_credit_create
from core.errors import Conflict, Invalid

P1 = "34010000000000000001"


def _credit(amount="10.00", reference="R1"):
    person = Person.objects.get(psn_no=P1)
    return account_credit_create(person=person, amount=Decimal(amount), value_date=dt.date(2026, 11, 29),
                                 reference=reference, principal=None)


def test_credit_moves_balance_once(examples):
    credit, created = _credit()
    assert created and credit.balance_after == Decimal("510.00")
    again, created = _credit()
    assert not created and again.id == credit.id
    assert Person.objects.get(psn_no=P1).acct_balance == Decimal("510.00")
    with pytest.raises(Conflict):
        _credit(amount="11.00")
    with pytest.raises(Invalid):
        _credit(amount="10.001", reference="R2")
    _credit(amount="0.50", reference="R2")
    assert Person.objects.get(psn_no=P1).acct_balance == Decimal("510.50")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_same_reference_credits_once(examples):
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker():
        try:
            barrier.wait()
            _credit(amount="25.00", reference="SAME")
        except BaseException as e:  # noqa: BLE001
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert AccountCredit.objects.filter(reference="SAME").count() == 1
    assert Person.objects.get(psn_no=P1).acct_balance == Decimal("525.00")
