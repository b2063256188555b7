"""Signed institution requests (spec/security.md §Institutions: signed requests)."""
from __future__ import annotations

import time

import pytest
from django.utils import timezone

from tests.core.conftest import SECRET

pytestmark = pytest.mark.django_db

WHOAMI = "/api/v1/whoami"


def assert_problem(resp, status: int, code: str) -> None:
    assert resp.status_code == status, resp.content
    assert resp["Content-Type"] == "application/problem+json"
    body = resp.json()
    assert body["status"] == status
    assert body["code"] == code
    assert {"type", "title", "detail"} <= body.keys()


def test_signed_get_is_accepted(signed):
    resp = signed.get(WHOAMI)
    assert resp.status_code == 200, resp.content
    assert resp.json() == {"role": "institution", "actor": "c-test-0001", "admdvs": None,
                           "fixmedins_code": "H31010400001"}


def test_signed_post_with_body_and_query_is_accepted(signed):
    resp = signed.post(WHOAMI + "?a=1&b=x%20y", {"medins_setl_id": "X-1", "note": "示例"})
    assert resp.status_code == 200, resp.content
    assert resp.json()["actor"] == "c-test-0001"


def test_chunked_body_within_limit_is_read_and_verified(signed):
    """A body without Content-Length reaches the signature check whole (the middleware reads it)."""
    import io

    body = b'{"x": "' + b"y" * 100_000 + b'"}'
    headers = signed.headers("POST", WHOAMI, body)
    resp = signed.http.generic("POST", WHOAMI, headers=headers, CONTENT_TYPE="application/json",
                               HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input": io.BytesIO(body)})
    assert resp.status_code == 200, resp.content


def test_wrong_secret_is_bad_signature(signed):
    assert_problem(signed.get(WHOAMI, secret="another-secret-" + "z" * 30), 401, "bad_signature")


def test_changed_body_is_bad_signature(signed):
    signed_body = b'{"amount": "10.00"}'
    headers = signed.headers("POST", WHOAMI, signed_body)
    resp = signed.http.post(WHOAMI, data=b'{"amount": "99.00"}', content_type="application/json",
                            headers=headers)
    assert_problem(resp, 401, "bad_signature")


def test_changed_path_is_bad_signature(signed):
    headers = signed.headers("GET", "/api/v1/whoami-other", b"")
    assert_problem(signed.http.get(WHOAMI, headers=headers), 401, "bad_signature")


def test_changed_query_is_bad_signature(signed):
    headers = signed.headers("GET", WHOAMI + "?page=1", b"")
    assert_problem(signed.http.get(WHOAMI, QUERY_STRING="page=2", headers=headers), 401, "bad_signature")


def test_changed_method_is_bad_signature(signed):
    headers = signed.headers("GET", WHOAMI, b"")
    assert_problem(signed.http.post(WHOAMI, headers=headers), 401, "bad_signature")


def test_upper_case_signature_is_refused(signed):
    headers = signed.headers("GET", WHOAMI, b"")
    headers["X-Signature"] = headers["X-Signature"].upper()
    assert_problem(signed.http.get(WHOAMI, headers=headers), 401, "bad_signature")


@pytest.mark.parametrize("nonce", ["short", "n" * 65, "bad nonce with spaces!"])
def test_malformed_nonce_is_refused(signed, nonce):
    assert_problem(signed.get(WHOAMI, nonce=nonce), 401, "bad_signature")


# 301 s would be flaky on a loaded machine: a request that takes a second to reach the check
# sees a +301 s timestamp as +300 s (inside the window). 330 s keeps the test honest.
@pytest.mark.parametrize("skew", [-330, 330, -3600])
def test_old_or_future_timestamp_is_stale(signed, skew):
    assert_problem(signed.get(WHOAMI, ts=int(time.time()) + skew), 401, "stale_timestamp")


@pytest.mark.parametrize("ts", ["", "abc", "-5", "9" * 5000, "１７００００００００"])
def test_malformed_timestamp_is_stale(signed, ts):
    headers = signed.headers("GET", WHOAMI, b"")
    headers["X-Timestamp"] = ts
    assert_problem(signed.http.get(WHOAMI, headers=headers), 401, "stale_timestamp")


def test_timestamp_within_300s_is_accepted(signed):
    assert signed.get(WHOAMI, ts=int(time.time()) - 290).status_code == 200


def test_replayed_nonce_is_refused(signed):
    nonce = "nonce-replay-0123456789"
    assert signed.get(WHOAMI, nonce=nonce).status_code == 200
    assert_problem(signed.get(WHOAMI, nonce=nonce), 401, "replayed_nonce")


def test_replayed_nonce_is_refused_after_many_other_cache_entries(signed):
    """The embedded database cache culled live entries past 300 by default, so a used nonce could be
    forgotten within its 600 s and a replay accepted (found by a newcomer's run of the main job)."""
    from django.core.cache import cache

    nonce = "nonce-not-culled-0123456789"
    assert signed.get(WHOAMI, nonce=nonce).status_code == 200
    for i in range(1200):
        cache.set(f"zz-filler:{i}", i, timeout=600)  # sorts after "nonce:", culled last
    assert_problem(signed.get(WHOAMI, nonce=nonce), 401, "replayed_nonce")


def test_exact_replay_of_a_request_is_refused(signed):
    headers = signed.headers("GET", WHOAMI, b"")
    assert signed.http.get(WHOAMI, headers=headers).status_code == 200
    assert_problem(signed.http.get(WHOAMI, headers=headers), 401, "replayed_nonce")


def test_badly_signed_request_does_not_burn_the_nonce(signed):
    nonce = "nonce-not-burnt-0123456789"
    assert_problem(signed.get(WHOAMI, nonce=nonce, secret="wrong-" + "w" * 40), 401, "bad_signature")
    assert signed.get(WHOAMI, nonce=nonce).status_code == 200


def test_same_nonce_from_two_clients_is_fine(signed, institution):
    from accounts.models import InstitutionClient
    from core.crypto import encrypt
    from tests.signing import SignedClient

    InstitutionClient.objects.create(client_id="c-test-0002", institution=institution,
                                     secret_enc=encrypt(SECRET))
    other = SignedClient("c-test-0002", SECRET)
    nonce = "nonce-shared-0123456789"
    assert signed.get(WHOAMI, nonce=nonce).status_code == 200
    assert other.get(WHOAMI, nonce=nonce).status_code == 200


def test_unknown_client(db):
    from tests.signing import SignedClient

    assert_problem(SignedClient("nobody", SECRET).get(WHOAMI), 401, "unknown_client")


def test_revoked_client(signed, api_client):
    api_client.revoked_at = timezone.now()
    api_client.save(update_fields=["revoked_at"])
    assert_problem(signed.get(WHOAMI), 401, "revoked_client")


def test_anonymous_is_401(client):
    assert_problem(client.get(WHOAMI), 401, "not_authenticated")


@pytest.mark.parametrize("role,admdvs,expect_admdvs", [("bureau", "340000", "340000"),
                                                        ("clearing_staff", "000000", None)])
def test_staff_bearer_whoami(staff_bearer, role, admdvs, expect_admdvs):
    resp = staff_bearer(role, admdvs).get(WHOAMI)
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert (body["role"], body["admdvs"], body["fixmedins_code"]) == (role, expect_admdvs, None)


def test_unknown_bearer_token(client):
    resp = client.get(WHOAMI, headers={"Authorization": "Bearer not-a-token"})
    assert_problem(resp, 401, "invalid_token")
