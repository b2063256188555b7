"""The card status machine (spec/cards.md §Status machine): one transitions table, one function
that moves a status (:func:`card_status_move`), history rows, and the deny-list version issued
in the same transaction as every move that changes list membership or reason.

Moves happen inside a :class:`CardTransaction`: it notes each listed card's entry before and
after, and on :meth:`CardTransaction.finish` issues **one** version for all the transaction's
changes (C5: a replacement moves the old card through ``lost`` to ``cancelled`` and issues one
version), then stamps that version on the transaction's history rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from cards.models import LISTED, Card, CardStatus, CardStatusChange, DenyListVersion
from cards.services.denylist import Change, deny_list_version_issue, latest_version
from core.errors import Conflict, Forbidden

S = CardStatus
# who may make each move: "issuer" = the card bureau of the card's issuer province, "desk" = a
# service desk anywhere in the region, "cardholder" = the card's own holder, "service" = the
# lapse of a temporary loss, "replacement" = a replacement (issuer bureau or desk) cancelling
TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    ("", S.APPLIED): frozenset({"issuer", "desk"}),
    (S.APPLIED, S.ISSUED): frozenset({"issuer"}),
    (S.ISSUED, S.ACTIVE): frozenset({"issuer", "desk"}),
    (S.ACTIVE, S.TEMP_LOST): frozenset({"cardholder", "issuer", "desk"}),
    (S.TEMP_LOST, S.ACTIVE): frozenset({"issuer", "desk", "service"}),
    (S.ACTIVE, S.LOST): frozenset({"issuer", "desk", "replacement"}),
    (S.TEMP_LOST, S.LOST): frozenset({"issuer", "desk", "replacement"}),
    (S.ACTIVE, S.CANCELLED): frozenset({"issuer", "replacement"}),
    (S.TEMP_LOST, S.CANCELLED): frozenset({"issuer", "replacement"}),
    (S.LOST, S.CANCELLED): frozenset({"issuer", "replacement"}),
    (S.APPLIED, S.CANCELLED): frozenset({"issuer"}),
    (S.ISSUED, S.CANCELLED): frozenset({"issuer"}),
}


@dataclass(frozen=True)
class Actor:
    """Who moves a status: ``kind`` (a key of :data:`TRANSITIONS`' sets), the audit actor id and
    role, and the ``admdvs`` where they act (a desk's, recorded as ``handled_admdvs``)."""

    kind: str
    actor: str
    role: str
    admdvs: str = ""


SERVICE = Actor(kind="service", actor="kuasheng", role="system")


def actor_for(principal: object, card: Card) -> Actor:
    """The :class:`Actor` kind of ``principal`` on ``card``: a card bureau of another province
    acts on nothing (the API already answered 404), a desk anywhere, the holder on own cards."""
    role = getattr(principal, "role", "")
    admdvs = getattr(principal, "admdvs", None) or ""
    actor = getattr(principal, "actor", "")
    if role == "card_bureau" and admdvs[:2] == card.issuer_province[:2]:
        return Actor("issuer", actor, role, admdvs)
    if role == "card_desk":
        return Actor("desk", actor, role, admdvs)
    if role == "cardholder":
        return Actor("cardholder", actor, role, "")
    raise Forbidden("Your role may not change this card's status.")


def temp_loss_ttl(issuer_province: str) -> dt.timedelta:
    """``CARD_TEMP_LOSS_TTL_DAYS`` (default 7), per issuer province in
    ``CARD_TEMP_LOSS_TTL_DAYS_BY_PROVINCE`` (spec/cards.md: local practice varies 5–15 days)."""
    by_province = getattr(settings, "CARD_TEMP_LOSS_TTL_DAYS_BY_PROVINCE", {}) or {}
    days = by_province.get(issuer_province, getattr(settings, "CARD_TEMP_LOSS_TTL_DAYS", 7))
    return dt.timedelta(days=int(days))


def list_entry(card: Card, on: dt.date) -> str | None:
    """The deny-list reason of ``card`` (its status) when it is listed on day ``on``: it has a
    ``card_sn``, a listed status, and its ``valid_until`` has not passed; else ``None``."""
    if card.card_ref is None or card.card_stas not in LISTED:
        return None
    if card.valid_until is not None and card.valid_until < on:
        return None
    return card.card_stas


@dataclass
class CardTransaction:
    """The deny-list bookkeeping of one database transaction of status moves (use inside
    ``transaction.atomic``; call :meth:`finish` before it commits)."""

    at: dt.datetime = field(default_factory=lambda: timezone.now().replace(microsecond=0))
    before: dict[str, tuple[str | None, object]] = field(default_factory=dict)
    after: dict[str, tuple[str | None, dt.datetime | None]] = field(default_factory=dict)
    rows: list[CardStatusChange] = field(default_factory=list)
    version: DenyListVersion | None = None

    def note(self, card: Card, before: str | None, after: str | None, since: dt.datetime) -> None:
        if card.card_ref is None:
            return
        self.before.setdefault(card.card_ref, (before, None))
        self.after[card.card_ref] = (after, since if after is not None else None)

    def finish(self) -> DenyListVersion | None:
        """Issue one version for every entry this transaction changed (none when nothing did)
        and record it on the history rows. Returns the version, or ``None``."""
        changes = []
        for ref, (reason, since) in sorted(self.after.items()):
            if self.before[ref][0] == reason:
                continue
            if reason is None:
                changes.append(Change(ref, "remove"))
            else:
                changes.append(Change(ref, "add", reason, since))
        if changes:
            self.version = deny_list_version_issue(changes=changes, at=self.at)
            CardStatusChange.objects.filter(pk__in=[r.pk for r in self.rows]).update(
                list_version=self.version.version
            )
            for r in self.rows:
                r.list_version = self.version.version
        return self.version

    def list_version(self) -> int:
        """The version in force after this transaction (its own, else the latest)."""
        return self.version.version if self.version is not None else latest_version().version


def status_replay(card: Card, to: str, reason: str, reference: str) -> CardStatusChange | None:
    """The recorded move of ``reference`` on ``card`` (idempotency of the status endpoints);
    the same reference with another target or reason → ``409 reference_conflict``."""
    if not reference:
        return None
    last = CardStatusChange.objects.filter(card=card, reference=reference).order_by("at", "id").last()
    if last is None:
        return None
    if last.to_stas != to or (reason and last.reason != reason):
        raise Conflict("reference_conflict", "this reference was used for another move", field="reference")
    return last


def card_status_move(
    tx: CardTransaction,
    card: Card,
    to: str,
    *,
    actor: Actor,
    reason: str = "",
    reference: str = "",
    at: dt.datetime | None = None,
    card_sn: str | None = None,
) -> bool:
    """Move ``card`` (row-locked by the caller) to ``to``: the one place ``card_stas`` changes.

    Returns ``True`` when the card moved, ``False`` for a move to the state the card is already
    in (``200``, unchanged); callers check a replayed ``reference`` first (:func:`status_replay`).
    Raises ``409
    formal_loss_irreversible`` (lost → active), ``409 invalid_transition`` (with ``from``/``to``)
    for any other move outside :data:`TRANSITIONS`, ``403`` when ``actor`` may not make it,
    ``409 reference_conflict``. ``at`` dates the history row (a lapse: ``temp_loss_expires_at``).
    """
    if card.card_stas == to:
        return False
    frm = card.card_stas
    allowed = TRANSITIONS.get((frm, to))
    if allowed is None:
        if (frm, to) == (S.LOST, S.ACTIVE):
            raise Conflict("formal_loss_irreversible", "a formal loss cannot be undone")
        raise Conflict("invalid_transition", f"{frm} → {to} is not allowed", extra={"from": frm, "to": to})
    if actor.kind not in allowed:
        raise Forbidden(f"{actor.role or actor.kind} may not move a card {frm} → {to}")
    at = (at or tx.at).replace(microsecond=0)
    before = list_entry(card, timezone.localdate(tx.at))
    fields = {"card_stas": to, "updated_at": tx.at}
    if to == S.TEMP_LOST:
        fields["temp_loss_expires_at"] = at + temp_loss_ttl(card.issuer_province)
    elif frm == S.TEMP_LOST:
        fields["temp_loss_expires_at"] = None
    if to == S.ISSUED and card_sn is not None:
        from cards.services.registry import card_sn_fields

        fields |= card_sn_fields(card_sn)
    Card.objects.filter(pk=card.pk).update(**fields)
    for k, v in fields.items():
        setattr(card, k, v)
    row = CardStatusChange.objects.create(
        card=card,
        from_stas=frm,
        to_stas=to,
        at=at,
        actor=actor.actor[:150],
        role=actor.role,
        actor_admdvs=actor.admdvs,
        reason=reason[:40],
        reference=reference,
    )
    tx.rows.append(row)
    tx.note(card, before, list_entry(card, timezone.localdate(tx.at)), at)
    return True
