"""The bureau dashboard pages: sign-in with the staff lockout, short sessions, scopes (a bureau
sees only its province; staff see all), acknowledgement, exports from the pages."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from bureau import web_auth
from clearing.models import StatementAck
from tests.bureau.conftest import PASSWORD, make_staff, sign_in

pytestmark = pytest.mark.django_db


def _text(resp) -> str:  # noqa: ANN001
    return re.sub(r"\s+", " ", resp.content.decode())


def _id(resp, element_id: str) -> str:  # noqa: ANN001
    match = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', resp.content.decode())
    assert match, element_id
    return match.group(1).strip()


def test_pages_need_sign_in_and_signin_redirects():
    c = Client()
    for path in ("/bureau/", "/bureau/cycles/2026-01-01", "/bureau/cycles/2026-01-01/items.csv"):
        resp = c.get(path)
        assert resp.status_code == 302 and resp["Location"] == "/bureau/signin"


def test_wrong_password_then_lockout_shared_with_the_api_token():
    username = make_staff("bureau", "320000")
    c = Client()
    for _ in range(5):
        resp = c.post("/bureau/signin", {"username": username, "password": "wrong"})
        assert resp.status_code == 400 and "用户名或密码错误" in resp.content.decode()
    resp = c.post("/bureau/signin", {"username": username, "password": PASSWORD})
    assert resp.status_code == 429 and "15" in _id(resp, "signin-error")
    api = Client().post(
        "/api/v1/auth/token", {"username": username, "password": PASSWORD}, content_type="application/json"
    )
    assert api.status_code == 429 and api.json()["code"] == "too_many_attempts"


def test_session_is_short_and_ends_on_password_change(closed_day, monkeypatch):
    c = sign_in("bureau", "320000")
    assert c.session.get_expiry_age() == web_auth.IDLE_SECONDS == 1800
    resp = c.get("/bureau/")
    assert resp.status_code == 200 and resp["Cache-Control"] == "no-store"
    since = c.session[web_auth.SESSION_SINCE]
    monkeypatch.setattr(web_auth.time, "time", lambda: since + web_auth.MAX_SECONDS + 1)
    assert c.get("/bureau/").status_code == 302
    monkeypatch.undo()
    c = sign_in("bureau", "320000")
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=c.username)
    user.set_password("Another-password-2026")
    user.save()
    assert c.get("/bureau/").status_code == 302


def test_bureau_sees_its_own_province_only(closed_day):
    day, _items = closed_day
    c = sign_in("bureau", "320000")
    resp = c.get("/bureau/")
    assert resp.status_code == 200
    assert _id(resp, "scope-title").startswith("江苏省")
    # today so far: 340000 → 320000 12.34 (the 310000 → 330000 item is not 320000's)
    assert (_id(resp, "today-receivable"), _id(resp, "today-payable"), _id(resp, "today-net")) == (
        "12.34",
        "0.00",
        "+12.34",
    )
    text = _text(resp)
    assert "上海市" not in re.sub(r"<option.*?</option>", "", text)  # no 310000 data anywhere
    # ?admdvs= is ignored for a bureau: still 320000's statement
    page = c.get(f"/bureau/cycles/{day}?admdvs=340000")
    assert _id(page, "st-net") == "+398.22" and _id(page, "st-payable") == "101.78"
    assert c.get(f"/bureau/cycles/{day}/statement.csv?admdvs=340000").content.decode().count("安徽省") == 1
    items = c.get(f"/bureau/cycles/{day}/items.csv").getvalue().decode().splitlines()
    assert len(items) == 1 + 4 and all("江苏省" in line for line in items[1:])


def test_staff_see_all_and_pick_a_province(closed_day):
    day, _items = closed_day
    c = sign_in("clearing_staff", "000000")
    resp = c.get("/bureau/")
    assert _id(resp, "scope-title") == "全部省份"
    assert (_id(resp, "today-items"), _id(resp, "today-gross")) == ("2", "17.34")
    text = _text(resp)
    for name in ("上海市", "江苏省", "浙江省", "安徽省"):
        assert name in text
    one = c.get("/bureau/?admdvs=340000")
    assert _id(one, "scope-title").startswith("安徽省") and _id(one, "today-payable") == "12.34"
    assert c.get("/bureau/?admdvs=990000").status_code == 404
    assert _id(c.get(f"/bureau/cycles/{day}?admdvs=340000"), "st-net") == "-2,922.22"
    items = c.get(f"/bureau/cycles/{day}/items.csv").getvalue().decode().splitlines()
    assert len(items) == 1 + 7


def test_acknowledge_from_the_page(closed_day):
    day, _items = closed_day
    c = sign_in("bureau", "320000")
    dash = _text(c.get("/bureau/"))
    assert f"/bureau/cycles/{day}" in dash and "每张对账单都已确认" not in dash
    resp = c.post(f"/bureau/cycles/{day}/ack", {"csrfmiddlewaretoken": c.csrf})
    assert resp.status_code == 302
    ack = StatementAck.objects.get()
    assert (ack.statement.admdvs, ack.acked_by) == ("320000", c.username)
    assert "每张对账单都已确认" in _text(c.get("/bureau/"))
    assert Client(enforce_csrf_checks=True).post(f"/bureau/cycles/{day}/ack").status_code in (302, 403)
    staff = sign_in("clearing_staff", "000000")
    assert staff.post(f"/bureau/cycles/{day}/ack", {"csrfmiddlewaretoken": staff.csrf}).status_code == 403


def test_reconciliation_matches_and_english(closed_day):
    day, _items = closed_day
    c = sign_in("bureau", "320000")
    page = c.get(f"/bureau/cycles/{day}")
    assert page.content.decode().count("✓") >= 5 and "✗" not in page.content.decode()
    en = c.get(f"/bureau/cycles/{day}", HTTP_ACCEPT_LANGUAGE="en")
    assert "Payable to 浙江省" in en.content.decode() and "Reconciliation" in en.content.decode()
