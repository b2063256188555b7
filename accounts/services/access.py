"""Institution clients, staff users and staff bearer tokens (spec/security.md §Signed requests,
§People)."""
from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.context import admin_actor_var
from accounts.models import ApiToken, Institution, InstitutionClient, Region, StaffProfile
from accounts.services.staff_login import staff_attempt_failed
from core.audit import audit_log, audit_principal
from core.auth import token_hash
from core.crypto import encrypt
from core.errors import Conflict, DomainError, Invalid, Unauthorized, field_error

SECRET_BYTES = 32


def client_create(*, fixmedins_code: str, principal: Any = None,
                  gateway: bool = False) -> tuple[InstitutionClient, str]:
    """A new API client of the institution ``fixmedins_code``. Returns the client and its secret
    (``token_urlsafe`` of 32 random bytes, 43 characters; shown once, stored only encrypted).
    ``gateway``: the client may also call the NHSA gateway as ``x-tif-paasid`` (opt-in, because the
    x-tif signature does not cover the body; spec/nhsa-gateway.md §2).
    Raises ``404 unknown_institution``. Audited ``client_create``."""
    institution = Institution.objects.filter(fixmedins_code=fixmedins_code).first()
    if institution is None:
        raise DomainError("unknown_institution", f"No institution {fixmedins_code}.", status=404,
                          field="fixmedins_code")
    secret = secrets.token_urlsafe(SECRET_BYTES)
    with transaction.atomic():
        client = InstitutionClient.objects.create(
            client_id=f"{fixmedins_code}-{secrets.token_hex(8)}", institution=institution,
            secret_enc=encrypt(secret), gateway_enabled=gateway)
        audit_principal(principal, "client_create", "institution_client", client.client_id,
                        detail={"fixmedins_code": fixmedins_code, "gateway": gateway})
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


STAFF_GROUP = "clearing_staff"
STAFF_VIEW_APPS = ("accounts", "settlement", "clearing", "cardholder", "cards", "core", "auth", "admin")


def clearing_staff_group() -> Group:
    """The Django group of clearing-house staff: the ``view_*`` permissions of the project's models
    and nothing else (least privilege, issue 10 §1). Every model with money or rules is read-only
    in the admin anyway (``core.admin_readonly``); without ``change_user`` staff cannot reset
    another user's password there either."""
    group, _ = Group.objects.get_or_create(name=STAFF_GROUP)
    views = Permission.objects.filter(content_type__app_label__in=STAFF_VIEW_APPS,
                                      codename__startswith="view_")
    group.permissions.set(views)
    return group


def staff_create(*, username: str, password: str, admdvs: str, role: str, principal: Any = None):  # noqa: ANN201
    """A bureau (``role="bureau"``, ``admdvs`` a provincial code like ``340000``) or clearing-house
    (``role="clearing_staff"``) user with its :class:`StaffProfile`. Clearing staff get the Django
    admin (``is_staff``) with the view permissions of :func:`clearing_staff_group`, never
    ``is_superuser``. Raises ``400 invalid`` (``username`` taken → 409 ``username_taken``; ``role``,
    ``admdvs``, ``password`` per the password validators)."""
    if role not in StaffProfile.Role.values:
        raise Invalid([field_error("role", "invalid_choice",
                                   "role must be bureau, clearing_staff, card_bureau or card_desk")])
    is_province = Region.objects.filter(admdvs=admdvs, level=Region.Level.PROVINCE).exists()
    if role in (StaffProfile.Role.BUREAU, StaffProfile.Role.CARD_BUREAU) and not is_province:
        raise Invalid([field_error("admdvs", "unknown_region", "admdvs must be a provincial-level code")])
    yrd = ("31", "32", "33", "34")  # the card roles act in the Yangtze River Delta (spec/cards.md)
    if role in (StaffProfile.Role.CARD_BUREAU, StaffProfile.Role.CARD_DESK) and (
        not re.fullmatch(r"\d{6}", admdvs or "") or admdvs[:2] not in yrd
    ):
        raise Invalid([field_error("admdvs", "unknown_region", "a card role needs a region (YRD) code")])
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
        user = User.objects.create_user(username=username, password=password, is_staff=clearing)
        if clearing:
            user.groups.add(clearing_staff_group())
        StaffProfile.objects.create(user=user, admdvs=admdvs, role=role)
        audit_principal(principal, "staff_create", "user", username, detail={"role": role, "admdvs": admdvs})
    return user


def staff_authenticate(*, username: str, password: str) -> Any:
    """The active staff user (one with a :class:`StaffProfile`) of ``username``/``password``: the
    password check of every sign-in door that is not a Django form (the API token, the bureau
    dashboard). Raises ``401 invalid_credentials`` (unknown user, wrong password, no staff role,
    inactive) and ``429 too_many_attempts`` (``StaffLockedOut``, with ``Retry-After``) when the
    username's lockout window is full: the one lockout of ``accounts.services.staff_login``
    (5 failures per username within 15 min), applied by the authentication backend and so shared
    with the admin login; a success gives its attempt back."""
    user = authenticate(username=username, password=password)  # may raise StaffLockedOut (429)
    if user is not None and (not user.is_active or not hasattr(user, "staff_profile")):
        staff_attempt_failed(username)
        user = None
    if user is None:
        raise Unauthorized("invalid_credentials", "Wrong username or password.")
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


def staff_token_revoke(*, principal: Any) -> None:
    """Revoke the staff token the request came with (``POST /api/v1/auth/logout``). Idempotent;
    audited ``token_revoke``."""
    with transaction.atomic():
        live = ApiToken.objects.filter(pk=principal.token.pk, revoked_at__isnull=True)
        live.update(revoked_at=timezone.now())
        audit_principal(principal, "token_revoke", "user", principal.actor)


def user_tokens_revoke(*, user: Any, reason: str) -> int:
    """Revoke every live token of ``user`` (a password was set: changed, reset, or first set) and
    audit it (``password_set``, with ``reason`` and the count). Returns how many were revoked.
    Called from ``accounts.passwords.RevokeTokensOnPasswordChange`` for every path that sets a
    password (admin forms, ``changepassword``, services)."""
    with transaction.atomic():
        live = ApiToken.objects.filter(user=user, revoked_at__isnull=True)
        revoked = live.update(revoked_at=timezone.now())
        audit_log(actor=admin_actor_var.get() or user.get_username(), role="staff", action="password_set",
                  object_type="user", object_id=user.get_username(),
                  detail={"reason": reason, "revoked_tokens": revoked})
    return revoked
