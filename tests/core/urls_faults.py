"""URLs for the fault tests: plain Django views that fail the way an outage or a bug would."""
from django.db import OperationalError
from django.urls import include, path


def db_down(request):
    raise OperationalError("could not connect to server: Connection refused")


def broken(request):
    raise RuntimeError("a bug")


class DatabaseDownMiddleware:
    """Fails before any view runs, as a session or auth middleware would when the database is down."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/plain/middleware-db-down":
            raise OperationalError("could not connect to server")
        return self.get_response(request)


urlpatterns = [
    path("plain/db-down", db_down),
    path("plain/broken", broken),
    path("", include("config.urls")),
]

handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
