"""Activation, tokens, lockouts, logout, password change and ``GET /me`` (spec/cardholder-api.md)."""
from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken
from cardholder import lockout
from cardholder.models import CardholderLogin
from core.models import AuditRecord
from tests.cardholder.conftest import E1, E2, E3, PASSWORD, activate_and_sign_in, post_json
from tests.signing import BearerClient


def _activate(body: dict, address: str = "127.0.0.1"):
    return post_json(Client(REMOTE_ADDR=address), "/api/v1/cardholder/activate", body)


def _token(certno: str, password: str, address: str = "127.0.0.1"):
    return post_json(Client(REMOTE_ADDR=address), "/api/v1/cardholder/token",
                     {"certno": certno, "password": password})


def test_activate_creates_hashed_login_and_audits_without_personal_data(examples):
    resp = _activate({"certno": E1["certno"], "card_no": E1["card_no"], "password": PASSWORD})
    assert resp.status_code == 201
    assert resp.json() == {"psn_no": E1["psn_no"], "active": True}
    login = CardholderLogin.objects.get()
    assert login.person.psn_no == E1["psn_no"]
    assert PASSWORD not in login.password and login.password.startswith("md5$")
    record = AuditRecord.objects.get(action="cardholder.activate")
    assert record.object_id == E1["psn_no"] and record.role == "cardholder"
    dumped = str(record.detail) + record.actor + record.object_id
    assert E1["certno"] not in dumped and E1["card_no"] not in dumped and "示例甲" not in dumped


def test_activate_twice_409(examples):
    body = {"certno": E1["certno"], "card_no": E1["card_no"], "password": PASSWORD}
    assert _activate(body).status_code == 201
    resp = _activate(body)
    assert resp.status_code == 409 and resp.json()["code"] == "already_active"
    assert resp["Content-Type"] == "application/problem+json"


def test_activate_wrong_card_and_unknown_person_look_the_same(examples):
    wrong_card = _activate({"certno": E1["certno"], "card_no": E2["card_no"], "password": PASSWORD})
    # A valid GB 11643 number that is not registered (check digit computed).
    unknown = _activate({"certno": "110101199003074370", "card_no": E1["card_no"], "password": PASSWORD})
    assert wrong_card.status_code == unknown.status_code == 422
    assert wrong_card.json() == unknown.json()
    assert wrong_card.json()["code"] == "activation_failed"
    assert CardholderLogin.objects.count() == 0


def test_activate_normalises_certno(examples):
    # lower-case x and full-width digits are the same certno (NFKC, upper-case X)
    raw = "３４０１０２１９９００２１５３２１x"
    resp = _activate({"certno": raw, "card_no": E3["card_no"], "password": PASSWORD})
    assert resp.status_code == 201 and resp.json()["psn_no"] == E3["psn_no"]
    assert _token(E3["certno"], PASSWORD).status_code == 200


@pytest.mark.parametrize("body, field", [
    ({"certno": E1["certno"], "card_no": E1["card_no"], "password": "short-pw1"}, "password"),
    ({"certno": "34010419800101123", "card_no": E1["card_no"], "password": PASSWORD}, "certno"),
    ({"certno": E1["certno"], "password": PASSWORD}, "card_no"),
])
def test_activate_malformed_400_names_field(examples, body, field):
    resp = _activate(body)
    assert resp.status_code == 400 and resp.json()["code"] == "invalid"
    assert [e["field"] for e in resp.json()["errors"]] == [field]
    assert CardholderLogin.objects.count() == 0


def test_token_is_12h_bearer_of_role_cardholder(examples):
    activate_and_sign_in(E1)
    resp = _token(E1["certno"], PASSWORD)
    assert resp.status_code == 200
    body = resp.json()
    stored = ApiToken.objects.filter(person__psn_no=E1["psn_no"]).latest("id")
    assert stored.expires_at == dt.datetime.fromisoformat(body["expires_at"])
    left = stored.expires_at - timezone.now()
    assert dt.timedelta(hours=11, minutes=59) < left <= dt.timedelta(hours=12)
    who = BearerClient(body["token"]).get("/api/v1/whoami").json()
    assert who["role"] == "cardholder" and who["actor"] == E1["psn_no"]
    assert AuditRecord.objects.filter(action="cardholder.login", object_id=E1["psn_no"]).count() == 2


def test_token_wrong_password_or_unknown_401(examples):
    activate_and_sign_in(E1)
    wrong = _token(E1["certno"], "not-the-password")
    not_active = _token(E2["certno"], PASSWORD)
    assert wrong.status_code == not_active.status_code == 401
    assert wrong.json()["code"] == not_active.json()["code"] == "invalid_credentials"
    assert AuditRecord.objects.filter(action="cardholder.login_failed").count() == 1


def test_lockout_per_address_whatever_the_password(examples):
    activate_and_sign_in(E1)
    for _ in range(5):
        assert _token(E1["certno"], "wrong-password-x", "10.0.0.1").status_code == 401
    locked = _token(E1["certno"], PASSWORD, "10.0.0.1")
    assert locked.status_code == 429 and locked.json()["code"] == "too_many_attempts"
    assert 14 * 60 < int(locked["Retry-After"]) <= 15 * 60
    # another address is not locked out by a stranger's five failures
    assert _token(E1["certno"], PASSWORD, "10.0.0.2").status_code == 200


def test_lockout_per_certno_from_all_addresses(examples):
    activate_and_sign_in(E1)
    for i in range(20):
        assert _token(E1["certno"], "wrong-password-x", f"10.1.{i // 5}.1").status_code == 401
    locked = _token(E1["certno"], PASSWORD, "10.9.9.9")
    assert locked.status_code == 429
    assert 59 * 60 < int(locked["Retry-After"]) <= 60 * 60
    # other persons are not affected
    activate_and_sign_in(E2)
    assert _token(E2["certno"], PASSWORD, "10.9.9.9").status_code == 200


def test_success_does_not_count_as_failure(examples):
    activate_and_sign_in(E1)
    for _ in range(4):
        assert _token(E1["certno"], "wrong-password-x").status_code == 401
    for _ in range(3):
        assert _token(E1["certno"], PASSWORD).status_code == 200
    assert _token(E1["certno"], "wrong-password-x").status_code == 401
    assert _token(E1["certno"], PASSWORD).status_code == 429


def test_lockout_ends_when_window_passes(examples, monkeypatch):
    activate_and_sign_in(E1)
    for _ in range(5):
        assert _token(E1["certno"], "wrong-password-x").status_code == 401
    assert _token(E1["certno"], PASSWORD).status_code == 429
    later = timezone.now() + dt.timedelta(seconds=lockout.PER_ADDRESS_WINDOW + 1)
    monkeypatch.setattr(timezone, "now", lambda: later)  # the window (a database row) has passed
    assert _token(E1["certno"], PASSWORD).status_code == 200


def test_lockout_keys_hold_no_clear_certno(examples):
    activate_and_sign_in(E1)
    _token(E1["certno"], "wrong-password-x")
    from core.models import AttemptWindow

    keys = [k for k in AttemptWindow.objects.values_list("key", flat=True) if "ch:fail" in k]
    assert len(keys) == 2
    assert all(E1["certno"] not in k and "127.0.0.1" not in k for k in keys)


def test_logout_revokes_token(examples):
    c = activate_and_sign_in(E1)
    assert c.get("/api/v1/me").status_code == 200
    assert c.post("/api/v1/cardholder/logout").status_code == 204
    resp = c.get("/api/v1/me")
    assert resp.status_code == 401 and resp.json()["code"] == "invalid_token"


def test_password_change_revokes_other_tokens(examples):
    c = activate_and_sign_in(E1)
    other = BearerClient(_token(E1["certno"], PASSWORD).json()["token"])
    bad_old = c.post("/api/v1/me/password", {"old": "not-the-password", "new": "another-password-1"})
    assert bad_old.status_code == 422 and bad_old.json()["code"] == "wrong_password"
    assert bad_old.json()["errors"][0]["field"] == "old"
    short = c.post("/api/v1/me/password", {"old": PASSWORD, "new": "short"})
    assert short.status_code == 400 and short.json()["errors"][0]["field"] == "new"
    assert other.get("/api/v1/me").status_code == 200  # nothing changed yet
    assert c.post("/api/v1/me/password", {"old": PASSWORD, "new": "another-password-1"}).status_code == 204
    assert c.get("/api/v1/me").status_code == 200
    assert other.get("/api/v1/me").status_code == 401
    assert _token(E1["certno"], PASSWORD).status_code == 401
    assert _token(E1["certno"], "another-password-1").status_code == 200
    assert AuditRecord.objects.filter(action="cardholder.password_change").count() == 1


def test_me_shows_own_person_masked(examples):
    body = activate_and_sign_in(E1).get("/api/v1/me").json()
    assert body == {
        "psn_no": E1["psn_no"], "certno": "3401**********1234", "psn_name": "示例甲", "insutype": "310",
        "insuplc_admdvs": "340100", "psn_insu_stas": "1", "acct_balc": "500.00",
        "filings": [{"filing_type": "12", "mdtrtarea_admvs": "310000", "begndate": "2020-01-01",
                     "enddate": "2099-12-31", "current": True}],
    }


@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/me/settlements", "/api/v1/me/accumulators",
                                  "/api/v1/me/settlements/S1/receipt"])
def test_other_roles_and_anonymous_refused(examples, staff_client, institution_client, path):
    assert Client().get(path).status_code == 401
    assert staff_client("clearing_staff").get(path).status_code == 403
    assert institution_client("H31010400001").get(path).status_code == 403
    assert staff_client("bureau", "340000").post("/api/v1/cardholder/logout").status_code == 403


def test_failed_activations_count_towards_the_lockout(examples):
    for _ in range(5):
        resp = _activate({"certno": E1["certno"], "card_no": "A99999999", "password": PASSWORD}, "10.6.0.1")
        assert resp.status_code == 422
    resp = _activate({"certno": E1["certno"], "card_no": E1["card_no"], "password": PASSWORD}, "10.6.0.1")
    assert resp.status_code == 429 and resp.json()["code"] == "too_many_attempts"
    assert CardholderLogin.objects.count() == 0
