"""Reads of accounts data."""
from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet

from accounts.certno import InvalidCertno, normalize_certno
from accounts.models import ApiToken, Filing, InstitutionClient, Person
from accounts.regions import province_of
from core.audit import audit_principal
from core.crypto import blind_index, decrypt
from core.errors import DomainError, NotFound
from core.permissions import province_scope
from core.principals import Principal

Credential = tuple[str, str, str | None]  # mdtrt_cert_type, cert_no, card_sn

# spec/cards.md, Changes to other parts (policy.md): with ``mdtrt_cert_type`` 03 the card is found
# in the card registry (``card_no`` + ``card_sn``) and the person through its ``certno``, so a
# replacement card works at hospitals at once; a card not in the registry falls back to the
# person's ``card_no``. The cards app registers the registry reader (accounts never imports it):
# ``fn([(card_no, card_sn), ...]) -> {(card_no, card_sn): certno_bidx | None}`` for the pairs whose
# card is in the registry (``None``: ``card_sn`` does not match, or the card has none yet).
CardPair = tuple[str, str | None]
CardRegistry = Callable[[list[CardPair]], dict[CardPair, str | None]]
_card_registry: list[CardRegistry] = []


def register_card_registry(fn: CardRegistry) -> None:
    """Install the card registry's reader (``CardsConfig.ready``); the last one wins."""
    _card_registry[:] = [fn]


def person_by_credential(*, cert_type: str, cert_no: str, card_sn: str | None = None) -> Person:
    """The person behind a desk credential (spec/README.md: ``mdtrt_cert_type``).

    ``02`` ID card → ``cert_no`` is a ``certno`` (normalised here: GB 11643); ``03`` social-security card →
    ``cert_no`` is the card number and ``card_sn`` must match: a card of the card registry names
    its holder by ``certno`` (a replacement card works at once), any other card is the person's
    own ``card_no``. Raises ``422 unsupported_cert_type`` for ``01`` (e-voucher) and ``422
    unknown_person`` when nothing matches. (Whether the card is listed is the caller's next
    check: ``settlement.eligibility.card_check``.)
    """
    found = persons_by_credentials([(cert_type, cert_no, card_sn)])[0]
    if isinstance(found, DomainError):
        raise found
    return found


def _blind(cert_type: str, cert_no: str) -> str:
    if cert_type == "02":
        try:  # lower-case x, full-width digits, 15-digit legacy numbers find the same person
            cert_no = normalize_certno(cert_no)
        except InvalidCertno:
            pass  # not a valid number: matches nobody (the caller validates formats first)
        return blind_index(cert_no, purpose="certno")
    return blind_index(cert_no, purpose="card_no")


def persons_by_credentials(credentials: list[Credential]) -> list[Person | DomainError]:
    """:func:`person_by_credential` for many credentials: per credential its person or the refusal
    (``unsupported_cert_type``, ``unknown_person``), with one query per kind of credential."""
    blinds = [_blind(t, no) if t in ("02", "03") else "" for t, no, _ in credentials]
    ids = {t: {b for (k, _, _), b in zip(credentials, blinds, strict=True) if k == t} for t in ("02", "03")}
    by_certno: dict[str | None, Person] = {}
    by_card: dict[str | None, Person] = {}
    registry: dict[CardPair, str | None] = {}
    if ids["03"] and _card_registry:
        registry = _card_registry[0]([(no, sn) for t, no, sn in credentials if t == "03"])
    in_registry = {
        b for (t, no, sn), b in zip(credentials, blinds, strict=True) if t == "03" and (no, sn) in registry
    }
    holders = {c for c in registry.values() if c is not None}
    if ids["02"] or holders:
        by_certno = {
            p.certno_bidx: p for p in Person.objects.filter(certno_bidx__in=ids["02"] | holders)
        }
    if ids["03"] - in_registry:
        by_card = {p.card_no_bidx: p for p in Person.objects.filter(card_no_bidx__in=ids["03"] - in_registry)}
    out: list[Person | DomainError] = []
    for (cert_type, cert_no, card_sn), blind in zip(credentials, blinds, strict=True):
        person: Person | None = None
        if cert_type == "01":
            out.append(DomainError("unsupported_cert_type",
                                   "E-vouchers (01) are not supported until an issuer is connected."))
            continue
        if cert_type == "02":
            person = by_certno.get(blind)
        elif cert_type == "03" and (cert_no, card_sn) in registry:
            holder = registry[(cert_no, card_sn)]
            person = by_certno.get(holder) if holder is not None else None
        elif cert_type == "03":
            person = by_card.get(blind)
            if person is not None and (not card_sn or decrypt(person.card_sn_enc) != card_sn):
                person = None
        else:
            out.append(
                DomainError("unsupported_cert_type", f"mdtrt_cert_type {cert_type!r} is not supported.")
            )
            continue
        out.append(person or DomainError("unknown_person", "No insured person matches this credential."))
    return out


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
    if person is None or not _in_scope(person, principal):
        raise NotFound("No such person.")
    if audit_action:
        audit_principal(principal, audit_action, "person", person.psn_no)
    return person


def filings_of_person(*, person: Person) -> QuerySet[Filing]:
    """All filings of ``person`` (revoked ones included, with ``revoked_at``), by ``begndate``, id."""
    return Filing.objects.filter(person=person).order_by("begndate", "id")


def client_for_signature(client_id: str) -> InstitutionClient | None:
    """The API client ``client_id`` with its institution, for ``core.auth`` (settings.AUTH_LOADERS)."""
    return InstitutionClient.objects.select_related("institution").filter(client_id=client_id).first()


def api_token_by_hash(token_hash: str) -> ApiToken | None:
    """The bearer token stored under ``token_hash`` with its user, role and person, for ``core.auth``."""
    tokens = ApiToken.objects.select_related("user__staff_profile", "person", "holder__person")
    return tokens.filter(token_hash=token_hash).first()
