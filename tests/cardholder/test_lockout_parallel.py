"""Lockouts hold under parallel attempts: threads with their own database connections hit the token
endpoint at the same moment; the counters live in Redis (shared by every process)."""
from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection
from django.test import Client

from tests.cardholder.conftest import E1, PASSWORD, activate_and_sign_in


def _burst(attempts: list[tuple[str, str]]) -> Counter:
    """Fire ``(password, address)`` attempts from one thread each, released together."""
    barrier = threading.Barrier(len(attempts))
    results: list[int] = []
    lock = threading.Lock()

    def attempt(password: str, address: str) -> None:
        try:
            client = Client(REMOTE_ADDR=address)
            barrier.wait(timeout=30)
            status = client.post("/api/v1/cardholder/token", {"certno": E1["certno"], "password": password},
                                 content_type="application/json").status_code
            with lock:
                results.append(status)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=a) for a in attempts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(results) == len(attempts)
    return Counter(results)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_attempts_from_one_address_check_at_most_five(examples):
    activate_and_sign_in(E1)
    outcome = _burst([("wrong-password-x", "10.3.0.1")] * 12)
    assert outcome == Counter({401: 5, 429: 7})
    assert Client(REMOTE_ADDR="10.3.0.1").post(
        "/api/v1/cardholder/token", {"certno": E1["certno"], "password": PASSWORD},
        content_type="application/json").status_code == 429


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_attempts_from_many_addresses_check_at_most_twenty(examples):
    activate_and_sign_in(E1)
    outcome = _burst([("wrong-password-x", f"10.4.{i}.1") for i in range(30)])
    assert outcome == Counter({401: 20, 429: 10})
    assert Client(REMOTE_ADDR="10.4.99.1").post(
        "/api/v1/cardholder/token", {"certno": E1["certno"], "password": PASSWORD},
        content_type="application/json").status_code == 429


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_correct_passwords_are_not_failures(examples):
    activate_and_sign_in(E1)
    # Slots are reserved while a password is checked, so successes in flight count against the limit
    # until they give their slot back; five at once all pass.
    assert _burst([(PASSWORD, "10.5.0.1")] * 5) == Counter({200: 5})
    # every slot was given back: five failures are still allowed from that address, then 429
    c = Client(REMOTE_ADDR="10.5.0.1")
    body = {"certno": E1["certno"], "password": "wrong-password-x"}
    for _ in range(5):
        assert c.post("/api/v1/cardholder/token", body, content_type="application/json").status_code == 401
    body["password"] = PASSWORD
    assert c.post("/api/v1/cardholder/token", body, content_type="application/json").status_code == 429
