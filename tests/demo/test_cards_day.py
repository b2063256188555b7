"""The card day's reader arithmetic (demo/cards_day.py) against the example same-city rules of
spec/cards.md (C3: 330400 admission, 60–69 half, 70+ free), independent of the service."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from demo.cards_day import Rule, _expected_amt

RULES = [
    Rule("330400", "admission", 60, 69, Decimal("0.50"), dt.date(2026, 1, 1), None),
    Rule("330400", "admission", 70, None, Decimal("0"), dt.date(2026, 1, 1), None),
]


def rec(used_at: str, list_amt: str = "95.00", svc: str = "admission") -> dict:
    return {"used_at": used_at, "list_amt": list_amt, "svc_type": svc}


def test_expected_amounts_follow_the_rules_by_age_on_the_shanghai_day():
    sixty_four = {"certno": "340100196203150012"}  # born 1962-03-15
    seventy = {"certno": "310101195603150313"}  # 示例辛, born 1956-03-15
    assert _expected_amt(rec("2026-11-27T10:45:00+08:00"), sixty_four, "330400", RULES) == "47.50"
    assert _expected_amt(rec("2026-11-27T10:30:00+08:00"), seventy, "330400", RULES) == "0.00"
    assert _expected_amt(rec("2026-11-27T10:30:00+08:00"), seventy, "330100", RULES) == "95.00"
    assert _expected_amt(rec("2026-11-27T10:30:00+08:00", svc="loan"), seventy, "330400", RULES) == "95.00"
    # the birthday counts on the Shanghai date: 2026-03-14T16:30Z is 03-15 00:30 in Shanghai (70)
    assert _expected_amt(rec("2026-03-14T16:30:00+00:00"), seventy, "330400", RULES) == "0.00"
    assert _expected_amt(rec("2026-03-14T15:30:00+00:00"), seventy, "330400", RULES) == "47.50"
    # before the rules are valid
    assert _expected_amt(rec("2025-12-31T10:00:00+08:00"), sixty_four, "330400", RULES) == "95.00"
