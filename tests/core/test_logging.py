"""Logs carry no certno in clear (spec/security.md §Personal data at rest: mask as 3401**********1234)."""
from __future__ import annotations

import io
import logging

import pytest

from core.logging import MaskPersonalDataFilter, mask_certno, mask_name, mask_text


@pytest.mark.parametrize("raw,masked", [
    ("340104198001011234", "3401**********1234"),
    ("34010419800101123X", "3401**********123X"),
    ("340104800101123", "3401*******1123"),
    ("1234", "****"),
    ("", ""),
    (None, None),
])
def test_mask_certno(raw, masked):
    assert mask_certno(raw) == masked


def test_mask_name():
    assert (mask_name("示例甲"), mask_name("张三"), mask_name("李"), mask_name("欧阳小明")) == \
        ("示*甲", "张*", "*", "欧**明")


def test_mask_text_masks_id_numbers_and_leaves_other_numbers():
    text = "lookup certno=340104198001011234 and 34010419800101123x, old 340104800101123; " \
           "setl_id 20261129121633123456S1a2b3c amount 4160.52 psn_no P3401000001"
    assert mask_text(text) == (
        "lookup certno=3401**********1234 and 3401**********123X, old 3401*******1123; "
        "setl_id 20261129121633123456S1a2b3c amount 4160.52 psn_no P3401000001"
    )


def test_filter_masks_message_arguments():
    record = logging.LogRecord("kuasheng.test", logging.WARNING, __file__, 1, "person %s not insured (%d)",
                               ("340104198001011234", 4), None)
    assert MaskPersonalDataFilter().filter(record) is True
    assert record.getMessage() == "person 3401**********1234 not insured (4)"


def test_configured_console_handler_masks(monkeypatch):
    """The settings' LOGGING wires the filter on the console handler every logger reaches."""
    handlers = [h for h in logging.getLogger().handlers
                if any(isinstance(f, MaskPersonalDataFilter) for f in h.filters)]
    assert handlers, "no handler with the personal-data filter on the root logger"
    stream = io.StringIO()
    monkeypatch.setattr(handlers[0], "stream", stream)
    logging.getLogger("kuasheng.settlement").warning("refused certno %s", "340104198001011234")
    out = stream.getvalue()
    assert "3401**********1234" in out
    assert "340104198001011234" not in out


def test_mask_text_masks_card_numbers_in_card_paths():
    """spec/cards.md: a card_no is masked in every log line; the card routes carry it in the path
    (the access line and Django's "Not Found: …" line print the path)."""
    text = ("POST /api/v1/me/cards/A34000001/temporary-loss 404; Not Found: /api/v1/cards/A33000104; "
            "GET /api/v1/cards/applications 201; GET /api/v1/cards?card_stas=active; "
            "/me/cards/12/report-lost")
    assert mask_text(text) == (
        "POST /api/v1/me/cards/A34****01/temporary-loss 404; Not Found: /api/v1/cards/A33****04; "
        "GET /api/v1/cards/applications 201; GET /api/v1/cards?card_stas=active; "
        "/me/cards/12/report-lost")
