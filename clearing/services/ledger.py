"""Double-entry ledger (spec/clearing.md §Ledger).

Legs are signed (positive = debit). Accounts: ``prefund:<admdvs>`` — the clearing house's
liability to a province, so a province's prefund balance is minus the sum of its legs — and
``bank``, the clearing house's settlement account. Every entry has ≥ 2 legs summing to exactly
0.00: PostgreSQL enforces it at commit with a deferred constraint trigger (migration 0003);
:func:`journal_entry_post` checks the same rule first, which is the only check on SQLite.

The card scheme (spec/cards.md) has its own accounts, ``card:<admdvs>`` (a province's card
settlement account) and ``card:bank``; an entry and all its legs belong to one scheme, which the
database enforces (migration 0005), so the two schemes can never be netted in one entry.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from clearing.models import JournalEntry, JournalLeg, Scheme
from core.money import ZERO, round2

BANK = "bank"
CARD_BANK = "card:bank"


def prefund_ledger_account(admdvs: str) -> str:
    return f"prefund:{admdvs}"


def settlement_ledger_account(scheme: str, admdvs: str) -> str:
    """The ledger account of a province's settlement account in ``scheme``: ``prefund:<admdvs>``
    (medical) or ``card:<admdvs>`` (card)."""
    return prefund_ledger_account(admdvs) if scheme == Scheme.MEDICAL else f"card:{admdvs}"


def bank_ledger_account(scheme: str) -> str:
    """The clearing house's settlement bank account of ``scheme``: ``bank`` or ``card:bank``."""
    return BANK if scheme == Scheme.MEDICAL else CARD_BANK


def cycle_journal_reference(scheme: str, clr_date: dt.date) -> str:
    """A close's journal (and posting) reference: ``cycle:<date>`` (medical, as before) or
    ``card-cycle:<date>`` (spec/cards.md)."""
    return f"cycle:{clr_date}" if scheme == Scheme.MEDICAL else f"{scheme}-cycle:{clr_date}"


class UnbalancedEntry(ValueError):
    """A journal entry with fewer than 2 legs or legs not summing to 0.00."""


def journal_entry_post(
    *, reference: str, description: str, legs: list[tuple[str, Decimal]], scheme: str = Scheme.MEDICAL
) -> JournalEntry:
    """Write one entry of ``scheme`` with its legs (``[(account, signed amount yuan)]``) inside
    the caller's transaction. Raises :class:`UnbalancedEntry` when the rule fails or a leg's
    account belongs to another scheme, ``IntegrityError`` when ``reference`` was already posted
    (the caller's idempotency)."""
    if len(legs) < 2 or sum((a for _, a in legs), ZERO) != 0:
        raise UnbalancedEntry(f"journal entry {reference} must have ≥ 2 legs summing to 0.00")
    if any(acc.startswith("card:") != (scheme == Scheme.CARD) for acc, _ in legs):
        raise UnbalancedEntry(f"journal entry {reference} mixes schemes")
    with transaction.atomic():
        entry = JournalEntry.objects.create(
            reference=reference, scheme=scheme, description=description[:200], created_at=timezone.now()
        )
        JournalLeg.objects.bulk_create(
            [JournalLeg(entry=entry, scheme=scheme, account=acc, amount=amt) for acc, amt in legs]
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
    "CARD_BANK",
    "IntegrityError",
    "bank_ledger_account",
    "cycle_journal_reference",
    "settlement_ledger_account",
    "UnbalancedEntry",
    "journal_entry_post",
    "prefund_ledger_account",
    "trial_balance",
]
