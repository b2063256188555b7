"""The bureau dashboard in real headless Chromium (Debian's ``chromium``): sign in as a bureau and
as clearing staff, read the figures on screen, follow a statement, switch to English, and take
screenshots (screen and print media) of twelve closed cycles of a small network.

Screenshots go to ``test-output/bureau/``; with ``UPDATE_SCREENSHOTS=1`` to ``docs/screenshots/``
(the committed ones). Without ``/usr/bin/chromium`` the test fails under CI and is skipped elsewhere.
"""

from __future__ import annotations

import os
import random
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from clearing.services.close import cycle_close
from clearing.services.cycles import open_cycle_date
from clearing.services.disputes import dispute_open
from core.principals import Principal
from tests.bureau.conftest import PASSWORD, make_staff
from tests.cardholder.test_browser import CHROMIUM, CHROMIUM_ARGS, _require_chromium
from tests.clearing.helpers import load_prefunds, record

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / ("docs/screenshots" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else "test-output/bureau")
PAIRS = [
    ("340000", "310000", "H31010400001"),
    ("320000", "330000", "H33010600001"),
    ("340000", "320000", "H32010200001"),
    ("330000", "310000", "H31010400001"),
    ("310000", "340000", "P34010400001"),
    ("310000", "320000", "H32010200001"),
    ("320000", "310000", "H31010400001"),
    ("330000", "340000", "P34010400001"),
]


def _network(cycles: int = 12) -> list:
    """``cycles`` closed days of a seeded small network (3–6 items per pair and day), then a few
    items in the open cycle. Returns the closed dates."""
    rng = random.Random(20261201)  # noqa: S311 - test data
    load_prefunds()
    days, jiangsu_pays = [], []
    for _ in range(cycles):
        day = open_cycle_date()
        for payer, payee, code in PAIRS:
            for _i in range(rng.randint(1, 4)):
                item = record(payer, payee, Decimal(rng.randint(2_000, 150_000)) / 100, code)
                if payer == "320000":
                    jiangsu_pays.append(item)
        record("320000", "320000", "88.00", "H32010200001")
        cycle_close(clr_date=day, actor="test")
        days.append(day)
    record("340000", "320000", "1234.56", "H32010200001")
    record("320000", "330000", "99.90", "H33010600001")
    dispute_open(
        principal=Principal(role="bureau", actor="js-bureau", admdvs="320000"),
        setl_id=jiangsu_pays[-1].setl_id,
        reason_code="amount_error",
        amount=Decimal("10.00"),
        note="line 2 billed twice",
    )
    return days


def _require_cjk_font() -> None:
    """Without a CJK font Chromium draws the Chinese labels as boxes (apt-get install fonts-noto-cjk)."""
    found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout.strip()
    if found:
        return
    message = "no CJK font (apt-get install fonts-noto-cjk); the screenshots would show boxes"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _shot(page, name: str, **kw) -> None:  # noqa: ANN001
    page.screenshot(path=str(OUTPUT / name), full_page=True, **kw)


@pytest.mark.browser
def _load_regions(tmp_path: Path) -> None:
    """The regions again: ``live_server`` makes this test transactional, and a transactional test
    that ran before it flushed the rows the data migration had loaded (province names would be
    missing from every page)."""
    import shutil

    from django.core.management import call_command

    shutil.copy(ROOT / "data" / "examples" / "regions.csv", tmp_path / "regions.csv")
    call_command("import_reference", str(tmp_path), stdout=open(os.devnull, "w"))  # noqa: SIM115


def test_dashboard_in_chromium(live_server, db, monkeypatch, settings, tmp_path):
    _require_chromium()
    _require_cjk_font()
    from playwright.sync_api import sync_playwright

    _load_regions(tmp_path)

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    days = _network()
    bureau, staff = make_staff("bureau", "320000"), make_staff("clearing_staff", "000000")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page.goto(live_server.url + "/bureau/")
            page.wait_for_url(live_server.url + "/bureau/signin")
            _shot(page, "bureau-signin.png")
            page.fill("#username", bureau)
            page.fill("#password", PASSWORD)
            page.click("#signin-submit")
            page.wait_for_url(live_server.url + "/bureau/")
            assert page.locator("#scope-title").inner_text().startswith("江苏省")
            assert page.locator("#today-receivable").inner_text() == "1,234.56"
            assert page.locator("#today-payable").inner_text() == "99.90"
            assert page.locator("#history svg rect").count() == len(days)
            assert page.locator("#disputes tbody tr").count() == 1
            assert "10.00" in page.locator("#disputes tbody tr").inner_text()
            assert page.locator("#recon tr.bad").count() == 0 and page.locator("#recon tr.ok").count() == 8
            _shot(page, "bureau-dashboard.png")
            page.emulate_media(media="print")
            assert page.locator("#signout").is_hidden() and page.locator(".picker").count() == 0
            _shot(page, "bureau-dashboard-print.png")
            page.emulate_media(media="screen")
            page.click(f"#to-ack a[href*='{days[-1]}']")
            page.wait_for_url(f"{live_server.url}/bureau/cycles/{days[-1]}")
            page.click("#ack-submit")
            page.wait_for_url(f"{live_server.url}/bureau/cycles/{days[-1]}")
            assert "已由" in page.locator("#ack").inner_text()
            _shot(page, "bureau-cycle.png")
            with page.expect_download() as download:
                page.click("#statement-xlsx")
            assert download.value.suggested_filename == f"statement-{days[-1]}-320000.xlsx"
            page.click("form.lang button[value='en']")
            page.wait_for_load_state()
            assert "Reconciliation" in page.locator("#recon h2").inner_text()
            _shot(page, "bureau-cycle-en.png")
            page.click("#signout")
            page.wait_for_url(live_server.url + "/bureau/signin")

            staff_page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            staff_page.goto(live_server.url + "/bureau/signin")
            staff_page.fill("#username", staff)
            staff_page.fill("#password", PASSWORD)
            staff_page.click("#signin-submit")
            staff_page.wait_for_url(live_server.url + "/bureau/")
            assert staff_page.locator("#scope-title").inner_text() == "全部省份"
            assert staff_page.locator("#today-items").inner_text() == "2"
            assert staff_page.locator("#recon tr.bad").count() == 0  # Σ net is exactly 0.00 (also on SQLite)
            assert (
                staff_page.locator("#to-ack .more").inner_text() == "另有 35 张较早的对账单"
            )  # 4 × 12 − 1 acknowledged − 12 shown
            _shot(staff_page, "bureau-staff-dashboard.png")
        finally:
            browser.close()
    assert (OUTPUT / "bureau-dashboard.png").stat().st_size > 10_000
