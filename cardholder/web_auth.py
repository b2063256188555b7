"""Session sign-in of the cardholder web page (Django sessions, CSRF-protected forms).

The session holds the person's id and an HMAC of the current password hash (as Django's own
``SESSION_HASH`` does), so a password change signs out every other browser. Sessions last 12 h,
like API tokens.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.models import Person
from cardholder.models import CardholderLogin

SESSION_PERSON = "cardholder_person_id"
SESSION_HASH = "cardholder_auth_hash"


def _password_tag(login: CardholderLogin) -> str:
    return salted_hmac("cardholder.web_auth", login.password, algorithm="sha256").hexdigest()


def session_sign_in(request: HttpRequest, person: Person) -> None:
    """Bind the session to ``person`` (new session key against fixation), for 12 hours."""
    login = CardholderLogin.objects.get(person=person)
    request.session.cycle_key()
    request.session[SESSION_PERSON] = person.pk
    request.session[SESSION_HASH] = _password_tag(login)
    request.session.set_expiry(settings.CARDHOLDER_TOKEN_TTL_HOURS * 3600)


def session_sign_out(request: HttpRequest) -> None:
    request.session.flush()


def session_person(request: HttpRequest) -> Person | None:
    """The signed-in person, or ``None`` (no session, or the password changed since)."""
    person_id = request.session.get(SESSION_PERSON)
    if person_id is None:
        return None
    login = CardholderLogin.objects.select_related("person").filter(person_id=person_id).first()
    tag = request.session.get(SESSION_HASH, "")
    if login is None or not constant_time_compare(tag, _password_tag(login)):
        request.session.flush()
        return None
    return login.person


def cardholder_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Page decorator: redirects to the sign-in page unless signed in; passes ``person``."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        person = session_person(request)
        if person is None:
            return redirect("cardholder-signin")
        return view(request, person, *args, **kwargs)

    return wrapper
