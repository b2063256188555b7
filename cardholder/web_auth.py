"""Session sign-in of the cardholder web page (Django sessions, CSRF-protected forms).

The session holds the cardholder login's id (an insured person's or a card-only holder's) and an
HMAC of the current password hash (as Django's own ``SESSION_HASH`` does), so a password change
signs out every other browser. Sessions last 12 h, like API tokens.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.crypto import constant_time_compare, salted_hmac

from cardholder.models import CardholderLogin
from core.principals import Principal

SESSION_LOGIN = "cardholder_login_id"
SESSION_HASH = "cardholder_auth_hash"


def _password_tag(login: CardholderLogin) -> str:
    return salted_hmac("cardholder.web_auth", login.password, algorithm="sha256").hexdigest()


def session_sign_in(request: HttpRequest, login: CardholderLogin) -> None:
    """Bind the session to ``login`` (new session key against fixation), for 12 hours."""
    request.session.cycle_key()
    request.session[SESSION_LOGIN] = login.pk
    request.session[SESSION_HASH] = _password_tag(login)
    request.session.set_expiry(settings.CARDHOLDER_TOKEN_TTL_HOURS * 3600)


def session_sign_out(request: HttpRequest) -> None:
    request.session.flush()


def session_holder(request: HttpRequest) -> CardholderLogin | None:
    """The signed-in holder's login (with its person, if any), or ``None`` (no session, or the
    password changed since)."""
    login_id = request.session.get(SESSION_LOGIN)
    if login_id is None:
        return None
    login = CardholderLogin.objects.select_related("person").filter(pk=login_id).first()
    tag = request.session.get(SESSION_HASH, "")
    if login is None or not constant_time_compare(tag, _password_tag(login)):
        request.session.flush()
        return None
    return login


def holder_principal(login: CardholderLogin) -> Principal:
    """The principal the card services and selectors take for the signed-in holder (the same as
    a bearer token of that login gives the API)."""
    return Principal(role="cardholder", actor=login.actor, person=login.person, holder=login)


def cardholder_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Page decorator: redirects to the sign-in page unless signed in; passes the holder's
    ``CardholderLogin``."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        holder = session_holder(request)
        if holder is None:
            return redirect("cardholder-signin")
        return view(request, holder, *args, **kwargs)

    return wrapper
