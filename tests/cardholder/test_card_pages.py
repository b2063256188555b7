"""The cardholder's card pages with Django's test client (no browser): a card-only holder signs in
through the one sign-in form, sees "my cards", reports the card lost through the confirmation step
(CSRF, idempotent, clear refusals), and reads "card usage" with amounts, benefits, a refund and a
receipt checked against the signed card cycle head. Personal data never appears unmasked."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.cardholder.card_world import HOLDER_ONLY, card_day
from tests.cardholder.conftest import E1, PASSWORD, activate_and_sign_in, post_json

pytestmark = pytest.mark.django_db


def _browser(certno: str = HOLDER_ONLY["certno"], card_no: str = HOLDER_ONLY["card_no"]) -> Client:
    """A CSRF-enforcing client signed in through the sign-in form (activated through the API)."""
    api = Client()
    assert post_json(api, "/api/v1/cardholder/activate",
                     {"certno": certno, "card_no": card_no, "password": PASSWORD}).status_code == 201
    c = Client(enforce_csrf_checks=True)
    c.get("/")
    token = c.cookies["csrftoken"].value
    resp = c.post("/", {"certno": certno, "password": PASSWORD, "csrfmiddlewaretoken": token})
    assert resp.status_code == 302, resp.content.decode()[:300]
    return c


def _clean(html: str) -> None:
    """No clear certno, card number or card_sn on a page."""
    for secret in (HOLDER_ONLY["certno"], HOLDER_ONLY["card_no"], HOLDER_ONLY["card_sn"], E1["certno"]):
        assert secret not in html


def _strict(resp) -> str:  # noqa: ANN001
    """The page's HTML, after checking its strict CSP and that nothing is inline."""
    csp = resp["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
    html = resp.content.decode()
    assert "<script>" not in html and " style=" not in html and "<style" not in html
    return html


def _card_id() -> int:
    from cards.models import Card
    from core.crypto import blind_index

    return Card.objects.get(card_no_bidx=blind_index(HOLDER_ONLY["card_no"], purpose="card_no")).pk


def test_card_only_holder_activates_on_the_page(examples):  # noqa: ANN001
    c = Client(enforce_csrf_checks=True)
    page = c.get("/activate").content.decode()
    assert 'id="card-only-hint"' in page
    form = {"certno": HOLDER_ONLY["certno"], "card_no": HOLDER_ONLY["card_no"], "password": PASSWORD,
            "password2": PASSWORD, "csrfmiddlewaretoken": c.cookies["csrftoken"].value}
    done = c.post("/activate", form)
    assert done.status_code == 200 and "已开通。" in done.content.decode()
    assert c.post("/activate", form).status_code == 409  # already active
    signin = c.post("/", {"certno": HOLDER_ONLY["certno"], "password": PASSWORD,
                          "csrfmiddlewaretoken": c.cookies["csrftoken"].value})
    assert signin.status_code == 302 and signin["Location"] == "/me/cards/"


def test_card_only_holder_lands_on_my_cards(examples):  # noqa: ANN001
    c = _browser()
    assert c.get("/me/")["Location"] == "/me/cards/"  # no medical records to show
    page = c.get("/me/cards/")
    html = _strict(page)
    assert page.status_code == 200
    card = re.search(r'<article class="card sscard stas-active" id="card-(\d+)">(.*?)</article>', html, re.S)
    assert card is not None and int(card.group(1)) == _card_id()
    body = card.group(2)
    assert "A31****08" in body and "正常" in body and "上海市 310000" in body
    assert "2024-01-01" in body and "2033-12-31" in body and "第三代（含交通联合）" in body
    assert "卡片登记" in body and f'href="/me/cards/{_card_id()}/report-lost"' in body
    assert "示例辛" in html and "3101**********0313" in html
    assert 'id="nav-records"' not in html and 'id="nav-usage"' in html
    en = c.get("/me/cards/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "In use" in en and "Status history" in en and "正常" not in en
    _clean(html + en)


def test_report_lost_confirmation_csrf_and_idempotency(examples):  # noqa: ANN001
    from cards.models import Card, CardStatusChange, DenyListVersion

    c = _browser()
    card_id = _card_id()
    confirm = c.get(f"/me/cards/{card_id}/report-lost")
    html = _strict(confirm)
    assert confirm.status_code == 200 and 'id="report-confirm"' in html and "7 天后自动解除" in html
    reference = re.search(r'name="reference" value="([A-Za-z0-9_-]+)"', html).group(1)
    assert Card.objects.get(pk=card_id).card_stas == "active"  # the confirmation page changes nothing
    anonymous = Client().post(f"/me/cards/{card_id}/report-lost", {"reference": reference})
    assert anonymous.status_code == 302 and anonymous["Location"] == "/"  # to the sign-in page
    refused = c.post(f"/me/cards/{card_id}/report-lost", {"reference": reference})
    assert refused.status_code == 403  # no CSRF token
    versions = DenyListVersion.objects.count()
    token = c.cookies["csrftoken"].value
    done = c.post(f"/me/cards/{card_id}/report-lost", {"reference": reference, "csrfmiddlewaretoken": token})
    assert done.status_code == 302 and done["Location"] == "/me/cards/"
    card = Card.objects.get(pk=card_id)
    assert card.card_stas == "temp_lost" and DenyListVersion.objects.count() == versions + 1
    move = CardStatusChange.objects.filter(card=card).latest("id")
    assert (move.role, move.reason, move.reference, move.to_stas) == ("cardholder", "cardholder", reference,
                                                                     "temp_lost")
    after = c.get("/me/cards/").content.decode()
    assert "已挂失" in after and "A31****08" in after and "临时挂失" in after and "本人（网上）" in after
    assert f'href="/me/cards/{card_id}/report-lost"' not in after  # only active cards offer the report
    again = c.post(f"/me/cards/{card_id}/report-lost", {"reference": reference, "csrfmiddlewaretoken": token})
    assert again.status_code == 302 and DenyListVersion.objects.count() == versions + 1
    assert "已处于挂失状态，未作更改" in c.get("/me/cards/").content.decode()
    assert CardStatusChange.objects.filter(card=card).count() == 2  # opening + one report
    page = c.get(f"/me/cards/{card_id}/report-lost").content.decode()
    assert 'id="report-not-possible"' in page and 'id="report-confirm"' not in page
    _clean(after + page)


def test_report_lost_refusals_are_clear(examples):  # noqa: ANN001
    from cards.services.moves import card_status_request
    from tests.cards.conftest import desk

    c = _browser()
    card_id, token = _card_id(), c.cookies["csrftoken"].value
    card_status_request(principal=desk("320000"), card_no=HOLDER_ONLY["card_no"], to="lost", reason="desk",
                        reference="D-LOST", certno=HOLDER_ONLY["certno"], card_sn=None)
    resp = c.post(f"/me/cards/{card_id}/report-lost", {"reference": "web-1", "csrfmiddlewaretoken": token})
    html = resp.content.decode()
    assert resp.status_code == 409 and "<code>invalid_transition</code>" in html
    assert "该卡当前状态下不能挂失。" in html and "正式挂失" in html
    bad = c.post(f"/me/cards/{card_id}/report-lost", {"reference": "a b", "csrfmiddlewaretoken": token})
    assert bad.status_code == 400 and "<code>invalid</code>" in bad.content.decode()
    from cards.models import Card
    from core.crypto import blind_index

    other = Card.objects.get(card_no_bidx=blind_index(E1["card_no"], purpose="card_no")).pk
    assert c.get(f"/me/cards/{other}/report-lost").status_code == 404  # another holder's card
    stranger = c.post(f"/me/cards/{other}/report-lost", {"reference": "web-2", "csrfmiddlewaretoken": token})
    assert stranger.status_code == 404 and Card.objects.get(pk=other).card_stas == "active"


def test_card_usage_and_verified_receipt(examples):  # noqa: ANN001
    day = card_day()
    c = _browser()
    page = c.get("/me/card-usage/")
    html = _strict(page)
    assert page.status_code == 200
    ids = re.findall(r'<article class="card use[^"]*" id="use-(CA\d+)"', html)
    # newest use first; the refund carries its original's used_at and a later id
    assert ids == [day[k]["acpt_id"] for k in ("hangzhou", "refund", "nanjing", "scenic", "metro")]

    def card(name: str) -> str:
        return html.split(f'id="use-{day[name]["acpt_id"]}"')[1].split("</article>")[0]

    scenic = card("scenic")
    assert "嘉兴示例景区" in scenic and "嘉兴市" in scenic and "95.00" in scenic and "−95.00" in scenic
    assert "同城待遇：70 岁起免费" in scenic and "免费使用：已登记，无需清算" in scenic
    metro = card("metro")
    assert "上海示例地铁" in metro and "3.00" in metro and "电子钱包" in metro and "receipt-link" in metro
    refund = card("refund")
    assert "退款" in refund and "-2.00" in refund and day["nanjing"]["acpt_id"] in refund
    assert "将于" in card("hangzhou") and "receipt-link" not in card("hangzhou")
    _clean(html)

    receipt = c.get(f"/me/card-usage/{day['metro']['acpt_id']}/receipt")
    text = _strict(receipt)
    assert receipt.status_code == 200 and 'id="verdict">✔ 已验证' in text
    assert text.count('<li class="ok">') == 4 and "社保卡清算（与医保分开清算）" in text
    assert c.get(f"/me/card-usage/{day['scenic']['acpt_id']}/receipt").status_code == 404  # free: no receipt
    assert c.get(f"/me/card-usage/{day['hangzhou']['acpt_id']}/receipt").status_code == 409  # not yet closed
    activate_and_sign_in(E1)
    assert c.get("/me/card-usage/CA00000000000000/receipt").status_code == 404

    paged = c.get("/me/card-usage/?page_size=2").content.decode()
    assert len(re.findall(r'id="use-CA', paged)) == 2 and 'id="page-next"' in paged and "共 5 条记录" in paged
    nxt = re.search(r'href="([^"]+)" id="page-next"', paged).group(1).replace("&amp;", "&")
    second = c.get(nxt).content.decode()
    assert len(re.findall(r'id="use-CA', second)) == 2 and 'id="page-previous"' in second
    ranged = c.get("/me/card-usage/?from=2000-01-01&to=2000-01-02").content.decode()
    assert 'id="no-uses"' in ranged
    bad = c.get("/me/card-usage/?from=2026-13-40")
    assert bad.status_code == 400 and "<code>invalid</code>" in bad.content.decode()


def test_medical_person_sees_cards_beside_records(examples):  # noqa: ANN001
    """示例甲 (an insured person) signs in as before and reaches her card from the same pages."""
    c = _browser(E1["certno"], E1["card_no"])
    html = c.get("/me/").content.decode()
    assert 'id="nav-records"' in html and 'id="nav-cards"' in html
    cards = c.get("/me/cards/").content.decode()
    assert "A34****01" in cards and "合肥市 340100" in cards and "安徽省" in cards
    _clean(cards)
