"""Reads of accounts data."""
from __future__ import annotations

from accounts.models import Person
from core.crypto import blind_index, decrypt
from core.errors import DomainError


def person_by_credential(*, cert_type: str, cert_no: str, card_sn: str | None = None) -> Person:
    """The person behind a desk credential (spec/README.md: ``mdtrt_cert_type``).

    ``02`` ID card → ``cert_no`` is a normalised ``certno``; ``03`` social-security card →
    ``cert_no`` is the card number and ``card_sn`` must match. Raises ``422 unsupported_cert_type``
    for ``01`` (e-voucher) and ``422 unknown_person`` when nothing matches.
    """
    if cert_type == "01":
        raise DomainError("unsupported_cert_type", "E-vouchers (01) are not supported until an issuer is connected.")
    if cert_type == "02":
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
