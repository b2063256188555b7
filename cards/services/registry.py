"""The card registry's writes (spec/cards.md §Card registry): uploads (``cards.csv``), cross-
province applications, and the fields derived from ``card_no``, ``card_sn`` and ``certno``.

Upsert on ``card_no`` (its blind index). A new row may carry any ``card_stas`` (go-live; history
reason ``opening``); a later upload never changes ``card_stas`` (``card_stas_locked``) nor a
recorded ``card_sn`` (``card_sn_locked``). Row codes: ``wrong_province``, ``invalid_certno``,
``card_no_taken``, ``duplicate_live_card``, ``card_stas_locked``, ``card_sn_locked`` and the
field checks of :mod:`accounts.services._rows`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.certno import InvalidCertno, birth_date_of, normalize_certno
from accounts.services._rows import RowError, choice, date, text
from cards.models import Card, CardStatus, CardStatusChange
from cards.services.status import CardTransaction, list_entry
from core.audit import audit_principal
from core.crypto import blind_index, encrypt
from core.errors import Conflict, DomainError, Invalid, field_error
from core.imports import ImportResult

REGION = ("310000", "320000", "330000", "340000")  # the YRD provinces (长三角)
CARD_NO_RE = re.compile(r"^[A-Z0-9]{9}$")
CARD_SN_RE = re.compile(r"^[0-9A-Za-z]{32}$")
ADMDVS_RE = re.compile(r"^\d{6}$")
ROW_HASH_PURPOSE = "card_row"


def card_no_index(card_no: str) -> str:
    """Blind index of a card number (the same HMAC as ``accounts.Person.card_no_bidx``)."""
    return blind_index(card_no, purpose="card_no")


def certno_index(certno: str) -> str:
    return blind_index(certno, purpose="certno")


def card_ref_of(card_sn: str) -> str:
    """``card_ref``: lowercase hex SHA-256 of the upper-case ASCII ``card_sn``."""
    return hashlib.sha256(card_sn.upper().encode("ascii")).hexdigest()


def card_sn_fields(card_sn: str) -> dict[str, Any]:
    """The stored fields of a ``card_sn`` (upper-cased): encrypted value and ``card_ref``."""
    sn = card_sn.upper()
    return {"card_sn_enc": encrypt(sn), "card_ref": card_ref_of(sn)}


def mask_card_no(card_no: str) -> str:
    """First 3 and last 2 characters around ``****`` (``A34****01``)."""
    return f"{card_no[:3]}****{card_no[-2:]}"


def in_region(admdvs: str) -> bool:
    return admdvs[:2] + "0000" in REGION


def ten_years_less_a_day(issue: dt.date) -> dt.date:
    """``valid_until`` of a replacement: issue date + 10 years − 1 day; 29 Feb counts 10 years to
    28 Feb (spec/cards.md §Status machine)."""
    try:
        end = issue.replace(year=issue.year + 10)
    except ValueError:  # 29 Feb → 28 Feb ten years later
        end = issue.replace(year=issue.year + 10, day=28)
    return end - dt.timedelta(days=1)


@dataclass(frozen=True)
class CardRow:
    card_no: str
    card_sn: str
    certno: str
    psn_name: str
    issuer_admdvs: str
    card_gen: str
    issue_date: dt.date | None
    valid_until: dt.date | None
    card_stas: str

    def content_hash(self) -> str:
        fields = (
            self.card_no,
            self.card_sn,
            self.certno,
            self.psn_name,
            self.issuer_admdvs,
            self.card_gen,
            str(self.issue_date),
            str(self.valid_until),
        )
        return blind_index(json.dumps(fields, ensure_ascii=False), purpose=ROW_HASH_PURPOSE)


def card_row_clean(row: dict[str, str], *, province: str | None) -> CardRow:
    """Validate one ``cards.csv`` row; raises ``RowError(field, code)``."""
    card_no = text(row, "card_no", max_length=9).upper()
    if not CARD_NO_RE.match(card_no):
        raise RowError("card_no", "invalid")
    card_sn = text(row, "card_sn", required=False, max_length=32).upper()
    if card_sn and not CARD_SN_RE.match(card_sn):
        raise RowError("card_sn", "invalid")
    try:
        certno = normalize_certno(text(row, "certno", max_length=50))
    except InvalidCertno:
        raise RowError("certno", "invalid_certno") from None
    name = text(row, "psn_name", max_length=50)
    issuer = text(row, "issuer_admdvs", max_length=6)
    if not ADMDVS_RE.match(issuer) or not in_region(issuer):
        raise RowError("issuer_admdvs", "invalid_admdvs")
    if province is not None and issuer[:2] != province[:2]:
        raise RowError("issuer_admdvs", "wrong_province")
    gen = choice(row, "card_gen", ("2", "3"), default="3")
    stas = choice(row, "card_stas", tuple(CardStatus.values), default=CardStatus.ACTIVE)
    if stas != CardStatus.APPLIED and not card_sn:
        raise RowError("card_sn", "required")
    return CardRow(
        card_no,
        card_sn,
        certno,
        name,
        issuer,
        gen,
        date(row, "issue_date", required=False),
        date(row, "valid_until", required=False),
        stas,
    )


def _create(r: CardRow, principal: Any, now: dt.datetime, tx: CardTransaction) -> Card:
    card = Card.objects.create(
        card_no_enc=encrypt(r.card_no),
        card_no_bidx=card_no_index(r.card_no),
        certno_enc=encrypt(r.certno),
        certno_bidx=certno_index(r.certno),
        psn_name_enc=encrypt(r.psn_name),
        birth_date=birth_date_of(r.certno),
        issuer_admdvs=r.issuer_admdvs,
        issuer_province=r.issuer_admdvs[:2] + "0000",
        card_gen=r.card_gen,
        issue_date=r.issue_date,
        valid_until=r.valid_until,
        card_stas=r.card_stas,
        content_hash=r.content_hash(),
        created_at=now,
        updated_at=now,
        **(card_sn_fields(r.card_sn) if r.card_sn else {}),
    )
    row = CardStatusChange.objects.create(
        card=card,
        from_stas="",
        to_stas=r.card_stas,
        at=now,
        actor=getattr(principal, "actor", "system"),
        role=getattr(principal, "role", "system"),
        actor_admdvs=getattr(principal, "admdvs", None) or "",
        reason="opening",
    )
    tx.rows.append(row)
    tx.note(card, None, list_entry(card, timezone.localdate(now)), now)
    return card


def _update(card: Card, r: CardRow, now: dt.datetime) -> str:
    """``"unchanged"``/``"updated"``, or raises ``RowError`` for a locked field."""
    if r.card_stas != card.card_stas:
        raise RowError("card_stas", "card_stas_locked")
    if card.card_ref is not None and r.card_sn and card_ref_of(r.card_sn) != card.card_ref:
        raise RowError("card_sn", "card_sn_locked")
    if card.issuer_province != r.issuer_admdvs[:2] + "0000":
        raise RowError("issuer_admdvs", "wrong_province")
    digest = r.content_hash()
    if digest == card.content_hash:
        return "unchanged"
    fields = {
        "certno_enc": encrypt(r.certno),
        "certno_bidx": certno_index(r.certno),
        "psn_name_enc": encrypt(r.psn_name),
        "birth_date": birth_date_of(r.certno),
        "issuer_admdvs": r.issuer_admdvs,
        "card_gen": r.card_gen,
        "issue_date": r.issue_date,
        "valid_until": r.valid_until,
        "content_hash": digest,
        "updated_at": now,
    }
    if card.card_ref is None and r.card_sn:
        fields |= card_sn_fields(r.card_sn)
    Card.objects.filter(pk=card.pk).update(**fields)
    return "updated"


def cards_import(*, rows: list[dict[str, str]], province: str | None, principal: Any) -> ImportResult:
    """Upsert ``cards.csv`` rows of ``province`` (``None``: any region province, for
    ``import_reference``). Each row in its own savepoint; one deny-list version for the upload
    when new rows are listed."""
    result = ImportResult()
    now = timezone.now().replace(microsecond=0)
    with transaction.atomic():
        tx = CardTransaction(at=now)
        for i, raw in enumerate(rows, start=1):
            result.received += 1
            try:
                r = card_row_clean(raw, province=province)
                card = Card.objects.select_for_update().filter(card_no_bidx=card_no_index(r.card_no)).first()
                if card is None:
                    live = Card.objects.filter(
                        certno_bidx=certno_index(r.certno), issuer_province=r.issuer_admdvs[:2] + "0000"
                    ).exclude(card_stas=CardStatus.CANCELLED)
                    if r.card_stas != CardStatus.CANCELLED and live.exists():
                        raise RowError("certno", "duplicate_live_card")
                    if r.card_sn and Card.objects.filter(card_ref=card_ref_of(r.card_sn)).exists():
                        raise RowError("card_sn", "card_sn_locked")
                    with transaction.atomic():
                        _create(r, principal, now, tx)
                    result.created += 1
                elif _update(card, r, now) == "updated":
                    result.updated += 1
                else:
                    result.unchanged += 1
            except RowError as e:
                result.reject(i, e.field, e.code)
            except IntegrityError:
                result.reject(i, "card_no", "card_no_taken")
        tx.finish()
        if result.created or result.updated:
            audit_principal(
                principal,
                "cards_import",
                "card_upload",
                province or "all",
                {"created": result.created, "updated": result.updated},
            )
    return result


def card_apply(*, data: dict[str, Any], principal: Any) -> tuple[Card, bool]:
    """Cross-province application (跨省申领): a generation-3 card in ``applied`` with no
    ``card_sn``; idempotent on ``reference`` (same reference, other content → ``409
    reference_conflict``). A card bureau applies for its own province's cards only; a desk for
    any region issuer. Returns (card, created)."""
    from cards.services.status import actor_for  # noqa: F401 - the same role rules as moves

    errs = []
    card_no = str(data.get("card_no") or "").strip().upper()
    if not CARD_NO_RE.match(card_no):
        errs.append(field_error("card_no", "invalid", "9 characters A-Z 0-9"))
    try:
        certno = normalize_certno(str(data.get("certno") or ""))
    except InvalidCertno:
        certno = ""
        errs.append(field_error("certno", "invalid_certno", "not a valid GB 11643 number"))
    name = str(data.get("psn_name") or "").strip()
    if not name or len(name) > 50:
        errs.append(field_error("psn_name", "invalid", "1 to 50 characters"))
    issuer = str(data.get("issuer_admdvs") or "")
    if not ADMDVS_RE.match(issuer) or not in_region(issuer):
        errs.append(field_error("issuer_admdvs", "invalid", "a region (YRD) code"))
    reference = str(data.get("reference") or "").strip()
    if not reference or len(reference) > 64:
        errs.append(field_error("reference", "required", "1 to 64 characters"))
    if errs:
        raise Invalid(errs)
    role, admdvs = principal.role, principal.admdvs or ""
    if role == "card_bureau" and admdvs[:2] != issuer[:2]:
        raise DomainError("wrong_province", "a card bureau applies for its own province's cards", status=403)
    now = timezone.now().replace(microsecond=0)
    with transaction.atomic():
        prior = Card.objects.filter(application_reference=reference).first()
        if prior is not None:
            if prior.card_no_bidx != card_no_index(card_no) or prior.certno_bidx != certno_index(certno):
                raise Conflict(
                    "reference_conflict", "this reference was used for another application", field="reference"
                )
            return prior, False
        if Card.objects.filter(card_no_bidx=card_no_index(card_no)).exists():
            raise Conflict("card_no_taken", "this card number is already registered", field="card_no")
        if (
            Card.objects.filter(certno_bidx=certno_index(certno), issuer_province=issuer[:2] + "0000")
            .exclude(card_stas=CardStatus.CANCELLED)
            .exists()
        ):
            raise Conflict(
                "duplicate_live_card", "this person already holds a card of this province", field="certno"
            )
        tx = CardTransaction(at=now)
        row = CardRow(card_no, "", certno, name, issuer, "3", None, None, CardStatus.APPLIED)
        card = _create(row, principal, now, tx)
        Card.objects.filter(pk=card.pk).update(
            application_reference=reference, handled_admdvs=admdvs if role == "card_desk" else ""
        )
        CardStatusChange.objects.filter(card=card).update(reason="application", reference=reference)
        tx.finish()
        audit_principal(principal, "card_apply", "card", str(card.pk), {"issuer_admdvs": issuer})
    card.refresh_from_db()
    return card, True
