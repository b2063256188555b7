"""Double-entry ledger (spec/clearing.md §Ledger).

Legs are signed (positive = debit). Accounts: ``prefund:<admdvs>`` — the clearing house's
liability to a province, so a province's prefund balance is minus the sum of its legs — and
``bank``, the clearing house's settlement account. Every entry has ≥ 2 legs summing to exactly
0.00: PostgreSQL enforces it at commit with a deferred constraint trigger (migration 0003);
:func:`journal_entry_post` checks the same rule first, which is the only check on SQLite.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from clearing.models import JournalEntry, JournalLeg
from core.money import ZERO, round2

BANK = "bank"


def prefund_ledger_account(admdvs: str) -> str:
    return f"prefund:{admdvs}"


class UnbalancedEntry(ValueError):
    """A journal entry with fewer than 2 legs or legs not summing to 0.00."""


def journal_entry_post(*, reference: str, description: str, legs: list[tuple[str, Decimal]]) -> JournalEntry:
    """Write one entry with its legs (``[(account, signed amount yuan)]``) inside the caller's
    transaction. Raises :class:`UnbalancedEntry` when the rule fails, ``IntegrityError`` when
    ``reference`` was already posted (the caller's idempotency)."""
    if len(legs) < 2 or sum((a for _, a in legs), ZERO) != 0:
        raise UnbalancedEntry(f"journal entry {reference} must have ≥ 2 legs summing to 0.00")
    with transaction.atomic():
        entry = JournalEntry.objects.create(
            reference=reference, description=description[:200], created_at=timezone.now()
        )
        JournalLeg.objects.bulk_create(
            [JournalLeg(entry=entry, account=acc, amount=amt) for acc, amt in legs]
        )
    return entry


def trial_balance() -> dict[str, Decimal]:
    """Balance (Σ signed legs, yuan) of every ledger account plus ``"total"``, which is always 0.00."""
    rows = JournalLeg.objects.values("account").annotate(total=Sum("amount")).order_by("account")
    out = {r["account"]: round2(r["total"] or ZERO) for r in rows}  # exact on SQLite too
    out["total"] = sum(out.values(), ZERO)
    return out


__all__ = [
    "BANK",
    "IntegrityError",
    "UnbalancedEntry",
    "journal_entry_post",
    "prefund_ledger_account",
    "trial_balance",
]
