"""Session sign-in of the bureau dashboard for staff users (bureau and clearing-house staff).

The password check and its per-username lockout are the API token's
(:func:`accounts.services.staff_authenticate`). The session holds the user's id and an HMAC of the
current password hash (a password change signs every browser out), lasts ``IDLE_SECONDS`` from the
last page and never more than ``MAX_SECONDS`` from the sign-in. It is separate from the Django
admin's session login.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.utils.crypto import constant_time_compare, salted_hmac

from core.principals import Principal

SESSION_USER = "bureau_user_id"
SESSION_HASH = "bureau_auth_hash"
SESSION_SINCE = "bureau_signed_in_at"
IDLE_SECONDS = 30 * 60
MAX_SECONDS = 8 * 3600


def _password_tag(user: Any) -> str:
    return salted_hmac("bureau.web_auth", user.password, algorithm="sha256").hexdigest()


def session_sign_in(request: HttpRequest, user: Any) -> None:
    """Bind the session to ``user`` (a new session key against fixation)."""
    request.session.cycle_key()
    request.session[SESSION_USER] = user.pk
    request.session[SESSION_HASH] = _password_tag(user)
    request.session[SESSION_SINCE] = int(time.time())
    request.session.set_expiry(IDLE_SECONDS)


def session_sign_out(request: HttpRequest) -> None:
    request.session.flush()


# card bureaus get the card scheme's dashboard only (bureau.views: no medical page answers them)
DASHBOARD_ROLES = ("bureau", "clearing_staff", "card_bureau")


def dashboard_user(user: Any) -> bool:
    """True for a medical-insurance bureau, a card bureau or a clearing-house staff user."""
    return getattr(getattr(user, "staff_profile", None), "role", "") in DASHBOARD_ROLES


def principal_of(user: Any) -> Principal:
    """The API's :class:`Principal` for a staff user: bureaus keep their province, clearing staff
    have none (they see every province)."""
    profile = user.staff_profile
    clearing = profile.role == "clearing_staff"
    return Principal(
        role=profile.role, actor=user.username, user=user, admdvs=None if clearing else profile.admdvs
    )


def session_principal(request: HttpRequest) -> Principal | None:
    """The signed-in staff member, or ``None`` (no session, password changed, user deactivated or
    no longer staff, or the session is past ``MAX_SECONDS``). Each page renews the idle timeout."""
    user_id = request.session.get(SESSION_USER)
    if user_id is None:
        return None
    user = get_user_model().objects.select_related("staff_profile").filter(pk=user_id).first()
    tag = request.session.get(SESSION_HASH, "")
    since = request.session.get(SESSION_SINCE, 0)
    if (
        user is None
        or not dashboard_user(user)
        or not user.is_active
        or not hasattr(user, "staff_profile")
        or not constant_time_compare(tag, _password_tag(user))
        or time.time() - since > MAX_SECONDS
    ):
        request.session.flush()
        return None
    request.session.modified = True  # sliding idle timeout
    return principal_of(user)


def bureau_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Page decorator: redirects to the sign-in page unless signed in; passes the ``principal``."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        principal = session_principal(request)
        if principal is None:
            return redirect("bureau-signin")
        response = view(request, principal, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response

    return wrapper
