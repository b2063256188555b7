"""core.bulk writes exactly what Django's INSERT would, or refuses as it would (docs/performance.md)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import DataError, connection, transaction
from django.utils import timezone

from accounts.models import Person
from core.bulk import rows_insert, rows_update
from core.models import AuditRecord

pytestmark = pytest.mark.django_db


def _record(action: str, detail: dict) -> AuditRecord:
    return AuditRecord(at=timezone.now(), actor="t", role="system", action=action, object_type="x",
                       object_id="1", detail=detail)


def test_rows_come_back_with_their_ids_and_values():
    rows = [_record("a", {"amt": "0.10", "n": 1}), _record("b", {})]
    written = rows_insert(AuditRecord, rows, returning=("id", "action"))
    assert [a for _, a in written] == ["a", "b"] and [r.pk for r in rows] == [i for i, _ in written]
    assert AuditRecord.objects.get(pk=rows[0].pk).detail == {"amt": "0.10", "n": 1}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="length is not enforced by SQLite")
def test_a_value_too_long_raises_and_is_never_truncated():
    with pytest.raises(DataError), transaction.atomic():
        rows_insert(AuditRecord, [_record("x" * 51, {})])
    assert not AuditRecord.objects.filter(action__startswith="xxxx").exists()


def test_update_sets_exact_decimals(examples):
    p = Person.objects.order_by("pk").first()
    assert p is not None
    rows_update(Person, {p.pk: {"acct_balance": Decimal("1234567.89")}})
    p.refresh_from_db()
    assert p.acct_balance == Decimal("1234567.89") and str(p.acct_balance) == "1234567.89"
