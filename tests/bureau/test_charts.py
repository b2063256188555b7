"""The dashboard's SVG charts (bureau/charts.py): pure functions, exact geometry and labels."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

from bureau import charts
from bureau.charts import Point

NS = {"s": "http://www.w3.org/2000/svg"}


def test_nice_step_and_labels():
    assert charts.nice_step(Decimal("6166.00")) == Decimal("2000")
    assert charts.nice_step(Decimal("0.8")) == Decimal("0.2")
    assert charts.nice_step(Decimal("100")) == Decimal("50")
    assert charts.money_label(Decimal("2493.22")) == "2,493.22"
    assert charts.money_label(Decimal("-2000")) == "-2,000"
    assert charts.money_label(Decimal("15000")) == "1.5万"
    assert charts.money_label(Decimal("-2300000")) == "-230万"


def test_column_chart_signs_axis_and_escaping():
    svg = charts.column_chart(
        [
            Point("11-01", Decimal("398.22")),
            Point("11-02", Decimal("-2993.22")),
            Point("<x>", Decimal("0.00")),
        ],
        label="净头寸 & history",
    )
    root = ET.fromstring(svg)  # well-formed: labels are escaped
    bars = root.findall("s:rect", NS)
    assert [b.get("fill") for b in bars] == [charts.POS, charts.NEG, charts.POS]
    assert root.get("aria-label") == "净头寸 & history"
    ticks = [t.text for t in root.findall("s:text", NS)][:3]
    assert ticks == ["-3,000", "-2,000", "-1,000"]
    # the negative bar hangs below the zero line, the positive one stands on it
    zero = next(line for line in root.findall("s:line", NS) if line.get("stroke") == charts.AXIS)
    assert Decimal(bars[0].get("y")) + Decimal(bars[0].get("height")) == Decimal(zero.get("y1"))
    assert Decimal(bars[1].get("y")) == Decimal(zero.get("y1"))


def test_bar_chart_labels_values_and_empty():
    svg = charts.bar_chart(
        [Point("浙江省", Decimal("101.78")), Point("安徽省", Decimal("-500.00"))], label="flows"
    )
    texts = [t.text for t in ET.fromstring(svg).findall("s:text", NS)]
    assert texts == ["浙江省", "101.78", "安徽省", "-500"]
    assert "—" in charts.bar_chart([], label="none")


def test_level_bar_red_at_threshold():
    low = ET.fromstring(
        charts.level_bar(
            Decimal("30.00"), Decimal("100.00"), Decimal("30.00"), label="x", threshold_label="30%"
        )
    )
    ok = ET.fromstring(
        charts.level_bar(
            Decimal("30.01"), Decimal("100.00"), Decimal("30.00"), label="x", threshold_label="30%"
        )
    )
    assert low.findall("s:rect", NS)[1].get("fill") == charts.NEG
    assert ok.findall("s:rect", NS)[1].get("fill") == charts.POS
