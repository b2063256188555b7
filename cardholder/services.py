"""Cardholder writes: activation, sign-in, tokens, password (spec/cardholder-api.md).

Holders are insured persons and, since the card registry, card-only holders: a ``certno`` with an
``active`` registry card and no medical person (spec/cards.md §Changes to other parts). Both sign in
through the same door (:func:`cardholder_authenticate`) under the same lockouts
(:mod:`cardholder.lockout`, keyed by the certno's blind index).

Every function here raises :class:`core.errors.DomainError` subclasses:
``400 invalid`` (malformed certno or a password shorter than 10 characters), ``422 activation_failed``,
``409 already_active``, ``401 invalid_credentials``, ``422 wrong_password``, ``429 too_many_attempts``.
Audit records carry ``psn_no`` (or ``holder-<id>``) and codes only, never the certno, name or card
number.
"""
from __future__ import annotations

import datetime as dt
import functools
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.certno import InvalidCertno, normalize_certno
from accounts.models import ApiToken, Person
from cardholder.lockout import attempt_reserve, attempt_succeeded
from cardholder.models import CardholderLogin
from core.audit import audit_log
from core.auth import token_hash
from core.crypto import blind_index
from core.errors import Conflict, DomainError, Invalid, Unauthorized, field_error

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 128


@functools.cache
def _dummy_hash() -> str:
    """Checked against when no login exists, so an unknown certno costs as much as a wrong password."""
    return make_password(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class IssuedToken:
    """A new bearer token (clear text, shown once) and its aware UTC expiry."""

    token: str
    expires_at: dt.datetime
    holder: CardholderLogin

    @property
    def person(self) -> Person | None:
        return self.holder.person


def certno_blind_index(certno: str, *, field: str = "certno") -> str:
    """Blind index of the normalised ``certno`` (NFKC, upper-case X, 15→18 digits).
    Raises ``400 invalid`` naming ``field`` when it is not a GB 11643 number."""
    try:
        return blind_index(normalize_certno(certno), purpose="certno")
    except InvalidCertno as exc:
        raise Invalid([field_error(field, "invalid_certno", str(exc))]) from None


def password_validate(password: str, *, field: str = "password") -> None:
    """``400 invalid`` unless 10 ≤ len(password) ≤ 128."""
    if not isinstance(password, str) or not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        message = f"The password must have {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters."
        raise Invalid([field_error(field, "password_length", message)])


def _audit(login: CardholderLogin, action: str, **detail: str) -> None:
    """Audit record of a holder's action: actor and object are ``psn_no`` or ``holder-<id>``."""
    audit_log(actor=login.actor, role="cardholder", action=action,
              object_type="person" if login.person is not None else "cardholder_login",
              object_id=login.actor, detail=detail)


def _card_matches(person: Person | None, certno_bidx: str, card_no: str) -> bool:
    """Whether ``card_no`` is the holder's: the insured person's ``card_no``, or an ``active``
    registry card of this ``certno`` (a card-only holder, spec/cards.md §Changes to other parts;
    for a person too, so a replacement card works here as it does at hospital desks)."""
    if not isinstance(card_no, str) or not card_no.strip():
        return False
    number = card_no.strip()
    if person is not None and person.card_no_bidx is not None and hmac.compare_digest(
            person.card_no_bidx, blind_index(number, purpose="card_no")):
        return True
    from cards.models import Card, CardStatus

    card_bidx = blind_index(number.upper(), purpose="card_no")
    mine = Card.objects.filter(certno_bidx=certno_bidx, card_no_bidx=card_bidx)
    return mine.filter(card_stas=CardStatus.ACTIVE).exists()


def cardholder_activate(*, certno: str, card_no: str, password: str, address: str,
                        channel: str = "api") -> CardholderLogin:
    """Create the login of the holder whose ``certno`` and ``card_no`` both match
    (:func:`_card_matches`): an insured person, or, when no person has the ``certno``, the holder
    of an ``active`` registry card (a card-only holder; ``person`` stays empty).

    Wrong or unknown details → ``422 activation_failed`` (the same whichever part is wrong);
    an existing login for the ``certno`` → ``409 already_active``. Failures count towards the
    lockouts like failed sign-ins (a card number is guessable too). Returns the login.
    """
    bidx = certno_blind_index(certno)
    password_validate(password)
    attempt_reserve(certno_bidx=bidx, address=address)
    person = Person.objects.filter(certno_bidx=bidx).first()
    if not _card_matches(person, bidx, card_no):
        raise DomainError("activation_failed", "These details do not match a registered person.")
    attempt_succeeded(certno_bidx=bidx, address=address)
    now = timezone.now()
    try:
        with transaction.atomic():
            login = CardholderLogin.objects.create(person=person, certno_bidx=bidx, activated_at=now,
                                                   password=make_password(password), password_changed_at=now)
            _audit(login, "cardholder.activate", channel=channel)
    except IntegrityError:
        raise Conflict("already_active", "Online access for this person is already active.") from None
    return login


def _link_person(login: CardholderLogin) -> None:
    """A card-only login whose ``certno`` has since been loaded as an insured person is linked to
    that person (the login is keyed by ``certno``, spec/cards.md), so the medical pages fill."""
    if login.person_id is not None:
        return
    person = Person.objects.filter(certno_bidx=login.certno_bidx).first()
    if person is not None:
        CardholderLogin.objects.filter(pk=login.pk, person__isnull=True).update(person=person)
        login.refresh_from_db(fields=["person"])


def cardholder_authenticate(*, certno: str, password: str, address: str,
                            channel: str = "api") -> CardholderLogin:
    """The login (insured person or card-only holder) that matches ``certno`` and ``password``,
    under the lockouts: the one sign-in door of the API and the web pages.

    Raises ``429 too_many_attempts`` (whatever the password) when locked out, else
    ``401 invalid_credentials`` for an unknown certno, no login or a wrong password. Audits the
    success and, for a known login, the failure.
    """
    bidx = certno_blind_index(certno)
    if not isinstance(password, str) or not password:
        raise Invalid([field_error("password", "required", "The password is required.")])
    attempt_reserve(certno_bidx=bidx, address=address)
    login = CardholderLogin.objects.select_related("person").filter(certno_bidx=bidx).first()
    if login is None:
        check_password(password, _dummy_hash())
        raise Unauthorized("invalid_credentials", "The certno or password is wrong.")
    if not check_password(password, login.password):
        with transaction.atomic():
            _audit(login, "cardholder.login_failed", channel=channel)
        raise Unauthorized("invalid_credentials", "The certno or password is wrong.")
    attempt_succeeded(certno_bidx=bidx, address=address)
    _link_person(login)
    with transaction.atomic():
        CardholderLogin.objects.filter(pk=login.pk).update(last_login_at=timezone.now())
        _audit(login, "cardholder.login", channel=channel)
    return login


def _login_of(person: Person | None, login: CardholderLogin | None) -> CardholderLogin:
    if login is not None:
        return login
    return CardholderLogin.objects.select_related("person").get(person=person)


def token_issue(*, login: CardholderLogin | None = None, person: Person | None = None) -> IssuedToken:
    """A new bearer token for a holder's ``login`` (or the login of ``person``), valid
    ``CARDHOLDER_TOKEN_TTL_HOURS`` (12 h)."""
    holder = _login_of(person, login)
    token = secrets.token_urlsafe(32)
    expires_at = timezone.now() + dt.timedelta(hours=settings.CARDHOLDER_TOKEN_TTL_HOURS)
    ApiToken.objects.create(token_hash=token_hash(token), holder=holder, person=holder.person,
                            expires_at=expires_at)
    return IssuedToken(token=token, expires_at=expires_at, holder=holder)


def cardholder_token_create(*, certno: str, password: str, address: str) -> IssuedToken:
    """``POST /cardholder/token``: authenticate (with lockouts) and issue a 12-hour token."""
    login = cardholder_authenticate(certno=certno, password=password, address=address)
    return token_issue(login=login)


def _tokens_of(login: CardholderLogin) -> Any:
    """Every token of the holder (older person-only tokens included)."""
    mine = Q(holder=login)
    if login.person_id is not None:
        mine |= Q(person_id=login.person_id)
    return ApiToken.objects.filter(mine)


def token_revoke(*, token: ApiToken, login: CardholderLogin | None = None,
                 person: Person | None = None) -> None:
    """Revoke a cardholder's token (logout). Idempotent."""
    holder = _login_of(person, login)
    with transaction.atomic():
        _tokens_of(holder).filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        _audit(holder, "cardholder.logout", channel="api")


def password_change(*, old: str, new: str, login: CardholderLogin | None = None, person: Person | None = None,
                    keep_token: ApiToken | None = None, channel: str = "api") -> None:
    """Change the password of the holder's ``login`` (or the login of ``person``) and revoke every
    other token of the holder.

    ``old`` wrong → ``422 wrong_password`` (field ``old``); ``new`` shorter than 10 characters →
    ``400 invalid`` (field ``new``). ``keep_token`` (the caller's own token) stays valid; web
    sessions signed in before the change stop working (see ``cardholder.web_auth``).
    """
    password_validate(new, field="new")
    with transaction.atomic():
        mine = CardholderLogin.objects.select_for_update()
        held = mine.filter(pk=login.pk) if login is not None else mine.filter(person=person)
        locked = held.first()
        if locked is None or not isinstance(old, str) or not check_password(old, locked.password):
            raise DomainError("wrong_password", "The old password is wrong.", field="old")
        locked.password = make_password(new)
        locked.password_changed_at = timezone.now()
        locked.save(update_fields=["password", "password_changed_at"])
        others = _tokens_of(locked).filter(revoked_at__isnull=True)
        if keep_token is not None:
            others = others.exclude(pk=keep_token.pk)
        revoked = others.update(revoked_at=timezone.now())
        _audit(locked, "cardholder.password_change", channel=channel, tokens_revoked=str(revoked))
