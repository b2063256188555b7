"""The cardholder's own card reads (spec/cards.md §Views): cards, usage and receipts of cleared
uses, for the API (``cards.apis.me``) and the cardholder web pages (``cardholder.card_views``) alike.

A holder is a cardholder principal (``role`` ``cardholder``): an insured person's login or a
card-only holder's (``cardholder.CardholderLogin``); its cards are those whose ``certno`` blind
index is the holder's (:func:`cards.services.moves.holder_certno_bidx`). Another holder's card or
use is answered ``404`` (never ``403``, which would say it exists).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet

from cards.models import Acceptance, Card
from cards.presenters import acceptance_body, local
from cards.services.moves import holder_certno_bidx
from clearing.models import Cycle
from clearing.selectors import item_inclusion_proof
from core.errors import NotFound


def holder_cards(principal: Any) -> QuerySet[Card]:
    """The holder's cards (every status, replaced ones included), oldest first."""
    return Card.objects.filter(certno_bidx=holder_certno_bidx(principal) or "-").order_by("id")


def holder_card(principal: Any, card_id: int) -> Card:
    """One of the holder's cards by its id; another's or unknown → ``404``."""
    card = holder_cards(principal).filter(pk=card_id).first()
    if card is None:
        raise NotFound("No such card.")
    return card


def holder_usage(
    principal: Any, *, date_from: dt.date | None = None, date_to: dt.date | None = None
) -> QuerySet[Acceptance]:
    """The holder's uses and refunds, newest first (``-used_at``, ``-id``: a keyset order for
    :func:`core.pagination.paginate`); ``date_from``/``date_to`` bound the Asia/Shanghai date of use
    (inclusive)."""
    qs = Acceptance.objects.filter(card__in=holder_cards(principal))
    qs = qs.select_related("acceptor", "card", "reverses")
    if date_from is not None:
        qs = qs.filter(used_at__date__gte=date_from)
    if date_to is not None:
        qs = qs.filter(used_at__date__lte=date_to)
    return qs.order_by("-used_at", "-id")


def _usage_row(a: Acceptance, closed: set[dt.date]) -> dict[str, Any]:
    body = acceptance_body(a)
    return {
        "acpt_id": a.acpt_id,
        "used_at": local(a.used_at),
        "acceptor_name": a.acceptor.name,
        "acceptor_code": a.acceptor.acceptor_code,
        "city": a.acceptor.admdvs,
        "svc_type": a.svc_type,
        "list_amt": body["list_amt"],
        "benefit_code": body["benefit_code"],
        "pay_prop": body["pay_prop"],
        "amt": body["amt"],
        "pay_src": a.pay_src,
        "late_listing": a.late_listing,
        "clr_date": a.clr_date.isoformat(),
        "cleared": a.cleared,
        "cycle_closed": a.clr_date in closed,
        "card_no": body["card_no"],
        "kind": a.kind,
        "reverses": body.get("reverses"),
    }


def usage_rows(rows: list[Acceptance]) -> list[dict[str, Any]]:
    """The answer rows of ``GET /api/v1/me/card-usage`` for acceptance rows (one page), in order:
    ``acpt_id``, ``used_at`` (+08:00), ``acceptor_name``, ``acceptor_code``, ``city`` (the
    acceptor's ``admdvs``), ``svc_type``, ``list_amt``, ``benefit_code``, ``pay_prop``, ``amt``
    (2-place strings; a refund's negative), ``pay_src``, ``late_listing``, ``clr_date``,
    ``cleared`` (an item exists: ``amt`` ≠ 0), ``cycle_closed``, masked ``card_no``, ``kind``
    (``acceptance`` or ``reversal``), ``reverses`` (a refund's original ``acpt_id``)."""
    closed = set(
        Cycle.objects.filter(
            scheme="card", status=Cycle.Status.CLOSED, clr_date__in={a.clr_date for a in rows}
        ).values_list("clr_date", flat=True)
    )
    return [_usage_row(a, closed) for a in rows]


def holder_use(principal: Any, acpt_id: str) -> Acceptance:
    """One of the holder's uses; another's or unknown → ``404``."""
    row = holder_usage(principal).filter(acpt_id=acpt_id).first()
    if row is None:
        raise NotFound("No such use.")
    return row


def holder_receipt(principal: Any, acpt_id: str) -> dict[str, Any]:
    """Inclusion proof + signed card head of one of the holder's cleared uses
    (:func:`clearing.selectors.item_inclusion_proof`): ``409 not_yet_cleared`` before the close;
    free uses (never cleared), others' and unknown ids → ``404``."""
    row = holder_use(principal, acpt_id)
    if not row.cleared:
        raise NotFound("No such cleared use.")
    return item_inclusion_proof(acpt_id, row.clr_date)  # the use's day: one partition of the items
