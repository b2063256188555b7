"""Charts of the bureau dashboard as inline SVG, drawn on the server (no JavaScript, no CDN; they
print as vectors). Pure: no Django imports; values are ``Decimal`` yuan, labels plain text (escaped
here). Geometry is computed in ``Decimal`` and written with one decimal place.

- :func:`column_chart`: one signed column per period (net position history: green receives,
  red pays), a zero line and a labelled value axis;
- :func:`bar_chart`: one signed horizontal bar per label (net positions per province, bilateral
  flows), the value printed beside each bar;
- :func:`level_bar`: a prefund balance against its baseline with the alert threshold marked.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from html import escape

POS, NEG, AXIS, GRID, TEXT, MUTED = "#2e7d32", "#c62828", "#1d2330", "#dde2ea", "#1d2330", "#5b6475"
FONT = 'font-family="Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif"'
ZERO = Decimal(0)


@dataclass(frozen=True)
class Point:
    """One value of a chart: ``label`` (shown), ``value`` (yuan), ``title`` (tooltip, optional)."""

    label: str
    value: Decimal
    title: str = ""


def _n(x: Decimal | int) -> str:
    """An SVG coordinate: one decimal place, no exponent."""
    return f"{Decimal(x):.1f}"


def nice_step(span: Decimal, ticks: int = 4) -> Decimal:
    """A tick step of 1, 2 or 5 × 10^k covering ``span`` in about ``ticks`` steps (``span`` > 0)."""
    raw = span / ticks
    exp = raw.adjusted()
    unit = Decimal(1).scaleb(exp)
    for m in (1, 2, 5, 10):
        if unit * m >= raw:
            return unit * m
    return unit * 10  # pragma: no cover - the loop always returns


def money_label(value: Decimal) -> str:
    """Axis and bar labels: yuan below 10,000, else 万 with up to one decimal (``1.5万``, ``-230万``)."""
    if abs(value) < 10_000:
        return f"{value:,.2f}" if value != value.to_integral() else f"{value:,.0f}"
    wan = (value / 10_000).quantize(Decimal("0.1"))
    text = f"{wan:,.1f}".rstrip("0").rstrip(".")
    return f"{text}万"


def _text_width(text: str, size: int) -> int:
    """Approximate rendered width: CJK characters are one em wide, others about 0.6 em."""
    return int(sum(size if ord(ch) > 0x2E80 else size * 0.6 for ch in text)) + 1


def _axis(lo: Decimal, hi: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """(bottom, top, step) of a value axis that includes 0, ``lo`` and ``hi``."""
    lo, hi = min(lo, ZERO), max(hi, ZERO)
    if lo == hi:
        hi = Decimal(1)
    step = nice_step(hi - lo)
    bottom = (lo / step).to_integral_value(rounding=ROUND_CEILING) * step
    if bottom > lo:
        bottom -= step
    top = (hi / step).to_integral_value(rounding=ROUND_CEILING) * step
    return bottom, top, step


def _svg(width: int, height: int, label: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{escape(label)}" class="chart" {FONT} font-size="12">'
        f"<title>{escape(label)}</title>" + "".join(body) + "</svg>"
    )


def column_chart(points: list[Point], *, label: str, width: int = 1100, height: int = 300) -> str:
    """Signed columns in order (oldest left). Every ``k``-th period is labelled so labels never
    overlap (``k`` from the label width); the value axis has 4–8 ticks including 0."""
    left, right, top, bottom = 64, 8, 12, 40
    if not points:
        return _svg(width, 60, label, [f'<text x="8" y="30" fill="{MUTED}">—</text>'])
    lo, hi, step = _axis(min(p.value for p in points), max(p.value for p in points))
    plot_h = Decimal(height - top - bottom)
    plot_w = Decimal(width - left - right)

    def y(v: Decimal) -> Decimal:
        return top + (hi - v) * plot_h / (hi - lo)

    body = []
    tick = lo
    while tick <= hi:
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{_n(y(tick))}" y2="{_n(y(tick))}" '
            f'stroke="{AXIS if tick == 0 else GRID}" stroke-width="{1 if tick == 0 else 0.6}"/>'
        )
        body.append(
            f'<text x="{left - 6}" y="{_n(y(tick) + 4)}" text-anchor="end" fill="{MUTED}">'
            f"{escape(money_label(tick))}</text>"
        )
        tick += step
    slot = plot_w / len(points)
    bar_w = max(slot * Decimal("0.7"), Decimal(1))
    every = max(1, -(-(_text_width(points[0].label, 11) + 8) // max(int(slot), 1)))
    for i, p in enumerate(points):
        x = left + slot * i + (slot - bar_w) / 2
        y0, y1 = sorted((y(p.value), y(ZERO)))
        colour = POS if p.value >= 0 else NEG
        tip = escape(p.title or f"{p.label} {money_label(p.value)}")
        body.append(
            f'<rect x="{_n(x)}" y="{_n(y0)}" width="{_n(bar_w)}" height="{_n(max(y1 - y0, Decimal(1)))}" '
            f'fill="{colour}"><title>{tip}</title></rect>'
        )
        if i % every == 0 or i == len(points) - 1:
            body.append(
                f'<text x="{_n(x + bar_w / 2)}" y="{height - bottom + 16}" text-anchor="middle" '
                f'font-size="11" fill="{TEXT}">{escape(p.label)}</text>'
            )
    return _svg(width, height, label, body)


def bar_chart(points: list[Point], *, label: str, width: int = 1100, row: int = 26) -> str:
    """Signed horizontal bars, one row each in the given order, the label on the left and the value
    printed at the bar's end (right of positive bars, left of negative ones)."""
    if not points:
        return _svg(width, 60, label, [f'<text x="8" y="30" fill="{MUTED}">—</text>'])
    label_w = max(_text_width(p.label, 12) for p in points) + 12
    value_w = max(_text_width(money_label(p.value), 12) for p in points) + 10
    top, height = 8, len(points) * row + 16
    lo = min(min(p.value for p in points), ZERO)
    hi = max(max(p.value for p in points), ZERO)
    span = (hi - lo) or Decimal(1)
    plot_l = Decimal(label_w + (value_w if lo < 0 else 0))
    plot_w = Decimal(width - 4) - plot_l - (value_w if hi > 0 else 0)

    def x(v: Decimal) -> Decimal:
        return plot_l + (v - lo) * plot_w / span

    body = [
        f'<line x1="{_n(x(ZERO))}" x2="{_n(x(ZERO))}" y1="{top - 4}" y2="{height - 4}" stroke="{AXIS}" '
        f'stroke-width="1"/>'
    ]
    for i, p in enumerate(points):
        cy = top + i * row + row // 2
        x0, x1 = sorted((x(ZERO), x(p.value)))
        colour = POS if p.value >= 0 else NEG
        tip = escape(p.title or f"{p.label} {money_label(p.value)}")
        body.append(
            f'<text x="{label_w - 8}" y="{cy + 4}" text-anchor="end" fill="{TEXT}">{escape(p.label)}</text>'
        )
        body.append(
            f'<rect x="{_n(x0)}" y="{cy - row * 3 // 10}" width="{_n(max(x1 - x0, Decimal(1)))}" '
            f'height="{row * 6 // 10}" fill="{colour}"><title>{tip}</title></rect>'
        )
        end, anchor = (x1 + 4, "start") if p.value >= 0 else (x0 - 4, "end")
        body.append(
            f'<text x="{_n(end)}" y="{cy + 4}" text-anchor="{anchor}" fill="{TEXT}" '
            f'class="num">{escape(money_label(p.value))}</text>'
        )
    return _svg(width, height, label, body)


def level_bar(
    balance: Decimal,
    baseline: Decimal,
    threshold: Decimal,
    *,
    label: str,
    threshold_label: str,
    width: int = 320,
) -> str:
    """A prefund gauge: the balance as a bar on a 0…max(baseline, balance) scale, the baseline and
    the alert threshold (``threshold`` yuan) as ticks; red at or below the threshold."""
    height, top, bar_h = 34, 4, 14
    scale = max(baseline, balance, Decimal(1))

    def x(v: Decimal) -> Decimal:
        return Decimal(width - 2) * max(min(v, scale), ZERO) / scale + 1

    colour = NEG if balance <= threshold else POS
    body = [
        f'<rect x="1" y="{top}" width="{width - 2}" height="{bar_h}" fill="#e6ebf2" rx="3"/>',
        f'<rect x="1" y="{top}" width="{_n(x(balance) - 1)}" height="{bar_h}" fill="{colour}" rx="3">'
        f"<title>{escape(label)}</title></rect>",
        f'<line x1="{_n(x(threshold))}" x2="{_n(x(threshold))}" y1="{top - 3}" y2="{top + bar_h + 3}" '
        f'stroke="{NEG}" stroke-width="2"/>',
        f'<line x1="{_n(x(baseline))}" x2="{_n(x(baseline))}" y1="{top - 3}" y2="{top + bar_h + 3}" '
        f'stroke="{AXIS}" stroke-width="2"/>',
        f'<text x="{_n(x(threshold))}" y="{height - 2}" font-size="10" text-anchor="middle" '
        f'fill="{NEG}">{escape(threshold_label)}</text>',
    ]
    return _svg(width, height, label, body)
