"""Sign-in and sign-out pages of the bureau dashboard (``/bureau/signin``, POST ``/bureau/signout``);
the session itself is :mod:`bureau.web_auth`."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.services import staff_authenticate
from bureau.web_auth import dashboard_user, session_principal, session_sign_in, session_sign_out
from core.errors import DomainError


@require_http_methods(["GET", "POST"])
def signin(request: HttpRequest) -> HttpResponse:
    """Username + password of a bureau or clearing-staff user (``manage.py create_staff``), with
    the API token's lockout (5 failures per username in 15 min)."""
    if session_principal(request) is not None:
        return redirect("bureau-dashboard")
    error, username, status = "", "", 200
    if request.method == "POST":
        username = request.POST.get("username", "")[:150]
        try:
            user = staff_authenticate(username=username, password=request.POST.get("password", "")[:256])
        except DomainError as exc:
            status = 400 if exc.status == 401 else exc.status
            error = (
                _("Too many failed sign-ins; try again in 15 minutes.")
                if exc.code == "too_many_attempts"
                else _("Wrong username or password.")
            )
        else:
            if dashboard_user(user):
                session_sign_in(request, user)
                return redirect("bureau-dashboard")
            error, status = (
                _("This dashboard is for bureaus and clearing-house staff."),
                403,
            )
    return render(request, "bureau/signin.html", {"error": error, "username": username}, status=status)


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    session_sign_out(request)
    return redirect("bureau-signin")
