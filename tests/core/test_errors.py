"""Every error is problem+json (spec/README.md §Errors, spec/security.md §Limits)."""
from __future__ import annotations

import io

import pytest
from django.db import OperationalError
from django.test import Client

from core.apis import WhoAmIApi
from core.middleware import body_limit_for
from tests.core.test_signed_requests import WHOAMI, assert_problem

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


class ExplodingStream:
    """A request body that must never be read."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


def test_unknown_url_is_404_problem(client):
    assert_problem(client.get("/api/v1/no-such-endpoint"), 404, "not_found")
    assert_problem(client.get("/no/such/page"), 404, "not_found")


def test_method_not_allowed_is_405_problem(staff_bearer):
    resp = staff_bearer("bureau", "310000").delete(WHOAMI)
    assert_problem(resp, 405, "method_not_allowed")
    assert set(resp["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_unsupported_media_type_is_415_problem(signed):
    resp = signed.post(WHOAMI, raw=b"a=1&b=2", content_type="application/x-www-form-urlencoded")
    assert_problem(resp, 415, "unsupported_media_type")


def test_malformed_json_is_400_invalid(signed):
    resp = signed.post(WHOAMI, raw=b'{"a": ', content_type="application/json")
    assert_problem(resp, 400, "invalid")
    assert resp.json()["errors"][0]["field"] == "body"


def test_content_length_over_5mb_is_413_without_reading_the_body(db):
    resp = Client().generic("POST", WHOAMI, CONTENT_TYPE="application/json",
                            CONTENT_LENGTH=str(5 * MB + 1), **{"wsgi.input": ExplodingStream()})
    assert_problem(resp, 413, "body_too_large")


def test_content_length_of_exactly_5mb_passes_the_size_check(signed):
    body = b'{"pad": "' + b"x" * (5 * MB - 11) + b'"}'
    assert len(body) == 5 * MB
    assert signed.post(WHOAMI, raw=body).status_code == 200


def test_chunked_body_over_5mb_is_413(db):
    resp = Client().generic("POST", WHOAMI, CONTENT_TYPE="application/json", HTTP_TRANSFER_ENCODING="chunked",
                            **{"wsgi.input": io.BytesIO(b"x" * (5 * MB + 1))})
    assert_problem(resp, 413, "body_too_large")


def test_chunked_body_is_refused_as_soon_as_it_passes_the_limit(db):
    class Endless:
        read_bytes = 0

        def read(self, n=-1):
            self.read_bytes += n
            return b"x" * n

        readline = read

    stream = Endless()
    resp = Client().generic("POST", WHOAMI, HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input": stream})
    assert_problem(resp, 413, "body_too_large")
    assert stream.read_bytes == 5 * MB + 1


def test_bureau_uploads_may_be_50mb():
    assert body_limit_for("/api/v1/persons") == 50 * MB
    assert body_limit_for("/api/v1/catalogue/") == 50 * MB
    assert body_limit_for("/api/v1/settlements") == 5 * MB
    assert body_limit_for("/api/v1/persons/P1/account-credits") == 5 * MB


def test_djangos_own_limit_is_also_413(signed, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    assert_problem(signed.post(WHOAMI, {"pad": "x" * 2000}), 413, "body_too_large")


def test_throttle_is_429_with_retry_after(signed, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"principal": "2/min"}}
    assert signed.get(WHOAMI).status_code == 200
    assert signed.get(WHOAMI).status_code == 200
    resp = signed.get(WHOAMI)
    assert_problem(resp, 429, "throttled")
    assert 1 <= int(resp["Retry-After"]) <= 60


def test_throttle_buckets_are_per_principal(signed, staff_bearer, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"principal": "1/min"}}
    assert signed.get(WHOAMI).status_code == 200
    assert signed.get(WHOAMI).status_code == 429
    assert staff_bearer("bureau", "310000").get(WHOAMI).status_code == 200


def test_database_outage_in_an_api_view_is_503_with_retry_after(signed, monkeypatch):
    def down(self, request):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(WhoAmIApi, "_answer", down)
    resp = signed.get(WHOAMI)
    assert_problem(resp, 503, "service_unavailable")
    assert int(resp["Retry-After"]) > 0


def test_broker_outage_is_503(signed, monkeypatch):
    import kombu.exceptions

    def down(self, request):
        raise kombu.exceptions.OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(WhoAmIApi, "_answer", down)
    resp = signed.get(WHOAMI)
    assert_problem(resp, 503, "service_unavailable")
    assert int(resp["Retry-After"]) > 0


def test_unacceptable_media_type_is_406_problem(signed):
    headers = signed.headers("GET", WHOAMI, b"")
    resp = signed.http.get(WHOAMI, headers={**headers, "Accept": "text/html"})
    assert_problem(resp, 406, "not_acceptable")


def test_cache_outage_refuses_signed_requests_with_503(signed, monkeypatch):
    """Nonces cannot be checked → refused, never accepted unchecked (issue 7)."""
    from django.core.cache import cache

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "add", down)
    resp = signed.get(WHOAMI)
    assert_problem(resp, 503, "service_unavailable")
    assert "Retry-After" in resp


@pytest.mark.urls("tests.core.urls_faults")
def test_database_outage_in_a_plain_view_is_503():
    resp = Client().get("/plain/db-down")
    assert_problem(resp, 503, "service_unavailable")
    assert int(resp["Retry-After"]) > 0


@pytest.mark.urls("tests.core.urls_faults")
def test_database_outage_in_a_middleware_is_503(settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.core.urls_faults.DatabaseDownMiddleware"]
    resp = Client(raise_request_exception=False).get("/plain/middleware-db-down")
    assert_problem(resp, 503, "service_unavailable")
    assert int(resp["Retry-After"]) > 0


@pytest.mark.urls("tests.core.urls_faults")
def test_unhandled_error_is_500_problem_without_details():
    resp = Client(raise_request_exception=False).get("/plain/broken")
    assert_problem(resp, 500, "server_error")
    assert "a bug" not in resp.content.decode()


def test_request_id_is_echoed_or_made(client):
    assert client.get("/healthz", headers={"X-Request-Id": "abc-123"})["X-Request-Id"] == "abc-123"
    made = client.get("/healthz", headers={"X-Request-Id": "bad id!"})["X-Request-Id"]
    assert len(made) == 32 and made.isalnum()
