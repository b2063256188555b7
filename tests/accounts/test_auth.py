"""``POST /api/v1/auth/token`` and staff bearer tokens (spec/security.md §People)."""
from __future__ import annotations

import datetime as dt

from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken
from accounts.services import staff_create
from core.auth import token_hash

PW = "Long-enough-password-42"


def test_token_issued_and_usable(db):
    staff_create(username="ah", password=PW, admdvs="340000", role="bureau")
    resp = Client().post("/api/v1/auth/token", {"username": "ah", "password": PW},
                         content_type="application/json")
    assert resp.status_code == 200
    body = resp.json()
    stored = ApiToken.objects.get()
    assert stored.token_hash == token_hash(body["token"]) and body["token"] not in stored.token_hash
    left = stored.expires_at - timezone.now()
    assert dt.timedelta(hours=11, minutes=59) < left <= dt.timedelta(hours=12)
    who = Client().get("/api/v1/whoami", headers={"Authorization": f"Bearer {body['token']}"})
    assert who.json()["role"] == "bureau" and who.json()["admdvs"] == "340000"


def test_wrong_password_401_then_locked(db):
    staff_create(username="ah", password=PW, admdvs="340000", role="bureau")
    c = Client()
    for _ in range(5):
        resp = c.post("/api/v1/auth/token", {"username": "ah", "password": "nope"},
                      content_type="application/json")
        assert resp.status_code == 401
        assert resp.json()["code"] == "invalid_credentials"
        assert resp["Content-Type"] == "application/problem+json"
    resp = c.post("/api/v1/auth/token", {"username": "ah", "password": PW}, content_type="application/json")
    assert resp.status_code == 429 and resp.json()["code"] == "too_many_attempts"
    assert int(resp["Retry-After"]) > 0


def test_missing_field_400(db):
    resp = Client().post("/api/v1/auth/token", {"username": "ah"}, content_type="application/json")
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["field"] == "password"


def test_expired_token_refused(db, staff_client):
    c = staff_client("clearing_staff")
    ApiToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    resp = c.get("/api/v1/whoami")
    assert resp.status_code == 401 and resp.json()["code"] == "invalid_token"


def test_institution_client_fixture_signs(examples, institution_client):
    c = institution_client("H31010400001")
    resp = c.get("/api/v1/whoami")
    assert resp.status_code == 200 and resp.json()["fixmedins_code"] == "H31010400001"
