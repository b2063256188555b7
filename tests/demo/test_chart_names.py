"""The main job's PNG chart labels both panels with province names, never codes: Chinese with a
CJK font installed, English without one (issue 14)."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import pytest

from clearing.services.close import cycle_close
from clearing.services.cycles import open_cycle_date
from demo import report
from tests.clearing.helpers import load_prefunds, record_example_day

pytestmark = pytest.mark.django_db
NAMES = {"310000": "上海市", "320000": "江苏省", "330000": "浙江省", "340000": "安徽省"}


@pytest.fixture
def closed(db):  # noqa: ANN001, ANN201
    load_prefunds()
    day = open_cycle_date()
    record_example_day()
    cycle_close(clr_date=day, actor="test")
    return report.load_closed(day)


def _labels(closed, tmp_path, monkeypatch) -> tuple[list[str], list[str]]:  # noqa: ANN001
    figures = []
    real_close = plt.close
    monkeypatch.setattr(plt, "close", lambda fig: figures.append(fig) or real_close(fig))
    report.chart(closed, NAMES, tmp_path / "chart.png")
    assert (tmp_path / "chart.png").stat().st_size > 10_000
    left, right = figures[0].axes
    return [t.get_text() for t in left.get_yticklabels()], [t.get_text() for t in right.get_yticklabels()]


def test_names_in_chinese_with_a_cjk_font(closed, tmp_path, monkeypatch):
    if report.cjk_font() is None:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    left, right = _labels(closed, tmp_path, monkeypatch)
    assert sorted(left) == sorted(NAMES.values())
    assert "安徽省 → 上海市" in right and not any(re.search(r"\d{6}", t) for t in left + right)


def test_names_in_english_without_one(closed, tmp_path, monkeypatch):
    monkeypatch.setattr(report, "cjk_font", lambda: None)
    left, right = _labels(closed, tmp_path, monkeypatch)
    assert sorted(left) == ["Anhui", "Jiangsu", "Shanghai", "Zhejiang"]
    assert "Anhui → Shanghai" in right
