"""Cardholder writes: activation, sign-in, tokens, password (spec/cardholder-api.md).

Every function here raises :class:`core.errors.DomainError` subclasses:
``400 invalid`` (malformed certno or a password shorter than 10 characters), ``422 activation_failed``,
``409 already_active``, ``401 invalid_credentials``, ``422 wrong_password``, ``429 too_many_attempts``.
Audit records carry ``psn_no`` and codes only, never the certno, name or card number.
"""
from __future__ import annotations

import datetime as dt
import functools
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, transaction
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
    person: Person


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


def _audit(person: Person, action: str, **detail: str) -> None:
    audit_log(actor=person.psn_no, role="cardholder", action=action, object_type="person",
              object_id=person.psn_no, detail=detail)


def cardholder_activate(*, certno: str, card_no: str, password: str, address: str,
                        channel: str = "api") -> Person:
    """Create the login of the person whose ``certno`` and ``card_no`` both match.

    Wrong or unknown details → ``422 activation_failed`` (the same whichever part is wrong);
    an existing login → ``409 already_active``. Failures count towards the lockouts like failed
    sign-ins (a card number is guessable too). Returns the person.
    """
    bidx = certno_blind_index(certno)
    password_validate(password)
    attempt_reserve(certno_bidx=bidx, address=address)
    person = Person.objects.filter(certno_bidx=bidx).first()
    card_ok = (
        person is not None and isinstance(card_no, str) and person.card_no_bidx is not None
        and hmac.compare_digest(person.card_no_bidx, blind_index(card_no.strip(), purpose="card_no"))
    )
    if not card_ok:
        raise DomainError("activation_failed", "These details do not match a registered person.")
    attempt_succeeded(certno_bidx=bidx, address=address)
    now = timezone.now()
    try:
        with transaction.atomic():
            CardholderLogin.objects.create(person=person, password=make_password(password),
                                           activated_at=now, password_changed_at=now)
            _audit(person, "cardholder.activate", channel=channel)
    except IntegrityError:
        raise Conflict("already_active", "Online access for this person is already active.") from None
    return person


def cardholder_authenticate(*, certno: str, password: str, address: str, channel: str = "api") -> Person:
    """The person whose login matches ``certno`` and ``password``, under the lockouts.

    Raises ``429 too_many_attempts`` (whatever the password) when locked out, else
    ``401 invalid_credentials`` for an unknown certno, no login or a wrong password. Audits the
    success and, for a known login, the failure.
    """
    bidx = certno_blind_index(certno)
    if not isinstance(password, str) or not password:
        raise Invalid([field_error("password", "required", "The password is required.")])
    attempt_reserve(certno_bidx=bidx, address=address)
    login = CardholderLogin.objects.select_related("person").filter(person__certno_bidx=bidx).first()
    if login is None:
        check_password(password, _dummy_hash())
        raise Unauthorized("invalid_credentials", "The certno or password is wrong.")
    if not check_password(password, login.password):
        with transaction.atomic():
            _audit(login.person, "cardholder.login_failed", channel=channel)
        raise Unauthorized("invalid_credentials", "The certno or password is wrong.")
    attempt_succeeded(certno_bidx=bidx, address=address)
    with transaction.atomic():
        CardholderLogin.objects.filter(pk=login.pk).update(last_login_at=timezone.now())
        _audit(login.person, "cardholder.login", channel=channel)
    return login.person


def token_issue(*, person: Person) -> IssuedToken:
    """A new bearer token for ``person``, valid ``CARDHOLDER_TOKEN_TTL_HOURS`` (12 h)."""
    token = secrets.token_urlsafe(32)
    expires_at = timezone.now() + dt.timedelta(hours=settings.CARDHOLDER_TOKEN_TTL_HOURS)
    ApiToken.objects.create(token_hash=token_hash(token), person=person, expires_at=expires_at)
    return IssuedToken(token=token, expires_at=expires_at, person=person)


def cardholder_token_create(*, certno: str, password: str, address: str) -> IssuedToken:
    """``POST /cardholder/token``: authenticate (with lockouts) and issue a 12-hour token."""
    person = cardholder_authenticate(certno=certno, password=password, address=address)
    return token_issue(person=person)


def token_revoke(*, token: ApiToken, person: Person) -> None:
    """Revoke a cardholder's token (logout). Idempotent."""
    with transaction.atomic():
        live = ApiToken.objects.filter(pk=token.pk, person=person, revoked_at__isnull=True)
        live.update(revoked_at=timezone.now())
        _audit(person, "cardholder.logout", channel="api")


def password_change(*, person: Person, old: str, new: str, keep_token: ApiToken | None = None,
                    channel: str = "api") -> None:
    """Change the password and revoke every other token of the person.

    ``old`` wrong → ``422 wrong_password`` (field ``old``); ``new`` shorter than 10 characters →
    ``400 invalid`` (field ``new``). ``keep_token`` (the caller's own token) stays valid; web
    sessions signed in before the change stop working (see ``cardholder.web_auth``).
    """
    password_validate(new, field="new")
    with transaction.atomic():
        login = CardholderLogin.objects.select_for_update().filter(person=person).first()
        if login is None or not isinstance(old, str) or not check_password(old, login.password):
            raise DomainError("wrong_password", "The old password is wrong.", field="old")
        login.password = make_password(new)
        login.password_changed_at = timezone.now()
        login.save(update_fields=["password", "password_changed_at"])
        others = ApiToken.objects.filter(person=person, revoked_at__isnull=True)
        if keep_token is not None:
            others = others.exclude(pk=keep_token.pk)
        revoked = others.update(revoked_at=timezone.now())
        _audit(person, "cardholder.password_change", channel=channel, tokens_revoked=str(revoked))
