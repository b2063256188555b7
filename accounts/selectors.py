"""Reads of accounts data."""
from __future__ import annotations

from django.db.models import QuerySet

from accounts.certno import InvalidCertno, normalize_certno
from accounts.models import Filing, Person
from accounts.regions import province_of
from core.audit import audit_principal
from core.crypto import blind_index, decrypt
from core.errors import DomainError, NotFound
from core.permissions import province_scope
from core.principals import Principal


def person_by_credential(*, cert_type: str, cert_no: str, card_sn: str | None = None) -> Person:
    """The person behind a desk credential (spec/README.md: ``mdtrt_cert_type``).

    ``02`` ID card → ``cert_no`` is a ``certno`` (normalised here: GB 11643); ``03`` social-security card →
    ``cert_no`` is the card number and ``card_sn`` must match. Raises ``422 unsupported_cert_type``
    for ``01`` (e-voucher) and ``422 unknown_person`` when nothing matches.
    """
    if cert_type == "01":
        raise DomainError("unsupported_cert_type",
                          "E-vouchers (01) are not supported until an issuer is connected.")
    if cert_type == "02":
        try:  # lower-case x, full-width digits, 15-digit legacy numbers find the same person
            cert_no = normalize_certno(cert_no)
        except InvalidCertno:
            pass  # not a valid number: matches nobody (the caller validates formats first)
        person = Person.objects.filter(certno_bidx=blind_index(cert_no, purpose="certno")).first()
    elif cert_type == "03":
        person = Person.objects.filter(card_no_bidx=blind_index(cert_no, purpose="card_no")).first()
        if person is not None and (not card_sn or decrypt(person.card_sn_enc) != card_sn):
            person = None
    else:
        raise DomainError("unsupported_cert_type", f"mdtrt_cert_type {cert_type!r} is not supported.")
    if person is None:
        raise DomainError("unknown_person", "No insured person matches this credential.")
    return person


def person_certno(person: Person) -> str:
    return decrypt(person.certno_enc) or ""


def person_name(person: Person) -> str:
    return decrypt(person.psn_name_enc) or ""


def _in_scope(person: Person | None, principal: Principal) -> bool:
    scope = province_scope(principal)
    return person is not None and (scope is None or person.province == province_of(scope))


def person_for_staff(*, psn_no: str, principal: Principal, audit_action: str = "person_read") -> Person:
    """The person ``psn_no`` if the caller may see it (bureau of the person's province, or clearing
    staff); else ``404 not_found`` (never revealing that it exists). Audited as a person lookup
    (spec/security.md §Audit) unless ``audit_action`` is empty."""
    person = Person.objects.filter(psn_no=psn_no).first()
    if not _in_scope(person, principal):
        raise NotFound("No such person.")
    if audit_action:
        audit_principal(principal, audit_action, "person", person.psn_no)
    return person


def filings_of_person(*, person: Person) -> QuerySet[Filing]:
    """All filings of ``person`` (revoked ones included, with ``revoked_at``), by ``begndate``, id."""
    return Filing.objects.filter(person=person).order_by("begndate", "id")
