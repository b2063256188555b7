"""Disputes after clearing (spec/clearing.md §Disputes, bureau-api.md §Disputes), for both schemes
(spec/cards.md §The card scheme's clearing, "Disputes: as clearing.md, for acceptance items").

The payer bureau opens one dispute per item, ever. The payee bureau (or clearing staff once
escalated) resolves it: ``upheld`` records an ``adjustment`` item of minus the resolved amount in the
open cycle **of the item's scheme**; ``rejected`` moves nothing. Either side may escalate an open
dispute. What differs per scheme is one table, :data:`RULES`: which bureau role acts (``bureau``
for the medical scheme, ``card_bureau`` for the card scheme: the issuer's card bureau is the payer,
the acceptor's the payee), which item kind is disputable (``settlement`` / ``acceptance``), the
reason codes (the card scheme adds ``card_denied_missed``) and the name of the item id in answers
(``setl_id`` / ``acpt_id``). A card adjustment's id is an ``acpt_id`` issued at resolution
(:func:`clearing.schemes.adjustment_id`, registered by the cards app); its leaf is the card leaf.
Nothing of the medical scheme (items, cycles, accounts, bytes) is touched by a card dispute.

A reversal and a dispute of one settlement never both move money (docs/decisions.md §Disputes and
reversals). Both halves of the rule run under the row lock of the settlement's clearing item, which
clearing owns (:func:`clearing.services.items.clearing_item_lock`), taken before the dispute row:
- the reversal (:func:`clearing.services.items.clearing_item_reversal_lock`) refuses ``409
  disputed`` while a dispute may still move money
  (:func:`clearing.selectors.settlement_blocking_dispute_exists`: open, escalated, upheld, or
  rejected by the payee and still escalatable), else records the item as reversed;
- :func:`dispute_open`, :func:`dispute_escalate` and an ``upheld`` :func:`dispute_resolve` refuse
  ``409 already_reversed`` when the item was reversed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from clearing.models import ClearingItem, Cycle, Dispute, Scheme
from clearing.schemes import adjustment_id
from clearing.selectors import escalation_cutoff
from clearing.services.cycles import clearing_item_record, cycle_for_write
from clearing.services.items import clearing_item_lock, clearing_item_reversed
from core.audit import audit_principal
from core.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, field_error
from core.ids import new_setl_id
from core.transitions import Moves, check_move

S = Dispute.Status
MOVES: Moves = {
    S.OPEN: frozenset({S.ESCALATED, S.UPHELD, S.REJECTED}),
    S.ESCALATED: frozenset({S.UPHELD, S.REJECTED}),
    # clearing.md: "a rejected dispute can be escalated, not filed again" — once: staff decide last,
    # and only within the escalation period (clearing.selectors.escalation_cutoff).
    S.REJECTED: frozenset({S.ESCALATED}),
}


R = Dispute.Reason


@dataclass(frozen=True)
class SchemeRules:
    """A scheme's dispute rules: the bureau ``role`` that opens (payer) and resolves (payee), the
    ``disputable`` item kind, the allowed ``reasons`` and the ``id_field`` naming the item."""

    role: str
    disputable: str
    reasons: frozenset[str]
    id_field: str


MEDICAL_REASONS = frozenset({R.NOT_ELIGIBLE, R.NOT_COVERED, R.DUPLICATE, R.AMOUNT_ERROR, R.OTHER})
RULES: dict[str, SchemeRules] = {
    Scheme.MEDICAL: SchemeRules("bureau", ClearingItem.Kind.SETTLEMENT, MEDICAL_REASONS, "setl_id"),
    Scheme.CARD: SchemeRules(
        "card_bureau", ClearingItem.Kind.ACCEPTANCE, MEDICAL_REASONS | {R.CARD_DENIED_MISSED}, "acpt_id"
    ),
}
SCHEME_OF_ROLE = {rules.role: scheme for scheme, rules in RULES.items()}


def _province(principal: Any) -> str:
    return str(principal.admdvs)[:2] + "0000"


def dispute_transition(dispute: Dispute, to_status: str, *, actor: str, at: dt.datetime) -> Dispute:
    """The one function that moves a dispute's status; records who and when. Raises
    ``409 dispute_closed`` for a move the table does not allow (a dispute already escalated once
    cannot be escalated again: clearing staff's decision is final; a payee's rejection cannot be
    escalated once the escalation period, ``DISPUTE_RESOLUTION_DAYS`` from ``opened_at``, is over)."""
    check_move(MOVES, f"dispute {dispute.pk}", dispute.status, to_status, code="dispute_closed")
    if to_status == Dispute.Status.ESCALATED and dispute.escalated_at is not None:
        raise Conflict("dispute_closed", "an escalated dispute cannot be escalated again")
    if (
        dispute.status == Dispute.Status.REJECTED
        and to_status == Dispute.Status.ESCALATED
        and dispute.opened_at < escalation_cutoff(at)
    ):
        raise Conflict("dispute_closed", "the rejection is final: the escalation period is over")
    dispute.status = to_status
    if to_status == Dispute.Status.ESCALATED:
        dispute.escalated_by, dispute.escalated_at = actor[:150], at
    else:
        dispute.resolved_by, dispute.resolved_at = actor[:150], at
    return dispute


def _positive(amount: Decimal | None) -> None:
    if amount is not None and amount <= 0:
        raise Invalid([field_error("amount", "not_positive", "must be greater than 0.00")])


def dispute_open(
    *, principal: Any, setl_id: str, reason_code: str, amount: Decimal | None, note: str
) -> Dispute:
    """Open a dispute on an item of a closed cycle, by its payer bureau: a medical bureau on a
    ``settlement`` item, a card bureau (the card's issuer province) on an ``acceptance`` item
    (``setl_id`` is then its ``acpt_id``).

    Errors: ``403`` for another role; ``400 invalid_choice`` (``reason_code``) for a reason of the
    other scheme; ``404`` unknown item, an item of the other scheme, or not the caller's (payer)
    province; ``422 not_disputable`` (reversal/adjustment item, ``clr_amt`` 0.00, or its cycle not
    closed yet); ``409 already_reversed``; ``422 dispute_window_closed`` after
    ``DISPUTE_WINDOW_DAYS`` from ``clr_date``; ``422 amount_exceeds_clr_amt``; ``409
    already_disputed`` (one dispute per item, ever).
    """
    scheme = SCHEME_OF_ROLE.get(principal.role)
    if scheme is None:
        raise Forbidden("Only the payer bureau may open a dispute.")
    rules = RULES[scheme]
    if reason_code not in rules.reasons:
        raise Invalid([field_error("reason_code", "invalid_choice", ", ".join(sorted(rules.reasons)))])
    _positive(amount)
    field = rules.id_field
    now = timezone.now()
    with transaction.atomic():
        item = clearing_item_lock(setl_id)
        if item is None or item.scheme != scheme or item.payer != _province(principal):
            raise NotFound("No such item for this bureau.")
        if item.kind != rules.disputable:
            raise DomainError("not_disputable", f"only {rules.disputable} items can be disputed", field=field)
        _refuse_if_reversed(item, field)
        if item.cycle.status != Cycle.Status.CLOSED:
            raise DomainError("not_disputable", "the item's cycle is not closed yet", field=field)
        today = now.astimezone(timezone.get_default_timezone()).date()
        if today > item.clr_date + dt.timedelta(days=settings.DISPUTE_WINDOW_DAYS):
            raise DomainError(
                "dispute_window_closed", "the dispute window of this item has closed", field=field
            )
        if item.clr_amt <= 0:  # nothing was paid between provinces: nothing to claw back
            raise DomainError("not_disputable", "the item's clr_amt is 0.00", field=field)
        amount = item.clr_amt if amount is None else amount
        if amount > item.clr_amt:
            raise DomainError("amount_exceeds_clr_amt", "amount must not exceed clr_amt", field="amount")
        if Dispute.objects.filter(setl_id=setl_id).exists():
            raise Conflict("already_disputed", "this item was already disputed", field=field)
        try:
            with transaction.atomic():
                dispute = Dispute.objects.create(
                    setl_id=setl_id,
                    item=item,
                    payer=item.payer,
                    payee=item.payee,
                    fixmedins_code=item.fixmedins_code,
                    reason_code=reason_code,
                    amount=amount,
                    note=note,
                    opened_by=principal.actor,
                    opened_at=now,
                )
        except IntegrityError:
            if not Dispute.objects.filter(setl_id=setl_id).exists():
                raise  # another constraint: a bug, not a duplicate
            raise Conflict("already_disputed", "this item was already disputed", field=field) from None
        audit_principal(
            principal,
            "dispute_open",
            "dispute",
            str(dispute.pk),
            {field: setl_id, "scheme": scheme, "reason_code": reason_code, "amount": str(amount)},
        )
    return dispute


def _locked(dispute_id: int, principal: Any) -> tuple[Dispute, ClearingItem]:
    """Lock the dispute's item row (the lock a reversal takes), then the dispute row. Returns
    (dispute, item). ``404`` when unknown or out of scope: a bureau sees the disputes of its own
    scheme where its province is payer or payee; clearing staff all."""
    item_id = Dispute.objects.filter(pk=dispute_id).values_list("item_id", flat=True).first()
    items = ClearingItem.objects.select_for_update(of=("self",)).select_related("cycle")
    item = items.filter(pk=item_id).first() if item_id is not None else None
    dispute = Dispute.objects.select_for_update().filter(pk=dispute_id).first()
    if dispute is None or item is None:
        raise NotFound("No such dispute.")
    if principal.role != "clearing_staff" and (
        SCHEME_OF_ROLE.get(principal.role) != item.scheme
        or _province(principal) not in (dispute.payer, dispute.payee)
    ):
        raise NotFound("No such dispute.")
    return dispute, item


def _refuse_if_reversed(item: ClearingItem | None, field: str = "setl_id") -> None:
    """``409 already_reversed`` when the (locked) item was reversed."""
    if clearing_item_reversed(item):
        what = "acceptance" if field == "acpt_id" else "settlement"
        raise Conflict("already_reversed", f"the {what} was reversed", field=field)


def dispute_escalate(*, principal: Any, dispute_id: int) -> Dispute:
    """Hand an open (or payee-rejected) dispute to clearing-house staff; payer or payee bureau.
    ``409 dispute_closed`` when upheld, already escalated, decided by staff, or a payee rejection
    past the escalation period; ``409 already_reversed`` when the settlement was reversed (checked
    under the settlement row lock)."""
    if principal.role not in SCHEME_OF_ROLE:
        raise Forbidden("Only the payer or payee bureau may escalate.")
    with transaction.atomic():
        dispute, item = _locked(dispute_id, principal)
        field = RULES[item.scheme].id_field
        _refuse_if_reversed(item, field)
        dispute_transition(dispute, Dispute.Status.ESCALATED, actor=principal.actor, at=timezone.now())
        dispute.save(update_fields=["status", "escalated_by", "escalated_at"])
        audit_principal(
            principal, "dispute_escalate", "dispute", str(dispute.pk), {field: dispute.setl_id}
        )
    return dispute


def dispute_resolve(
    *, principal: Any, dispute_id: int, outcome: str, amount: Decimal | None, note: str
) -> Dispute:
    """Resolve: payee bureau (of the item's scheme) while open, clearing staff once escalated.
    ``upheld`` records an adjustment item (its own id: a ``setl_id``, or for the card scheme an
    ``acpt_id`` issued now; same payer/payee/institution or acceptor, ``clr_amt`` = −amount,
    default the disputed amount) in the open cycle of the item's scheme; ``rejected`` moves
    nothing. Errors: ``403`` for the wrong side, ``422 amount_exceeds_disputed``, ``409
    dispute_closed``, ``409 already_reversed`` (``upheld`` on a reversed item, checked under the
    item's row lock: the reversal already gave the money back)."""
    _positive(amount)
    with transaction.atomic():
        dispute, item = _locked(dispute_id, principal)
        rules = RULES[item.scheme]
        if principal.role == "clearing_staff":
            if dispute.status != Dispute.Status.ESCALATED:
                raise Forbidden("Clearing staff resolve escalated disputes only.")
        elif principal.role != rules.role or _province(principal) != dispute.payee:
            raise Forbidden("Only the payee bureau resolves this dispute.")
        elif dispute.status == Dispute.Status.ESCALATED:
            raise Forbidden("This dispute was escalated; clearing staff decide it.")
        resolved = dispute.amount if amount is None else amount
        if resolved > dispute.amount:
            raise DomainError(
                "amount_exceeds_disputed", "amount must not exceed the disputed amount", field="amount"
            )
        if outcome == Dispute.Status.UPHELD:
            _refuse_if_reversed(item, rules.id_field)
        now = timezone.now()
        dispute_transition(dispute, outcome, actor=principal.actor, at=now)
        dispute.resolution_note = note
        if outcome == Dispute.Status.UPHELD:
            dispute.resolved_amount = resolved
            cycle = cycle_for_write(scheme=item.scheme)
            adj = clearing_item_record(
                setl_id=adjustment_id(item.scheme, now, _medical_adjustment_id),
                kind=ClearingItem.Kind.ADJUSTMENT,
                payer=dispute.payer,
                payee=dispute.payee,
                clr_amt=-resolved,
                fixmedins_code=dispute.fixmedins_code,
                cycle=cycle,
            )
            dispute.adjustment_setl_id = adj.setl_id
        dispute.save()
        audit_principal(
            principal,
            f"dispute_{outcome}",
            "dispute",
            str(dispute.pk),
            {
                rules.id_field: dispute.setl_id,
                "amount": str(resolved),
                "adjustment": dispute.adjustment_setl_id,
            },
        )
    return dispute


def _medical_adjustment_id(at: dt.datetime) -> str:
    return new_setl_id("A", at=at)
