"""Response bodies of the card endpoints (spec/cards.md), with personal data masked: a ``card_no``
as its first 3 and last 2 characters around ``****``, ``certno`` and names as accounts masks them.
One shape per thing: the acceptance answer's fields are :data:`ACCEPTANCE_FIELDS`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from accounts.certno import mask_certno, mask_name
from cards.models import Acceptance, Card, CardStatusChange
from cards.services.acceptance_writes import AcceptedRow
from cards.services.registry import mask_card_no
from core.crypto import decrypt
from core.money import fmt_money, fmt_ratio

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
ACCEPTANCE_FIELDS = (
    "acpt_id",
    "acpt_serial",
    "card_no",
    "acceptor_code",
    "issuer_admdvs",
    "acceptor_admdvs",
    "svc_type",
    "used_at",
    "list_amt",
    "benefit_code",
    "pay_prop",
    "amt",
    "pay_src",
    "late_listing",
    "cleared",
    "clr_date",
)


def local(at: dt.datetime | None) -> str | None:
    """ISO 8601 with the Asia/Shanghai offset (``2026-11-27T08:15:05+08:00``)."""
    return at.astimezone(SHANGHAI).isoformat() if at is not None else None


def card_no_of(card: Card) -> str:
    return decrypt(card.card_no_enc) or ""


def history_body(row: CardStatusChange, *, holder: bool = False) -> dict[str, Any]:
    """One status move. Staff see who moved it (``actor``: a username or client id); the
    cardholder (``holder``) sees only the ``role`` that did (``cardholder``, ``card_bureau``,
    ``card_desk``, ``system``): a desk's or bureau's staff login is not the holder's business."""
    body = {
        "from": row.from_stas or None,
        "to": row.to_stas,
        "at": local(row.at),
        "actor": row.actor,
        "role": row.role,
        "admdvs": row.actor_admdvs,
        "reason": row.reason,
        "reference": row.reference,
        "list_version": row.list_version,
    }
    if holder:
        del body["actor"]
    return body


def card_body(card: Card, *, history: bool = True, holder: bool = False) -> dict[str, Any]:
    """``<card>`` as ``GET /api/v1/cards/{card_no}`` shows it, masked; ``holder``: as the
    cardholder's ``GET /api/v1/me/cards`` shows it (history without staff ``actor`` ids)."""
    body: dict[str, Any] = {
        "card_no": mask_card_no(card_no_of(card)),
        "card_ref": card.card_ref,
        "certno": mask_certno(decrypt(card.certno_enc) or ""),
        "psn_name": mask_name(decrypt(card.psn_name_enc) or ""),
        "issuer_admdvs": card.issuer_admdvs,
        "card_gen": card.card_gen,
        "issue_date": card.issue_date.isoformat() if card.issue_date else None,
        "valid_until": card.valid_until.isoformat() if card.valid_until else None,
        "card_stas": card.card_stas,
        "temp_loss_expires_at": local(card.temp_loss_expires_at),
        "handled_admdvs": card.handled_admdvs or None,
    }
    if history:
        body["history"] = [history_body(r, holder=holder) for r in card.history.order_by("at", "id")]
    return body


def acceptance_body(
    a: Acceptance | AcceptedRow, card_no: str | None = None, *, duplicate: bool = False
) -> dict[str, Any]:
    """The answer of an accepted record: a stored one, or one just written by a batch
    (:class:`cards.services.acceptance_writes.AcceptedRow`, same fields). ``card_no`` from the
    request when known, else decrypted."""
    if isinstance(a, AcceptedRow):
        code, number = a.acceptor_code, card_no or ""
    else:
        code, number = a.acceptor.acceptor_code, card_no or card_no_of(a.card)
    body = {
        "acpt_id": a.acpt_id,
        "acpt_serial": a.acpt_serial,
        "card_no": mask_card_no(number),
        "acceptor_code": code,
        "issuer_admdvs": a.issuer_admdvs,
        "acceptor_admdvs": a.acceptor_admdvs,
        "svc_type": a.svc_type,
        "used_at": local(a.used_at),
        "list_amt": fmt_money(a.list_amt),
        "benefit_code": a.benefit_code or None,
        "pay_prop": fmt_ratio(a.pay_prop),
        "amt": fmt_money(a.amt),
        "pay_src": a.pay_src,
        "late_listing": a.late_listing,
        "cleared": a.cleared,
        "clr_date": a.clr_date.isoformat(),
    }
    if isinstance(a, Acceptance) and a.kind == Acceptance.Kind.REVERSAL:
        body["kind"] = "reversal"
        body["reverses"] = a.reverses.acpt_id if a.reverses is not None else None
    if duplicate:
        body["duplicate"] = True
    return body
