"""Refunds (退款, spec/cards.md §Same-city treatment): a whole reversal of an accepted record,
as a negative record in the card cycle open now (not the original's), like settlement reversals
(spec/hospital-api.md): idempotent on the new ``acpt_serial``; ``409 already_reversed``; ``409
disputed`` while a dispute on it may still move money (clearing's rule and lock,
:func:`clearing.services.items.clearing_item_reversal_lock`, shared with medical reversals).
"""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from cards.models import Acceptance, Acceptor
from cards.services.acceptance_writes import acpt_ids, clearing_item_of
from clearing.models import Scheme
from clearing.services.cycles import business_day, clearing_items_bulk_record, cycle_for_write
from clearing.services.items import clearing_item_reversal_lock
from core.audit import audit_log
from core.errors import Conflict, Invalid, NotFound, field_error

SERIAL_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def acceptance_reverse(*, acceptor: Acceptor, acpt_id: str, data: Any) -> tuple[Acceptance, bool]:
    """Reverse ``acpt_id`` of ``acceptor`` wholly. Returns (reversal record, created)."""
    if not isinstance(data, dict) or set(data) - {"acpt_serial", "reason"}:
        raise Invalid([field_error("body", "invalid", 'an object {"acpt_serial", "reason"}')])
    serial, reason = data.get("acpt_serial"), data.get("reason") or ""
    if not isinstance(serial, str) or not SERIAL_RE.match(serial):
        raise Invalid([field_error("acpt_serial", "invalid", "1 to 40 characters [A-Za-z0-9_-]")])
    if not isinstance(reason, str) or len(reason) > 200:
        raise Invalid([field_error("reason", "invalid", "at most 200 characters")])
    now = timezone.now()
    try:
        with transaction.atomic():
            original = (
                Acceptance.objects.select_for_update()
                .select_related("acceptor", "card")
                .filter(acpt_id=acpt_id, acceptor=acceptor, kind=Acceptance.Kind.ACCEPTANCE)
                .first()
            )
            if original is None:
                raise NotFound("No such acceptance of this acceptor.")
            prior = (
                Acceptance.objects.filter(acceptor=acceptor, acpt_serial=serial)
                .select_related("reverses")
                .first()
            )
            if prior is not None:
                if prior.reverses_id != original.pk:
                    raise Conflict(
                        "acpt_serial_conflict", "this serial was used for another record", field="acpt_serial"
                    )
                return prior, False
            if Acceptance.objects.filter(reverses=original).exists():
                raise Conflict("already_reversed", "this record was already reversed", field="acpt_id")
            (new_id,) = acpt_ids(business_day(now), 1)
            # clearing's one rule between reversals and disputes: lock the item (the lock the
            # dispute services take), 409 disputed while a dispute may still move money, and
            # record the reversal so a later dispute answers 409 already_reversed. Before the
            # cycle's lock, in the order the dispute services take them.
            if original.cleared:
                clearing_item_reversal_lock(setl_id=original.acpt_id, reversal_setl_id=new_id, at=now)
            cycle = cycle_for_write(scheme=Scheme.CARD)
            row = Acceptance.objects.create(
                acpt_id=new_id,
                kind=Acceptance.Kind.REVERSAL,
                acceptor=acceptor,
                acpt_serial=serial,
                fingerprint=original.acpt_id,
                card=original.card,
                svc_type=original.svc_type,
                used_at=original.used_at,
                mode=original.mode,
                list_version=original.list_version,
                list_amt=-original.list_amt,
                amt=-original.amt,
                pay_src=original.pay_src,
                benefit_code=original.benefit_code,
                pay_prop=original.pay_prop,
                late_listing=original.late_listing,
                cleared=original.cleared,
                issuer_admdvs=original.issuer_admdvs,
                acceptor_admdvs=original.acceptor_admdvs,
                payer=original.payer,
                payee=original.payee,
                clr_date=cycle.clr_date,
                received_at=now,
                received_date=business_day(now),
                reverses=original,
                reason=reason,
            )
            if row.cleared:
                clearing_items_bulk_record(cycle=cycle, items=[clearing_item_of(row)])
            audit_log(
                actor=acceptor.acceptor_code,
                role="acceptor",
                action="card_acceptance_reverse",
                object_type="card_acceptance",
                object_id=original.acpt_id,
                detail={"reversal": new_id},
            )
    except IntegrityError:  # a concurrent twin committed first: answer it
        twin = Acceptance.objects.filter(
            acceptor=acceptor, acpt_serial=serial, reverses__acpt_id=acpt_id
        ).first()
        if twin is None:
            raise Conflict("already_reversed", "this record was already reversed", field="acpt_id") from None
        return twin, False
    return row, True
