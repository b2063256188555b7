"""Institution clients, staff users and staff bearer tokens (spec/security.md §Signed requests,
§People)."""
from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken, Institution, InstitutionClient, Region, StaffProfile
from core.audit import audit_log, audit_principal
from core.auth import token_hash
from core.crypto import blind_index, encrypt
from core.errors import Conflict, DomainError, Invalid, Unauthorized, field_error

SECRET_BYTES = 32
LOGIN_FAILURES_ALLOWED = 5
LOGIN_LOCKOUT_SECONDS = 900


def client_create(*, fixmedins_code: str, principal: Any = None) -> tuple[InstitutionClient, str]:
    """A new API client of the institution ``fixmedins_code``. Returns the client and its secret
    (``token_urlsafe`` of 32 random bytes, 43 characters; shown once, stored only encrypted).
    Raises ``404 unknown_institution``. Audited ``client_create``."""
    institution = Institution.objects.filter(fixmedins_code=fixmedins_code).first()
    if institution is None:
        raise DomainError("unknown_institution", f"No institution {fixmedins_code}.", status=404,
                          field="fixmedins_code")
    secret = secrets.token_urlsafe(SECRET_BYTES)
    with transaction.atomic():
        client = InstitutionClient.objects.create(
            client_id=f"{fixmedins_code}-{secrets.token_hex(8)}", institution=institution,
            secret_enc=encrypt(secret))
        audit_principal(principal, "client_create", "institution_client", client.client_id,
                        detail={"fixmedins_code": fixmedins_code})
    return client, secret


def client_revoke(*, client_id: str, principal: Any = None) -> InstitutionClient:
    """Revoke a client (its signed requests then answer ``401 revoked_client``). Idempotent."""
    with transaction.atomic():
        client = InstitutionClient.objects.select_for_update().get(client_id=client_id)
        if client.revoked_at is None:
            client.revoked_at = timezone.now()
            client.save(update_fields=["revoked_at"])
            audit_principal(principal, "client_revoke", "institution_client", client.client_id)
    return client


def staff_create(*, username: str, password: str, admdvs: str, role: str, principal: Any = None):  # noqa: ANN201
    """A bureau (``role="bureau"``, ``admdvs`` a provincial code like ``340000``) or clearing-house
    (``role="clearing_staff"``) user with its :class:`StaffProfile`. Clearing staff get the Django
    admin (``is_staff``, ``is_superuser``). Raises ``400 invalid`` (``username`` taken → 409
    ``username_taken``; ``role``, ``admdvs``, ``password`` per the password validators)."""
    if role not in StaffProfile.Role.values:
        raise Invalid([field_error("role", "invalid_choice", "role must be bureau or clearing_staff")])
    is_province = Region.objects.filter(admdvs=admdvs, level=Region.Level.PROVINCE).exists()
    if role == StaffProfile.Role.BUREAU and not is_province:
        raise Invalid([field_error("admdvs", "unknown_region", "admdvs must be a provincial-level code")])
    if not username or len(username) > 150:
        raise Invalid([field_error("username", "invalid", "username must be 1-150 characters")])
    User = get_user_model()
    try:
        validate_password(password, user=User(username=username))
    except ValidationError as e:
        raise Invalid([field_error("password", "weak_password", m) for m in e.messages]) from None
    if not password:
        raise Invalid([field_error("password", "required", "password is required")])
    with transaction.atomic():
        if User.objects.filter(username=username).exists():
            raise Conflict("username_taken", f"User {username} exists.")
        clearing = role == StaffProfile.Role.CLEARING_STAFF
        user = User.objects.create_user(username=username, password=password, is_staff=clearing,
                                        is_superuser=clearing)
        StaffProfile.objects.create(user=user, admdvs=admdvs, role=role)
        audit_principal(principal, "staff_create", "user", username, detail={"role": role, "admdvs": admdvs})
    return user


def _lock_key(username: str) -> str:
    """Keyed hash of the username: any string is a valid, bounded cache key, and the cache holds no
    account names (like the cardholder lockouts)."""
    return f"login-failures:staff:{blind_index(username, purpose='staff-login')}"


def staff_authenticate(*, username: str, password: str) -> Any:
    """The active staff user (one with a :class:`StaffProfile`) of ``username``/``password``, under
    the per-username lockout shared by every staff sign-in (the API token, the bureau dashboard).
    Raises ``401 invalid_credentials`` (unknown user, wrong password, no staff role, inactive) and
    ``429 too_many_attempts`` (with ``Retry-After``) after 5 failures within 15 minutes; a success
    clears the failures."""
    key = _lock_key(username)
    if (cache.get(key) or 0) >= LOGIN_FAILURES_ALLOWED:
        raise DomainError("too_many_attempts", "Too many failed logins; retry later.", status=429,
                          headers={"Retry-After": str(LOGIN_LOCKOUT_SECONDS)})
    user = authenticate(username=username, password=password)
    if user is None or not user.is_active or not hasattr(user, "staff_profile"):
        if cache.add(key, 1, timeout=LOGIN_LOCKOUT_SECONDS) is False:
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, timeout=LOGIN_LOCKOUT_SECONDS)
        raise Unauthorized("invalid_credentials", "Wrong username or password.")
    cache.delete(key)
    return user


def staff_token_issue(*, username: str, password: str) -> tuple[str, dt.datetime]:
    """Bearer token for a staff user (:func:`staff_authenticate`, with its lockout): returns
    ``(token, expires_at)``; only the SHA-256 of the token is stored; it expires after
    ``settings.STAFF_TOKEN_TTL_HOURS`` (12 h)."""
    user = staff_authenticate(username=username, password=password)
    token = secrets.token_urlsafe(32)
    expires_at = timezone.now() + dt.timedelta(hours=settings.STAFF_TOKEN_TTL_HOURS)
    with transaction.atomic():
        ApiToken.objects.create(token_hash=token_hash(token), user=user, expires_at=expires_at)
        audit_log(actor=username, role=user.staff_profile.role, action="token_issue", object_type="user",
                  object_id=username)
    return token, expires_at
