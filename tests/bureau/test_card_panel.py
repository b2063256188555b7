"""The card scheme's panel of the bureau dashboard: clearing staff see the latest closed card
cycle's figures and card statements beside the medical ones, never added to them; a medical
bureau sees none of it. In headless Chromium with a screenshot (``UPDATE_SCREENSHOTS=1`` writes
``docs/screenshots/``)."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest

from clearing.services.close import cycle_close
from clearing.services.cycles import open_cycle_date
from tests.bureau.conftest import PASSWORD, make_staff, sign_in
from tests.bureau.test_browser import _require_cjk_font
from tests.cardholder.card_world import card_day
from tests.cardholder.test_browser import CHROMIUM, CHROMIUM_ARGS, _require_chromium
from tests.clearing.helpers import record_example_day

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / ("docs/screenshots" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else "test-output/bureau")


def _both_schemes() -> dt.date:
    """The medical worked day (spec/clearing.md) closed, then the card day of
    ``tests.cardholder.card_world`` (its card cycle closed: 310000 → 320000 2.00 cross-province,
    3.00 intra-province in 310000, one free use at 嘉兴 under ``elder_70_free``). Returns the
    medical day."""
    day = open_cycle_date()
    record_example_day()
    cycle_close(clr_date=day, actor="test")
    card_day()
    return day


def _cell(html: str, row_id: str, n: int) -> str:
    row = re.search(rf'<tr id="{row_id}">(.*?)</tr>', html, re.S)
    assert row, row_id
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cells[n])).strip()


@pytest.mark.django_db
def test_staff_see_the_card_scheme_beside_the_medical_one(examples):  # noqa: ANN001
    _both_schemes()
    html = sign_in("clearing_staff", "000000").get("/bureau/").content.decode()
    assert 'id="card-scheme"' in html and "社保卡清算" in html
    for tile, value in (("card-items", "1"), ("card-gross", "2.00"), ("card-net-funding", "2.00")):
        assert re.search(rf'id="{tile}">{re.escape(value)}<', html), tile
    assert _cell(html, "card-st-310000", 3) == "-2.00" and _cell(html, "card-st-320000", 3) == "+2.00"
    assert _cell(html, "card-st-310000", 7) == "198.00" and _cell(html, "card-st-320000", 7) == "202.00"
    assert _cell(html, "card-st-330000", 5) == "95.00 (1)"  # the 70-year-old's free entry at 嘉兴
    assert _cell(html, "card-st-320000", 6) == "江苏示例社保卡合作银行"
    assert _cell(html, "card-st-340000", 7) == "80.00"
    # the medical figures are there too, and no figure adds the two schemes
    assert "398.22" in html and "5,422.22" in html
    assert "400.22" not in html and "5,420.22" not in html
    one = sign_in("clearing_staff", "000000").get("/bureau/?admdvs=320000").content.decode()
    assert 'id="card-st-320000"' in one and 'id="card-st-310000"' not in one


@pytest.mark.django_db
def test_a_medical_bureau_sees_no_card_figures(examples):  # noqa: ANN001
    _both_schemes()
    html = sign_in("bureau", "320000").get("/bureau/").content.decode()
    assert 'id="card-scheme"' not in html and "社保卡" not in html and "398.22" in html


@pytest.mark.django_db
def test_a_card_bureau_sees_its_card_scheme_only(examples):  # noqa: ANN001
    from django.test import Client

    day = _both_schemes()
    c = sign_in("card_bureau", "320000")
    html = c.get("/bureau/?admdvs=310000").content.decode()  # ?admdvs= is ignored: own province
    assert 'id="card-st-320000"' in html and 'id="card-st-310000"' not in html
    assert _cell(html, "card-st-320000", 3) == "+2.00" and "江苏示例社保卡合作银行" in html
    assert 'id="flows"' not in html and "398.22" not in html and "5,422.22" not in html  # no medical figure
    for page_of_day in ("", "/items.csv", "/statement.csv"):  # the medical cycle's pages
        assert c.get(f"/bureau/cycles/{day}{page_of_day}").status_code == 404, page_of_day
    assert c.post(f"/bureau/cycles/{day}/ack", {"csrfmiddlewaretoken": c.csrf}).status_code == 404
    desk = make_staff("card_desk", "310000")
    page = Client().post("/bureau/signin", {"username": desk, "password": PASSWORD})
    assert page.status_code == 403  # a service desk has no dashboard


@pytest.mark.django_db
def test_before_the_first_card_close_the_panel_says_so(examples):  # noqa: ANN001
    html = sign_in("clearing_staff", "000000").get("/bureau/").content.decode()
    assert 'id="card-none"' in html


@pytest.mark.browser
def test_card_panel_in_chromium(live_server, examples, monkeypatch, settings):  # noqa: ANN001
    _require_chromium()
    _require_cjk_font()
    from playwright.sync_api import sync_playwright

    _both_schemes()
    staff = make_staff("clearing_staff", "000000")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            console: list[str] = []
            page.on("console", lambda message: console.append(message.text))
            page.goto(live_server.url + "/bureau/signin")
            page.fill("#username", staff)
            page.fill("#password", PASSWORD)
            page.click("#signin-submit")
            page.wait_for_url(live_server.url + "/bureau/")
            panel = page.locator("#card-scheme")
            assert panel.locator("#card-gross").inner_text() == "2.00"
            assert panel.locator("#card-st-320000 td.net").inner_text() == "+2.00"
            assert panel.locator("svg.chart").count() == 1
            panel.screenshot(path=str(OUTPUT / "bureau-card-scheme.png"))
            page.screenshot(path=str(OUTPUT / "bureau-staff-dashboard-both-schemes.png"), full_page=True)
            page.click("form.lang button[value='en']")
            page.wait_for_load_state()
            assert "Card scheme" in page.locator("#card-scheme h2").inner_text()
            page.locator("#card-scheme").screenshot(path=str(OUTPUT / "bureau-card-scheme-en.png"))
            assert not [m for m in console if "Content Security Policy" in m], console

            zhejiang = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            zhejiang.goto(live_server.url + "/bureau/signin")
            zhejiang.fill("#username", make_staff("card_bureau", "330000"))
            zhejiang.fill("#password", PASSWORD)
            zhejiang.click("#signin-submit")
            zhejiang.wait_for_url(live_server.url + "/bureau/")
            assert zhejiang.locator("#card-st-330000 td").nth(5).inner_text() == "95.00 (1)"
            assert zhejiang.locator("#flows").count() == 0
            assert zhejiang.locator("#card-statements tbody tr").count() == 1
            zhejiang.screenshot(path=str(OUTPUT / "bureau-card-bureau-dashboard.png"), full_page=True)
        finally:
            browser.close()
    assert (OUTPUT / "bureau-card-scheme.png").stat().st_size > 10_000
