"""Status requests and replacements (spec/cards.md §Status machine): the endpoint-level services
around :func:`cards.services.status.card_status_move`, each one transaction with its deny-list
version.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from cards.models import Card, CardReplacement, CardStatus, CardStatusChange
from cards.services.registry import (
    CARD_NO_RE,
    CARD_SN_RE,
    card_no_index,
    card_ref_of,
    card_sn_fields,
    certno_index,
    ten_years_less_a_day,
)
from cards.services.status import (
    Actor,
    CardTransaction,
    actor_for,
    card_status_move,
    list_entry,
    status_replay,
)
from core.audit import audit_principal
from core.crypto import decrypt, encrypt
from core.errors import Conflict, Invalid, NotFound, field_error

REASONS = ("lost", "damaged", "expiring", "info_change")


@dataclass(frozen=True)
class MoveResult:
    card: Card
    changed: bool
    list_version: int
    changed_at: dt.datetime | None


def card_locked_for(principal: Any, card_no: str, certno: str | None) -> Card:
    """The card ``card_no`` row-locked, as ``principal`` may act on it: a card bureau its own
    province's cards; a desk any region card, naming the holder's ``certno`` too (a mismatch is
    404 like an unknown card); a cardholder own cards. Anything else → 404."""
    card = Card.objects.select_for_update().filter(card_no_bidx=card_no_index(card_no.upper())).first()
    role, admdvs = principal.role, principal.admdvs or ""
    if card is None:
        raise NotFound("No such card.")
    if role == "card_bureau" and admdvs[:2] == card.issuer_province[:2]:
        if certno and card.certno_bidx != _certno_bidx(certno):
            raise NotFound("No such card.")
        return card
    if role == "card_desk" and certno and card.certno_bidx == _certno_bidx(certno):
        return card
    if role == "cardholder" and card.certno_bidx == holder_certno_bidx(principal):
        return card
    raise NotFound("No such card.")


def holder_certno_bidx(principal: Any) -> str | None:
    """The blind index of a cardholder principal's ``certno``: its login's (a card-only holder has
    no person), else its person's."""
    holder = getattr(principal, "holder", None)
    if holder is not None:
        return holder.certno_bidx
    person = getattr(principal, "person", None)
    return getattr(person, "certno_bidx", None)


def _certno_bidx(certno: str) -> str:
    from accounts.certno import InvalidCertno, normalize_certno

    try:
        return certno_index(normalize_certno(certno))
    except InvalidCertno:
        return ""


def card_status_request(
    *,
    principal: Any,
    card_no: str,
    to: str,
    reason: str,
    reference: str,
    certno: str | None,
    card_sn: str | None,
) -> MoveResult:
    """``POST /api/v1/cards/{card_no}/status``: one move, idempotent on ``reference``."""
    if to not in CardStatus.values or to == CardStatus.APPLIED:
        raise Invalid([field_error("to", "invalid", "issued, active, temp_lost, lost or cancelled")])
    if to == CardStatus.ISSUED and (not card_sn or not CARD_SN_RE.match(card_sn)):
        raise Invalid([field_error("card_sn", "required", "32 characters 0-9 A-Z a-z")])
    if principal.role == "card_desk" and not certno:
        raise Invalid([field_error("certno", "required", "a desk names the holder's certno")])
    if principal.role == "cardholder" and to != CardStatus.TEMP_LOST:
        raise Invalid([field_error("to", "invalid", "a cardholder reports a temporary loss only")])
    with transaction.atomic():
        card = card_locked_for(principal, card_no, certno)
        replay = status_replay(card, to, reason, reference)
        if replay is not None:
            return MoveResult(card, False, replay.list_version or 0, replay.at)
        if (
            to == CardStatus.ISSUED
            and card_sn is not None
            and Card.objects.filter(card_ref=card_ref_of(card_sn)).exclude(pk=card.pk).exists()
        ):
            raise Conflict("card_sn_locked", "this card_sn belongs to another card", field="card_sn")
        tx = CardTransaction()
        moved = card_status_move(
            tx,
            card,
            to,
            actor=actor_for(principal, card),
            reason=reason,
            reference=reference,
            card_sn=card_sn,
        )
        tx.finish()
        if moved:
            audit_principal(
                principal,
                "card_status",
                "card",
                str(card.pk),
                {"to": to, "list_version": tx.version.version if tx.version else None},
            )
        return MoveResult(card, moved, tx.list_version(), tx.at if moved else None)


def _fingerprint(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def card_replace(*, principal: Any, card_no: str, data: dict[str, Any]) -> tuple[CardReplacement, bool]:
    """补换: in one transaction the old card moves (via ``lost`` when ``reason`` is ``lost``) to
    ``cancelled`` (history reason ``replaced``), the new card is created ``active`` with the same
    issuer, generation 3, ``valid_until`` = issue date + 10 years − 1 day, and one deny-list
    version lists the old card ``cancelled``. Idempotent on ``reference``; ``409 card_no_taken``.
    Returns (replacement, created)."""
    new_no = str(data.get("new_card_no") or "").upper()
    new_sn = str(data.get("new_card_sn") or "")
    reason = str(data.get("reason") or "")
    reference = str(data.get("reference") or "")
    certno = data.get("certno")
    errs = []
    if not CARD_NO_RE.match(new_no):
        errs.append(field_error("new_card_no", "invalid", "9 characters A-Z 0-9"))
    if not CARD_SN_RE.match(new_sn):
        errs.append(field_error("new_card_sn", "invalid", "32 characters 0-9 A-Z a-z"))
    if reason not in REASONS:
        errs.append(field_error("reason", "invalid", " | ".join(REASONS)))
    if not reference or len(reference) > 64:
        errs.append(field_error("reference", "required", "1 to 64 characters"))
    if principal.role == "card_desk" and not certno:
        errs.append(field_error("certno", "required", "a desk names the holder's certno"))
    if errs:
        raise Invalid(errs)
    fp = _fingerprint({"card_no": card_no.upper(), "new": new_no, "sn": new_sn.upper(), "reason": reason})
    with transaction.atomic():
        prior = (
            CardReplacement.objects.filter(reference=reference).select_related("old_card", "new_card").first()
        )
        if prior is not None:
            if prior.fingerprint != fp:
                raise Conflict(
                    "reference_conflict", "this reference was used for another replacement", field="reference"
                )
            return prior, False
        old = card_locked_for(principal, card_no, certno)
        if Card.objects.filter(card_no_bidx=card_no_index(new_no)).exists():
            raise Conflict("card_no_taken", "new_card_no is already registered", field="new_card_no")
        if Card.objects.filter(card_ref=card_ref_of(new_sn)).exists():
            raise Conflict("card_sn_locked", "new_card_sn belongs to another card", field="new_card_sn")
        who = actor_for(principal, old)
        mover = Actor("replacement", who.actor, who.role, who.admdvs)
        tx = CardTransaction()
        if reason == "lost" and old.card_stas != CardStatus.LOST:
            card_status_move(tx, old, CardStatus.LOST, actor=mover, reason="lost", reference=reference)
        card_status_move(tx, old, CardStatus.CANCELLED, actor=mover, reason="replaced", reference=reference)
        today = timezone.localdate(tx.at)
        handled = principal.admdvs if principal.role == "card_desk" else ""
        new = Card.objects.create(
            card_no_enc=encrypt(new_no),
            card_no_bidx=card_no_index(new_no),
            certno_enc=old.certno_enc,
            certno_bidx=old.certno_bidx,
            psn_name_enc=encrypt(decrypt(old.psn_name_enc)),
            birth_date=old.birth_date,
            issuer_admdvs=old.issuer_admdvs,
            issuer_province=old.issuer_province,
            card_gen="3",
            issue_date=today,
            valid_until=ten_years_less_a_day(today),
            card_stas=CardStatus.ACTIVE,
            handled_admdvs=handled,
            created_at=tx.at,
            updated_at=tx.at,
            **card_sn_fields(new_sn),
        )
        tx.rows.append(
            CardStatusChange.objects.create(
                card=new,
                from_stas="",
                to_stas=CardStatus.ACTIVE,
                at=tx.at,
                actor=who.actor,
                role=who.role,
                actor_admdvs=who.admdvs,
                reason=f"replacement:{reason}",
                reference=reference,
            )
        )
        tx.note(new, None, list_entry(new, today), tx.at)
        version = tx.finish()
        rep = CardReplacement.objects.create(
            reference=reference,
            old_card=old,
            new_card=new,
            reason=reason,
            handled_admdvs=handled or old.issuer_admdvs,
            list_version=version.version if version else tx.list_version(),
            fingerprint=fp,
            created_at=tx.at,
        )
        audit_principal(
            principal,
            "card_replace",
            "card",
            str(old.pk),
            {"new_card": new.pk, "reason": reason, "list_version": rep.list_version},
        )
    return rep, True
