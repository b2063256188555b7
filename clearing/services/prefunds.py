"""Prefund accounts and postings (spec/clearing.md §Prefunding, bureau-api.md §Prefunds).

Every posting moves the account's balance under a row lock, writes a balanced journal entry
(``clearing.services.ledger``) and is idempotent on ``(account, reference)``: the same reference
again answers the recorded posting; a different amount or kind under it → ``409 reference_conflict``.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from clearing.models import PrefundAccount, PrefundPosting, Scheme
from clearing.netting import money_in_range
from clearing.services.ledger import bank_ledger_account, journal_entry_post, settlement_ledger_account
from core.audit import audit_principal
from core.errors import Conflict, DomainError, Invalid, field_error
from core.imports import ImportResult
from core.money import ZERO, parse_money

logger = logging.getLogger("kuasheng.clearing.prefunds")
PROVINCE_RE = re.compile(r"^\d{2}0000$")
OPENING = "opening"


def prefund_account_lock(
    admdvs: str, *, baseline: Decimal = ZERO, scheme: str = Scheme.MEDICAL
) -> PrefundAccount:
    """The province's account of ``scheme`` (medical prefund or card settlement account),
    row-locked for the caller's transaction (created with ``baseline`` and balance 0.00 when
    missing)."""
    PrefundAccount.objects.get_or_create(
        scheme=scheme, admdvs=admdvs, defaults={"baseline": baseline, "balance": ZERO}
    )
    return PrefundAccount.objects.select_for_update().get(scheme=scheme, admdvs=admdvs)


def prefund_posting_write(
    *,
    account: PrefundAccount,
    kind: str,
    amount: Decimal,
    value_date: dt.date,
    reference: str,
    actor: str,
    cycle: Any = None,
) -> tuple[PrefundPosting, bool]:
    """Post a signed ``amount`` (yuan) to an account locked by :func:`prefund_account_lock`, inside
    the caller's transaction; deposits and withdrawals also write their journal entry (a close
    writes one entry for all provinces itself). Returns (posting, created); the same reference
    again returns the recorded posting, with other values → ``409 reference_conflict``; a balance
    that would leave the 14-digit money format → ``422 amount_out_of_range`` before anything is
    written (the caller's transaction is then rolled back: nothing changes)."""
    existing = PrefundPosting.objects.filter(account=account, reference=reference).first()
    if existing is not None:
        if existing.kind != kind or existing.amount != amount:
            raise Conflict(
                "reference_conflict",
                f"reference {reference!r} was already posted with other values",
                field="reference",
            )
        return existing, False
    new_balance = account.balance + amount
    if not money_in_range(new_balance):
        raise DomainError(
            "amount_out_of_range",
            f"the balance of {account.admdvs} would become {new_balance}, beyond the 14-digit money format",
            field="amount",
        )
    scheme = account.scheme
    legs = [
        (settlement_ledger_account(scheme, account.admdvs), -amount),
        (bank_ledger_account(scheme), amount),
    ]
    if kind != PrefundPosting.Kind.NET:
        prefix = "prefund" if scheme == Scheme.MEDICAL else scheme
        journal_entry_post(
            reference=f"{prefix}:{account.admdvs}:{reference}",
            description=f"{kind} {account.admdvs} {reference}",
            legs=legs,
            scheme=scheme,
        )
    with transaction.atomic():
        posting = PrefundPosting.objects.create(
            account=account,
            kind=kind,
            amount=amount,
            value_date=value_date,
            reference=reference,
            balance_after=new_balance,
            cycle=cycle,
            created_by=actor[:150],
            created_at=timezone.now(),
        )
        PrefundAccount.objects.filter(pk=account.pk).update(balance=new_balance)
    account.balance = new_balance
    return posting, True


def prefund_post(
    *,
    admdvs: str,
    kind: str,
    amount: Decimal,
    value_date: dt.date,
    reference: str,
    principal: Any,
    scheme: str = Scheme.MEDICAL,
) -> tuple[PrefundPosting, bool]:
    """A deposit (``amount`` > 0 added) or withdrawal (``amount`` > 0 taken) by clearing-house
    staff; idempotent on ``reference``. Returns (posting, created). Raises ``404`` for a province
    without an account, ``422 insufficient_prefund`` when a withdrawal exceeds the balance,
    ``422 amount_out_of_range`` when the balance would leave the 14-digit money format,
    ``409 reference_conflict``."""
    if kind not in (PrefundPosting.Kind.DEPOSIT, PrefundPosting.Kind.WITHDRAWAL):
        raise ValueError(kind)
    if amount <= 0:
        raise Invalid([field_error("amount", "not_positive", "must be greater than 0.00")])
    signed = amount if kind == PrefundPosting.Kind.DEPOSIT else -amount
    with transaction.atomic():
        if not PrefundAccount.objects.filter(scheme=scheme, admdvs=admdvs).exists():
            raise DomainError("not_found", f"no prefund account for {admdvs}", status=404)
        account = prefund_account_lock(admdvs, scheme=scheme)
        done = PrefundPosting.objects.filter(account=account, reference=reference).exists()
        if not done and kind == PrefundPosting.Kind.WITHDRAWAL and account.balance + signed < 0:
            raise DomainError("insufficient_prefund", "the withdrawal exceeds the balance", field="amount")
        try:
            with transaction.atomic():
                posting, created = prefund_posting_write(
                    account=account,
                    kind=kind,
                    amount=signed,
                    value_date=value_date,
                    reference=reference,
                    actor=principal.actor,
                )
        except IntegrityError:  # a concurrent twin committed first
            posting, created = PrefundPosting.objects.get(account=account, reference=reference), False
        if created:
            audit_principal(
                principal,
                f"prefund_{kind}",
                "prefund_posting",
                str(posting.pk),
                {"admdvs": admdvs, "amount": str(amount), "reference": reference},
            )
            logger.info("prefund %s %s %s ref=%s", kind, admdvs, amount, reference)
    return posting, created


def prefunds_import(
    *, rows: list[dict[str, str]], province: str | None, principal: Any, scheme: str = Scheme.MEDICAL
) -> ImportResult:
    """``prefunds.csv`` rows ``{admdvs, baseline, balance}`` (``card_prefunds.csv`` with
    ``scheme="card"``: the card settlement accounts): creates or updates each account's
    baseline and posts ``balance`` once as a deposit with reference ``opening``. Rows of another
    province than ``province`` (when given) → rejected ``wrong_province``. An opening already
    posted with another amount is refused (``opening_already_posted``): postings are never edited.
    """
    result = ImportResult()
    for i, row in enumerate(rows, start=1):
        result.received += 1
        admdvs = (row.get("admdvs") or "").strip()
        if not PROVINCE_RE.match(admdvs):
            result.reject(i, "admdvs", "invalid")
            continue
        if province is not None and admdvs != province[:2] + "0000":
            result.reject(i, "admdvs", "wrong_province")
            continue
        try:
            baseline = parse_money(row.get("baseline"))
        except ValueError:
            result.reject(i, "baseline", "invalid")
            continue
        try:
            opening = parse_money(row.get("balance"))
        except ValueError:
            result.reject(i, "balance", "invalid")
            continue
        with transaction.atomic():
            created = not PrefundAccount.objects.filter(scheme=scheme, admdvs=admdvs).exists()
            account = prefund_account_lock(admdvs, baseline=baseline, scheme=scheme)
            changed = account.baseline != baseline
            if changed:
                PrefundAccount.objects.filter(pk=account.pk).update(baseline=baseline)
            prior = PrefundPosting.objects.filter(account=account, reference=OPENING).first()
            if prior is not None and prior.amount != opening:
                result.reject(i, "balance", "opening_already_posted")
                continue
            if prior is None and opening != 0:
                prefund_posting_write(
                    account=account,
                    kind=PrefundPosting.Kind.DEPOSIT,
                    amount=opening,
                    value_date=timezone.localdate(),
                    reference=OPENING,
                    actor=getattr(principal, "actor", "system"),
                )
                changed = True
            if created or changed:
                audit_principal(
                    principal,
                    "prefund_import",
                    "prefund_account",
                    admdvs if scheme == Scheme.MEDICAL else f"{scheme}:{admdvs}",
                    {"baseline": str(baseline), "opening": str(opening)},
                )
        if created:
            result.created += 1
        elif changed:
            result.updated += 1
        else:
            result.unchanged += 1
    return result
