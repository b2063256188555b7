"""The cardholder web pages with Django's test client (no browser): CSRF-protected session sign-in,
records with the split, accumulator bars, and the receipt checked server-side."""
from __future__ import annotations

import json

import pytest
import rfc8785
from django.test import Client

from tests.cardholder.conftest import E1, E2, PASSWORD, activate_and_sign_in, close_today


def _signed_in_browser(person: dict[str, str], password: str = PASSWORD,
                       address: str = "127.0.0.1") -> Client:
    from cardholder.models import CardholderLogin

    if not CardholderLogin.objects.filter(person__psn_no=person["psn_no"]).exists():
        activate_and_sign_in(person, password)
    c = Client(enforce_csrf_checks=True, REMOTE_ADDR=address)
    page = c.get("/")
    assert page.status_code == 200
    token = c.cookies["csrftoken"].value
    resp = c.post("/", {"certno": person["certno"], "password": password, "csrfmiddlewaretoken": token})
    assert resp.status_code == 302 and resp["Location"] == "/me/", resp.content.decode()[:500]
    return c


def test_signin_page_needs_csrf_and_is_phone_ready(examples):
    activate_and_sign_in(E1)
    c = Client(enforce_csrf_checks=True)
    page = c.get("/")
    html = page.content.decode()
    assert 'name="csrfmiddlewaretoken"' in html and 'name="viewport"' in html
    assert "/static/cardholder/site.css" in html
    assert 'src="http' not in html and 'href="http' not in html and "//cdn" not in html  # local files only
    refused = c.post("/", {"certno": E1["certno"], "password": PASSWORD})
    assert refused.status_code == 403


def test_records_page_shows_split_and_bars(examples, settle):
    e1 = settle("E1")
    settle("E2a")
    c = _signed_in_browser(E1)
    html = c.get("/me/").content.decode()
    assert f'id="rec-{e1["setl_id"]}"' in html
    for label, value in [("医疗费总额", "4160.52"), ("基金支付总额", "1993.22"), ("个人账户支付", "500.00"),
                         ("现金支付", "1667.30"), ("统筹基金支付比例", "0.8500")]:
        assert label in html and value in html
    assert "上海示例第一医院" in html and "普通住院" in html and "示例甲" in html
    assert "示例乙" not in html  # E2a belongs to someone else
    assert 'class="bar' in html  # deductible and cap bars
    assert "待清算" in html
    en = c.get("/me/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for label in ("Total medical fees", "Total fund payment", "General inpatient", "Not yet cleared"):
        assert label in en
    assert "医疗费总额" not in en and "4160.52" in en and 'lang="en"' in en


def test_pages_require_sign_in(examples):
    resp = Client().get("/me/")
    assert resp.status_code == 302 and resp["Location"] == "/"
    assert Client().get("/me/receipts/S1").status_code == 302


def test_wrong_password_and_lockout_on_the_page(examples):
    activate_and_sign_in(E1)
    c = Client(REMOTE_ADDR="10.2.0.1")
    for _ in range(5):
        resp = c.post("/", {"certno": E1["certno"], "password": "wrong-password-x"})
        assert resp.status_code == 400 and "证件号码或密码错误" in resp.content.decode()
    resp = c.post("/", {"certno": E1["certno"], "password": PASSWORD})
    assert resp.status_code == 429 and "尝试次数过多" in resp.content.decode()
    # the API shares the same counters
    api = Client(REMOTE_ADDR="10.2.0.1").post("/api/v1/cardholder/token",
                                              {"certno": E1["certno"], "password": PASSWORD},
                                              content_type="application/json")
    assert api.status_code == 429


def test_receipt_page_not_cleared_then_verified_then_tampered(examples, settle, monkeypatch):
    e1 = settle("E1")
    c = _signed_in_browser(E1)
    early = c.get(f"/me/receipts/{e1['setl_id']}")
    assert early.status_code == 409 and "尚未清算" in early.content.decode()
    close_today()
    page = c.get(f"/me/receipts/{e1['setl_id']}").content.decode()
    assert 'id="verdict">✔ 已验证' in page
    assert "2493.22" in page

    import clearing.selectors

    real = clearing.selectors.item_inclusion_proof

    def tampered(setl_id: str, clr_date=None) -> dict:  # noqa: ANN001
        receipt = real(setl_id, clr_date)
        leaf = json.loads(receipt["leaf"])
        leaf["clr_amt"] = "2493.23"
        return {**receipt, "leaf": rfc8785.dumps(leaf).decode()}

    monkeypatch.setattr(clearing.selectors, "item_inclusion_proof", tampered)
    bad = c.get(f"/me/receipts/{e1['setl_id']}").content.decode()
    assert "验证失败" in bad and "已验证" not in bad


def test_receipt_page_of_another_person_404(examples, settle):
    e2a = settle("E2a")
    c = _signed_in_browser(E1)
    assert c.get(f"/me/receipts/{e2a['setl_id']}").status_code == 404


def test_password_change_signs_out_the_browser(examples):
    api = activate_and_sign_in(E2)
    c = _signed_in_browser(E2)
    assert c.get("/me/").status_code == 200
    assert api.post("/api/v1/me/password", {"old": PASSWORD, "new": "a-new-password-2"}).status_code == 204
    resp = c.get("/me/")
    assert resp.status_code == 302 and resp["Location"] == "/"


def test_signout(examples):
    c = _signed_in_browser(E1)
    resp = c.post("/signout", {"csrfmiddlewaretoken": c.cookies["csrftoken"].value})
    assert resp.status_code == 302
    assert c.get("/me/").status_code == 302


@pytest.mark.parametrize("card_no, ok", [(E1["card_no"], True), ("A00000000", False)])
def test_activation_page(examples, card_no, ok):
    resp = Client().post("/activate", {"certno": E1["certno"], "card_no": card_no, "password": PASSWORD,
                                       "password2": PASSWORD})
    html = resp.content.decode()
    assert ("已开通" in html) is ok and ("信息不匹配" in html) is (not ok)


def test_accumulator_bars_after_e2a_e2b(examples, settle):
    settle("E2a")
    settle("E2b")
    html = _signed_in_browser(E2).get("/me/").content.decode()
    acc = html.split('data-group="outpatient"')[1].split("</section>")[0]
    assert '<span class="dedc-used">200.00</span> / <span class="dedc">200.00</span>' in acc
    assert '<span class="fund-paid">101.78</span> / <span class="cap">6000.00</span>' in acc
    assert 'value="100"' in acc and 'value="1"' in acc  # 101.78 of 6000.00 → 1 %
