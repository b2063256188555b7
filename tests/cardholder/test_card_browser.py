"""The card pages in real headless Chromium (Debian's ``chromium``): the card-only holder 示例辛
signs in, reads "my cards" and "card usage" (amounts, the same-city benefit, a refund), opens a
receipt verified against the signed card cycle head, reports the card lost through the confirmation
step, and reads the usage again in English. The strict Content-Security-Policy blocks nothing.

Screenshots (phone width) go to ``test-output/cardholder/``; with ``UPDATE_SCREENSHOTS=1`` to
``docs/screenshots/`` (the committed ones). Without ``/usr/bin/chromium`` the test fails under CI
and is skipped elsewhere."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.bureau.test_browser import _require_cjk_font
from tests.cardholder.card_world import HOLDER_ONLY, card_day
from tests.cardholder.conftest import PASSWORD, post_json
from tests.cardholder.test_browser import CHROMIUM, CHROMIUM_ARGS, _require_chromium

ROOT = Path(__file__).resolve().parents[2]
UPDATE = os.environ.get("UPDATE_SCREENSHOTS") == "1"
OUTPUT = ROOT / ("docs/screenshots" if UPDATE else "test-output/cardholder")


def _shot(page, name: str) -> None:  # noqa: ANN001
    page.screenshot(path=str(OUTPUT / name), full_page=True)


@pytest.mark.browser
def test_card_pages_in_chromium(live_server, examples, monkeypatch):  # noqa: ANN001
    _require_chromium()
    _require_cjk_font()
    from django.test import Client
    from playwright.sync_api import sync_playwright

    day = card_day()
    body = {"certno": HOLDER_ONLY["certno"], "card_no": HOLDER_ONLY["card_no"], "password": PASSWORD}
    resp = post_json(Client(), "/api/v1/cardholder/activate", body)
    assert resp.status_code == 201, resp.content
    OUTPUT.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
            console: list[str] = []
            page.on("console", lambda message: console.append(message.text))
            page.goto(live_server.url + "/")
            page.fill("#certno", HOLDER_ONLY["certno"])
            page.fill("#password", PASSWORD)
            page.click("#signin-submit")
            page.wait_for_url(live_server.url + "/me/cards/")
            card = page.locator("article.sscard")
            assert card.count() == 1
            assert card.locator(".cardno").inner_text() == "A31****08"
            assert card.locator(".status").inner_text() == "正常"
            assert card.locator("dd.issuer").inner_text() == "上海市 310000"
            assert page.locator("#holder-certno").inner_text() == "3101**********0313"
            _shot(page, "cardholder-cards.png")

            page.click("#nav-usage")
            page.wait_for_url(live_server.url + "/me/card-usage/")
            assert page.locator("article.use").count() == 5
            scenic = page.locator(f"#use-{day['scenic']['acpt_id']}")
            assert scenic.locator("tr.f-list_amt td").inner_text() == "95.00"
            assert scenic.locator("tr.f-benefit td").inner_text() == "−95.00"
            assert scenic.locator("tr.f-amt td").inner_text() == "0.00"
            assert "同城待遇：70 岁起免费" in scenic.locator("tr.f-benefit th").inner_text()
            refund = page.locator(f"#use-{day['refund']['acpt_id']}")
            assert refund.locator(".status").inner_text() == "退款"
            assert refund.locator("tr.f-amt td").inner_text() == "-2.00"
            _shot(page, "cardholder-card-usage.png")

            page.locator(f"#use-{day['metro']['acpt_id']} a.receipt-link").click()
            page.wait_for_url(f"{live_server.url}/me/card-usage/{day['metro']['acpt_id']}/receipt")
            assert page.locator("#verdict").inner_text() == "✔ 已验证"
            assert page.locator(".steps li.ok").count() == 4
            assert page.locator("#clr-amt").inner_text() == "3.00"
            _shot(page, "cardholder-card-receipt.png")

            page.click("#nav-cards")
            page.wait_for_url(live_server.url + "/me/cards/")
            page.locator("article.sscard a.button").click()
            page.wait_for_url(f"{live_server.url}/me/cards/*/report-lost")
            assert page.locator("#report-card").inner_text() == "A31****08"
            _shot(page, "cardholder-report-lost.png")
            page.click("#report-confirm")
            page.wait_for_url(live_server.url + "/me/cards/")
            assert page.locator("article.sscard .status").inner_text() == "临时挂失"
            assert "已挂失" in page.locator(".messages").inner_text()
            assert page.locator("article.sscard a.button").count() == 0
            assert page.locator("article.sscard dd.expires").count() == 1
            _shot(page, "cardholder-cards-reported.png")

            page.click("#nav-usage")
            page.wait_for_url(live_server.url + "/me/card-usage/")
            page.click("form.lang button[value='en']")
            page.wait_for_load_state()
            assert page.locator("html").get_attribute("lang") == "en"
            assert page.locator("h1").inner_text() == "Card usage"
            scenic_en = page.locator(f"#use-{day['scenic']['acpt_id']}").inner_text()
            assert "Same-city treatment: free from 70" in scenic_en
            _shot(page, "cardholder-card-usage-en.png")
            assert not [m for m in console if "Content Security Policy" in m], console
        finally:
            browser.close()
    assert (OUTPUT / "cardholder-card-usage.png").stat().st_size > 10_000
