"""Personal-account credits (划入), spec/bureau-api.md §Reference data."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F

from accounts.models import AccountCredit, Person
from core.audit import audit_principal
from core.errors import Conflict, DomainError, Invalid, field_error

MAX_BALANCE = Decimal("99999999999999.99")  # the 14-digit money format (spec/README.md §Units)


def account_credit_create(*, person: Person, amount: Decimal, value_date: dt.date, reference: str,
                          principal: Any) -> tuple[AccountCredit, bool]:
    """Credit ``amount`` yuan (> 0, 2 places) to the person's personal account.

    Idempotent on ``(person, reference)``: the same reference with the same amount and value date
    returns the recorded credit and ``False``; with other figures → ``409 reference_conflict``.
    A new credit locks the person row, moves ``acct_balance`` and records ``balance_after`` in one
    transaction; audited ``account_credit``. Returns ``(credit, created)``. Raises ``400 invalid``
    (amount, reference), ``422 no_personal_account`` for insutype ``390`` and ``422 balance_overflow``
    (field ``amount``) when the balance would leave the 14-digit money format.
    """
    if not isinstance(amount, Decimal) or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise Invalid([field_error("amount", "invalid", "amount must be greater than 0.00 with 2 places")])
    if not reference or len(reference) > 64:
        raise Invalid([field_error("reference", "invalid", "reference must be 1-64 characters")])
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        found = AccountCredit.objects.filter(person=locked, reference=reference).first()
        if found is not None:
            if found.amount != amount or found.value_date != value_date:
                raise Conflict("reference_conflict", "This reference was used for another credit.",
                               field="reference")
            return found, False
        if locked.insutype != "310":
            raise DomainError("no_personal_account", "Only employee insurance (310) has a personal account.")
        if locked.acct_balance + amount > MAX_BALANCE:
            raise DomainError("balance_overflow", f"The balance would exceed {MAX_BALANCE}.", field="amount")
        Person.objects.filter(pk=locked.pk).update(acct_balance=F("acct_balance") + amount)
        balance = Person.objects.values_list("acct_balance", flat=True).get(pk=locked.pk)
        credit = AccountCredit.objects.create(person=locked, amount=amount, value_date=value_date,
                                              reference=reference, balance_after=balance,
                                              created_by=getattr(principal, "actor", "system"))
        audit_principal(principal, "account_credit", "person", locked.psn_no,
                        detail={"reference": reference, "amount": f"{amount:.2f}"})
    person.acct_balance = balance
    return credit, True
