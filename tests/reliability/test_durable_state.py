"""Replay protection and sign-in lockouts survive a Redis that lost its data (issue 10 §3).

A private ``redis-server`` without persistence (``tests/reliability/harness.py``) is the cache;
it is killed and started again empty between the first use of a signed request and its replay."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.cache import caches
from django.test import Client, override_settings
from django.utils import timezone

from core.durable import attempt_window_add, durable_purge, nonce_consume
from core.models import AttemptWindow, SeenNonce
from tests.fixtures import FAST_HASHERS
from tests.reliability.harness import ThrowawayRedis
from tests.settlement.conftest import CERT, bill
from tests.settlement.test_examples import E1_LINES

pytestmark = pytest.mark.django_db
PREVIEW = "/api/v1/settlements/preview"


@pytest.fixture
def empty_after_restart():  # noqa: ANN201
    """The cache on a throw-away Redis; calling the fixture's value restarts it, empty."""
    server = ThrowawayRedis()
    server.start()
    location = server.url(1)
    cache = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location}}

    def restart() -> None:
        server.stop()
        server.start()
        for _ in range(3):  # the client's pooled connections died with the server
            try:
                caches["default"].get("warm-up")
                break
            except Exception:  # noqa: BLE001, S112
                continue
        assert caches["default"].get("warm-up") is None

    try:
        with override_settings(CACHES=cache):
            yield restart
    finally:
        server.cleanup()


def test_captured_request_replayed_after_redis_restart_is_refused(examples, institution_client,
                                                                    empty_after_restart):
    """Before: the same bytes resent after the restart were answered 200."""
    hospital = institution_client("H31010400001")
    body = json.dumps(bill(CERT["甲"], "310", "21", E1_LINES, "1"), ensure_ascii=False).encode()
    headers = hospital.headers("POST", PREVIEW, body)

    def send():  # noqa: ANN202 - the captured bytes, again
        return Client().post(PREVIEW, data=body, content_type="application/json", headers=headers)

    assert send().status_code == 200
    assert send().json()["code"] == "replayed_nonce"  # Redis remembers
    empty_after_restart()
    resp = send()
    assert resp.status_code == 401 and resp.json()["code"] == "replayed_nonce"
    fresh = hospital.post(PREVIEW, json.loads(body))  # a new nonce is accepted, service unharmed
    assert fresh.status_code == 200


def test_staff_lockout_survives_redis_restart(examples, empty_after_restart):
    from accounts.services import staff_create

    with override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        staff_create(username="ops1", password="Staff-password-0123456789", admdvs="000000",
                     role="clearing_staff")

        def token(password: str):  # noqa: ANN202
            return Client().post("/api/v1/auth/token", {"username": "ops1", "password": password},
                                 content_type="application/json")

        assert [token("wrong-password-123").status_code for _ in range(5)] == [401] * 5
        empty_after_restart()
        resp = token("Staff-password-0123456789")
    assert resp.status_code == 429 and int(resp["Retry-After"]) > 800


def test_nonce_record_expires_with_the_ttl():
    now = timezone.now()
    assert nonce_consume(client_id="c-1", nonce="n" * 16, now=now) is True
    assert nonce_consume(client_id="c-1", nonce="n" * 16, now=now + dt.timedelta(seconds=599)) is False
    assert nonce_consume(client_id="c-2", nonce="n" * 16, now=now) is True  # per client
    assert nonce_consume(client_id="c-1", nonce="n" * 16, now=now + dt.timedelta(seconds=601)) is True
    assert durable_purge(now + dt.timedelta(seconds=700)) == 1  # c-2's; c-1's was renewed at +601 s
    assert SeenNonce.objects.count() == 1


def test_attempt_window_counts_expires_and_never_goes_negative():
    now = timezone.now()
    assert attempt_window_add(key="k", delta=-1, seconds=900, now=now) == (0, 0)
    assert attempt_window_add(key="k", delta=1, seconds=900, now=now) == (1, 900)
    assert attempt_window_add(key="k", delta=1, seconds=900, now=now + dt.timedelta(seconds=100)) == (2, 800)
    assert attempt_window_add(key="k", delta=-5, seconds=900, now=now + dt.timedelta(seconds=100)) == (0, 800)
    later = now + dt.timedelta(seconds=901)
    assert attempt_window_add(key="k", delta=1, seconds=900, now=later) == (1, 900)  # a new window
    assert durable_purge(later + dt.timedelta(seconds=900)) == 1
    assert AttemptWindow.objects.count() == 0
