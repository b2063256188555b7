"""The cardholder page in real headless Chromium (Debian's ``chromium``; never a downloaded browser):
sign in, see E1's figures, open the receipt and see it verified. Saves screenshots under
``test-output/``. Without ``/usr/bin/chromium`` the test fails under CI (``CI=true``) and is
skipped with a notice elsewhere."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.cardholder.conftest import E1, PASSWORD, activate_and_sign_in, close_today

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"


def _require_chromium() -> None:
    if os.path.exists(CHROMIUM):
        return
    message = f"{CHROMIUM} is missing (apt-get install chromium); the browser test cannot run"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.mark.browser
def test_sign_in_see_e1_and_verified_receipt(live_server, examples, settle, monkeypatch):
    _require_chromium()
    from playwright.sync_api import sync_playwright

    e1 = settle("E1")
    settle("E2a")
    close_today()
    activate_and_sign_in(E1)
    OUTPUT.mkdir(exist_ok=True)
    # Playwright's sync API runs an event loop in this thread; the ORM is not used inside it, and the
    # live server answers from its own thread.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
            # the strict Content-Security-Policy (issue 10 §5) must block nothing the pages use
            console: list[str] = []
            page.on("console", lambda message: console.append(message.text))
            first = page.goto(live_server.url + "/")
            assert "script-src 'self'" in first.headers["content-security-policy"]
            page.fill("#certno", E1["certno"])
            page.fill("#password", PASSWORD)
            page.click("#signin-submit")
            page.wait_for_url(live_server.url + "/me/")
            record = page.locator(f"#rec-{e1['setl_id']}")
            fields = ("medfee_sumamt", "fund_pay_sumamt", "acct_pay", "psn_cash_pay", "clr_amt")
            figures = {field: record.locator(f"tr.f-{field} td").inner_text() for field in fields}
            assert figures == {"medfee_sumamt": "4160.52", "fund_pay_sumamt": "1993.22", "acct_pay": "500.00",
                               "psn_cash_pay": "1667.30", "clr_amt": "2493.22"}
            assert page.locator("#acct-balc").inner_text() == "0.00"
            assert page.locator(".record").count() == 1  # E2a is someone else's
            # the stylesheet is served locally and applied (cards have a white background)
            background = record.evaluate("el => getComputedStyle(el).backgroundColor")
            assert background == "rgb(255, 255, 255)"
            page.screenshot(path=str(OUTPUT / "cardholder-records.png"), full_page=True)
            record.locator("a.receipt-link").click()
            page.wait_for_url(f"{live_server.url}/me/receipts/{e1['setl_id']}")
            verdict = page.locator("#verdict").inner_text()
            assert "已验证" in verdict
            page.click("form.lang button[value='en']")  # the same page in English
            page.wait_for_load_state()
            assert page.locator("#verdict").inner_text() == "✔ Verified"
            assert page.locator("html").get_attribute("lang") == "en"
            assert page.locator(".steps li.ok").count() == 4
            page.screenshot(path=str(OUTPUT / "cardholder-receipt.png"), full_page=True)
            assert not [m for m in console if "Content Security Policy" in m], console
        finally:
            browser.close()
    assert (OUTPUT / "cardholder-receipt.png").stat().st_size > 1000
