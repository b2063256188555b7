"""Insured persons upload (spec/bureau-api.md §Reference data; spec/security.md §Personal data at rest).

Upsert on ``psn_no``; ``certno`` normalised (GB 11643, :mod:`accounts.certno`); personal fields
stored encrypted with blind indexes; ``acct_balc`` is the **opening** balance, set only when the
person is created. Counts are honest: a row equal to the last upload of that person (compared by a
keyed hash kept in ``Person.content_hash``) counts ``unchanged`` and writes nothing.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.certno import InvalidCertno, birth_date_of, normalize_certno
from accounts.models import Person
from accounts.services._rows import RowError, admdvs, choice, date, known_provinces, text
from core.audit import audit_principal
from core.crypto import blind_index, encrypt
from core.errors import Conflict
from core.imports import ImportResult
from core.money import parse_money

CHUNK = 2000
ROW_HASH_PURPOSE = "person_row"
UPDATE_FIELDS = ["psn_cert_type", "certno_enc", "certno_bidx", "psn_name_enc", "gend", "brdy", "insutype",
                 "insuplc_admdvs", "psn_insu_stas", "card_no_enc", "card_no_bidx", "card_sn_enc",
                 "content_hash", "updated_at"]


@dataclass(frozen=True)
class PersonRow:
    """One validated, normalised upload row (plain values; ``opening`` in yuan)."""

    psn_no: str
    psn_cert_type: str
    certno: str
    psn_name: str
    gend: str
    brdy: str
    insutype: str
    insuplc_admdvs: str
    psn_insu_stas: str
    card_no: str
    card_sn: str
    opening: Decimal

    def content_hash(self) -> str:
        """Keyed hash of everything an upload may change (not the opening balance)."""
        fields = (self.psn_no, self.psn_cert_type, self.certno, self.psn_name, self.gend, self.brdy,
                  self.insutype, self.insuplc_admdvs, self.psn_insu_stas, self.card_no, self.card_sn)
        return blind_index(json.dumps(fields, ensure_ascii=False), purpose=ROW_HASH_PURPOSE)


def person_row_clean(row: dict[str, str], *, provinces: frozenset[str], province: str | None) -> PersonRow:
    """Validate and normalise one ``persons.csv`` row. Raises ``RowError(field, code)`` with codes
    ``required``, ``too_long``, ``invalid_certno``, ``invalid_choice``, ``invalid_date``,
    ``invalid_admdvs``, ``unknown_region``, ``wrong_province``, ``invalid_money``."""
    psn_no = text(row, "psn_no", max_length=30)
    cert_type = text(row, "psn_cert_type", required=False, max_length=2) or "01"
    raw_certno = text(row, "certno", max_length=50)
    if cert_type == "01":
        try:
            certno = normalize_certno(raw_certno)
        except InvalidCertno:
            raise RowError("certno", "invalid_certno") from None
    else:
        certno = raw_certno.upper()
    name = text(row, "psn_name", max_length=50)
    gend = choice(row, "gend", ("0", "1", "2", "9"), default="")
    brdy = date(row, "brdy", required=False)
    if brdy is None and cert_type == "01":
        brdy = birth_date_of(certno)
    insutype = choice(row, "insutype", ("310", "390"))
    insuplc = admdvs(row, "insuplc_admdvs", provinces, province)
    stas = choice(row, "psn_insu_stas", tuple(Person.InsuStatus.values), default="1")
    card_no = text(row, "card_no", required=False, max_length=50)
    card_sn = text(row, "card_sn", required=False, max_length=64)
    try:
        opening = parse_money(text(row, "acct_balc", required=False) or "0.00")
    except ValueError:
        raise RowError("acct_balc", "invalid_money") from None
    return PersonRow(psn_no, cert_type, certno, name, gend, brdy.isoformat() if brdy else "", insutype,
                     insuplc, stas, card_no, card_sn, opening)


def _apply(person: Person, r: PersonRow, digest: str) -> None:
    person.psn_cert_type = r.psn_cert_type
    person.certno_enc = encrypt(r.certno)
    person.certno_bidx = blind_index(r.certno, purpose="certno")
    person.psn_name_enc = encrypt(r.psn_name)
    person.gend = r.gend
    person.brdy = r.brdy or None
    person.insutype = r.insutype
    person.insuplc_admdvs = r.insuplc_admdvs
    person.psn_insu_stas = r.psn_insu_stas
    person.card_no_enc = encrypt(r.card_no) if r.card_no else None
    person.card_no_bidx = blind_index(r.card_no, purpose="card_no") if r.card_no else None
    person.card_sn_enc = encrypt(r.card_sn) if r.card_sn else None
    person.content_hash = digest


def persons_import(*, rows: list[dict[str, str]], province: str | None, principal: Any) -> ImportResult:
    """Upsert persons on ``psn_no`` (columns of ``persons.csv``). ``province`` (a bureau's province
    code, ``None`` = any) rejects rows of other provinces with ``insuplc_admdvs wrong_province`` and
    rows whose ``psn_no`` belongs to another province with ``psn_no wrong_province``. A ``certno``
    or ``card_no`` already held by another ``psn_no`` → ``duplicate_certno`` / ``duplicate_card_no``.
    One transaction; audited as ``persons_import`` with the counts. Raises ``409 concurrent_upload``
    if a concurrent upload created the same person first."""
    result = ImportResult(received=len(rows))
    provinces = known_provinces()
    clean: list[tuple[int, PersonRow]] = []
    for n, row in enumerate(rows, start=1):
        try:
            clean.append((n, person_row_clean(row, provinces=provinces, province=province)))
        except RowError as e:
            result.reject(n, e.field, e.code)
    try:
        with transaction.atomic():
            for start in range(0, len(clean), CHUNK):
                _import_chunk(clean[start:start + CHUNK], province, result)
            result.rejected.sort(key=lambda r: r["row"])
            audit_principal(principal, "persons_import", "upload", province or "all", detail={
                "received": result.received, "created": result.created, "updated": result.updated,
                "unchanged": result.unchanged, "rejected": len(result.rejected)})
    except IntegrityError:
        raise Conflict("concurrent_upload", "Another upload changed the same persons; retry.") from None
    return result


def _import_chunk(chunk: list[tuple[int, PersonRow]], province: str | None, result: ImportResult) -> None:
    existing = {p.psn_no: p for p in Person.objects.filter(psn_no__in=[r.psn_no for _, r in chunk])}
    cert_bidx = {r.certno: blind_index(r.certno, purpose="certno") for _, r in chunk}
    card_bidx = {r.card_no: blind_index(r.card_no, purpose="card_no") for _, r in chunk if r.card_no}
    cert_owner = dict(Person.objects.filter(certno_bidx__in=cert_bidx.values())
                      .values_list("certno_bidx", "psn_no"))
    card_owner = dict(Person.objects.filter(card_no_bidx__in=card_bidx.values())
                      .values_list("card_no_bidx", "psn_no"))
    new: dict[str, Person] = {}
    changed: dict[str, Person] = {}
    now = timezone.now()
    for n, r in chunk:
        person = existing.get(r.psn_no)
        if person is not None and province is not None and person.province != province:
            result.reject(n, "psn_no", "wrong_province")
            continue
        if cert_owner.setdefault(cert_bidx[r.certno], r.psn_no) != r.psn_no:
            result.reject(n, "certno", "duplicate_certno")
            continue
        if r.card_no and card_owner.setdefault(card_bidx[r.card_no], r.psn_no) != r.psn_no:
            result.reject(n, "card_no", "duplicate_card_no")
            continue
        digest = r.content_hash()
        if person is None:
            person = Person(psn_no=r.psn_no, acct_balance=r.opening)
            _apply(person, r, digest)
            existing[r.psn_no] = new[r.psn_no] = person
            result.created += 1
        elif person.content_hash == digest:
            result.unchanged += 1
        else:
            _apply(person, r, digest)
            person.updated_at = now
            if r.psn_no not in new:
                changed[r.psn_no] = person
            result.updated += 1
    Person.objects.bulk_create(list(new.values()), batch_size=1000)
    if changed:
        Person.objects.bulk_update(list(changed.values()), UPDATE_FIELDS, batch_size=1000)
