"""The admin is no back door (issue 10 §1). Each test drives the real admin with Django's test
client, signed in through ``/admin/login/`` as clearing staff made by ``create_staff``."""
from __future__ import annotations

import io

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.forms.models import model_to_dict
from django.test import Client, override_settings

from accounts.models import ApiToken
from core.models import AuditRecord
from settlement.models import CatalogueItem, Policy
from tests.fixtures import FAST_HASHERS
from tests.settlement.conftest import CERT, bill
from tests.settlement.test_examples import E1_LINES
from tests.signing import BearerClient

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_hashers")]
PASSWORD = "Staff-password-0123456789"


@pytest.fixture
def fast_hashers():  # noqa: ANN201
    with override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        yield


def create_staff(username: str, role: str = "clearing_staff", admdvs: str = "000000") -> None:
    call_command("create_staff", username, "--admdvs", admdvs, "--role", role, "--password", PASSWORD,
                 stdout=io.StringIO())


def admin_login(username: str, password: str = PASSWORD) -> tuple[Client, int]:
    c = Client()
    resp = c.post("/admin/login/?next=/admin/", {"username": username, "password": password})
    return c, resp.status_code


def api_token(username: str, password: str = PASSWORD) -> str:
    resp = Client().post("/api/v1/auth/token", {"username": username, "password": password},
                         content_type="application/json")
    assert resp.status_code == 200, resp.content
    return resp.json()["token"]


def test_clearing_staff_are_not_superusers_and_hold_view_permissions_only(examples):
    """Before: ``create_staff --role clearing_staff`` made a superuser."""
    create_staff("ops1")
    user = get_user_model().objects.get(username="ops1")
    assert (user.is_staff, user.is_superuser) == (True, False)
    perms = user.get_all_permissions()
    assert "settlement.view_policy" in perms and "clearing.view_cycle" in perms and "cards.view_card" in perms
    assert all(p.split(".", 1)[1].startswith("view_") for p in perms)


def test_editing_a_policy_in_the_admin_is_impossible_and_e1_pays_the_same(examples, institution_client):
    """Before: POSTing pool_prop 1.0000 / deductible 0.00 changed 340000/310/inpatient in place and a
    preview of E1 paid hifp_pay 3344.97 instead of 1993.22."""
    create_staff("ops1")
    c, status = admin_login("ops1")
    assert status == 302
    policy = Policy.objects.get(insuplc_admdvs="340000", insutype="310", med_type_group="inpatient")
    page = c.get(f"/admin/settlement/policy/{policy.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    form = {k: ("" if v is None else v) for k, v in model_to_dict(policy).items()}
    form.update(pool_prop="1.0000", deductible="0.00", _save="Save")
    assert c.post(f"/admin/settlement/policy/{policy.pk}/change/", form).status_code == 403
    assert c.post("/admin/settlement/policy/add/", form).status_code == 403
    assert c.post(f"/admin/settlement/policy/{policy.pk}/delete/", {"post": "yes"}).status_code == 403
    policy.refresh_from_db()
    assert (str(policy.pool_prop), str(policy.deductible)) == ("0.8500", "1000.00")
    hospital = institution_client("H31010400001")
    preview = hospital.post("/api/v1/settlements/preview", bill(CERT["甲"], "310", "21", E1_LINES, "1"))
    assert preview.status_code == 200, preview.content
    assert preview.json()["setlinfo"]["hifp_pay"] == "1993.22"


def test_the_catalogue_is_neither_writable_nor_deletable_in_the_admin(examples):
    create_staff("ops1")
    c, _ = admin_login("ops1")
    item = CatalogueItem.objects.order_by("pk").first()
    form = {k: ("" if v is None else v) for k, v in model_to_dict(item).items()} | {"selfpay_prop": "0.0000"}
    assert c.post(f"/admin/settlement/catalogueitem/{item.pk}/change/", form).status_code == 403
    assert c.post(f"/admin/settlement/catalogueitem/{item.pk}/delete/", {"post": "yes"}).status_code == 403
    bulk = {"action": "delete_selected", "_selected_action": [item.pk], "post": "yes"}
    c.post("/admin/settlement/catalogueitem/", bulk)
    assert CatalogueItem.objects.filter(pk=item.pk, selfpay_prop=item.selfpay_prop).exists()


def test_every_money_or_rule_model_is_read_only_in_the_admin_even_for_a_superuser(examples):
    from django.contrib import admin

    root = get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)
    c = Client()
    c.force_login(root)
    apps = ("accounts", "settlement", "clearing", "cards")
    ours = [m for m in admin.site._registry if m._meta.app_label in apps]
    assert len(ours) == 40  # 13 cards models: their pages with data in tests/cards/test_admin.py
    for model in ours:
        meta = model._meta
        assert c.get(f"/admin/{meta.app_label}/{meta.model_name}/").status_code == 200, meta.label
        assert c.get(f"/admin/{meta.app_label}/{meta.model_name}/add/").status_code == 403, meta.label
        obj = model.objects.first()
        if obj is not None:
            url = f"/admin/{meta.app_label}/{meta.model_name}/{obj.pk}/"
            assert c.post(url + "change/", {}).status_code == 403, meta.label
            assert c.post(url + "delete/", {"post": "yes"}).status_code == 403, meta.label


def test_admin_login_shares_the_api_lockout(examples):
    """Before: 25 wrong passwords at /admin/login/, then the right one: signed in."""
    create_staff("ops1")
    for _ in range(25):
        _, status = admin_login("ops1", "wrong-password-123")
        assert status == 200  # the form again, not signed in
    c = Client()
    resp = c.post("/admin/login/?next=/admin/", {"username": "ops1", "password": PASSWORD})
    assert resp.status_code == 200 and "Too many failed sign-ins" in resp.content.decode()
    assert c.get("/admin/").status_code == 302  # still sent to the login page
    resp = Client().post("/api/v1/auth/token", {"username": "ops1", "password": PASSWORD},
                         content_type="application/json")
    assert resp.status_code == 429 and resp.json()["code"] == "too_many_attempts"


def test_api_failures_lock_the_admin_login_too(examples):
    create_staff("ops1")
    for _ in range(5):
        resp = Client().post("/api/v1/auth/token", {"username": "ops1", "password": "wrong-password-123"},
                             content_type="application/json")
        assert resp.status_code == 401
    _, status = admin_login("ops1")
    assert status == 200  # refused: the form again


def test_clearing_staff_cannot_reset_a_bureau_password_in_the_admin(examples):
    """Before: staff reset a bureau user's password in the admin and acted as that bureau, with no
    audit record and no django_admin_log row."""
    create_staff("ops1")
    create_staff("bureau34", role="bureau", admdvs="340000")
    bureau = get_user_model().objects.get(username="bureau34")
    c, _ = admin_login("ops1")
    resp = c.post(f"/admin/auth/user/{bureau.pk}/password/",
                  {"password1": "Taken-over-0123456789", "password2": "Taken-over-0123456789"})
    assert resp.status_code == 403
    bureau.refresh_from_db()
    assert bureau.check_password(PASSWORD)
    path = f"/admin/auth/user/{bureau.pk}/password/"
    record = AuditRecord.objects.filter(action="admin_request", object_id=path)
    assert list(record.values_list("actor", "detail")) == [("ops1", {"method": "POST", "status": 403})]


def test_a_password_reset_revokes_the_tokens_and_is_audited_in_both_logs(examples):
    """A superuser may still reset a password in the admin: the old token then answers 401, the
    reset is in the hash-chained audit (who, which user, how many tokens) and in django_admin_log."""
    create_staff("bureau34", role="bureau", admdvs="340000")
    bureau = get_user_model().objects.get(username="bureau34")
    old = BearerClient(api_token("bureau34"))
    assert old.get("/api/v1/cycles").status_code == 200
    get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)
    c, _ = admin_login("root")
    resp = c.post(f"/admin/auth/user/{bureau.pk}/password/",
                  {"password1": "Reset-password-0123456789", "password2": "Reset-password-0123456789",
                   "usable_password": "true"})
    assert resp.status_code == 302, resp.content[:500]
    assert old.get("/api/v1/cycles").status_code == 401
    assert ApiToken.objects.filter(user=bureau, revoked_at__isnull=True).count() == 0
    rec = AuditRecord.objects.filter(action="password_set", object_id="bureau34").last()
    assert (rec.actor, rec.detail) == ("root", {"reason": "password_set", "revoked_tokens": 1})
    assert LogEntry.objects.filter(object_id=str(bureau.pk), user__username="root").count() == 1


def test_own_password_change_in_the_admin_revokes_own_tokens(examples):
    create_staff("ops1")
    old = BearerClient(api_token("ops1"))
    c, _ = admin_login("ops1")
    new = "Newer-password-0123456"
    resp = c.post("/admin/password_change/",
                  {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert resp.status_code == 302
    assert old.get("/api/v1/cycles").status_code == 401
    assert AuditRecord.objects.filter(action="password_set", actor="ops1", object_id="ops1").exists()


def test_staff_logout_revokes_the_token(examples):
    """Before: there was no staff logout (``POST /api/v1/auth/logout`` → 404)."""
    create_staff("ops1")
    client = BearerClient(api_token("ops1"))
    other = BearerClient(api_token("ops1"))
    assert client.post("/api/v1/auth/logout").status_code == 204
    resp = client.get("/api/v1/cycles")
    assert resp.status_code == 401 and resp.json()["code"] == "invalid_token"
    assert other.get("/api/v1/cycles").status_code == 200  # only the calling token
    assert AuditRecord.objects.filter(action="token_revoke", actor="ops1").count() == 1


def test_every_admin_request_that_can_change_something_is_audited(examples):
    create_staff("ops1")
    c, _ = admin_login("ops1")
    c.post("/admin/logout/")
    admin_login("ops1", "wrong-password-123")
    rows = list(AuditRecord.objects.filter(action="admin_request").order_by("id")
                .values_list("actor", "object_id", "detail"))
    login = {"method": "POST", "username": "ops1"}
    assert rows == [
        ("ops1", "/admin/login/", login | {"status": 302, "signed_in": True}),
        ("ops1", "/admin/logout/", {"method": "POST", "status": 200}),
        ("anonymous", "/admin/login/", login | {"status": 200, "signed_in": False}),
    ]


def test_admin_sessions_last_at_most_12_hours(examples):
    """Before: Django's default of 14 days."""
    create_staff("ops1")
    c, _ = admin_login("ops1")
    assert 0 < c.session.get_expiry_age() <= 12 * 3600
    assert c.cookies["sessionid"]["max-age"] <= 12 * 3600
