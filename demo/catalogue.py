"""The demo's national list of fee items and how a bill of a given size is made of them. Pure.

Codes follow the shapes of the NHSA lists (西药 ``X…``, 中成药 ``Z…``, 医疗服务项目 15 digits,
耗材 ``C…``); each province's catalogue carries these items with its own ``selfpay_prop`` for class
``02`` and its own bed-fee ceiling, and leaves a few out (those lines come back with
``warn: not_in_catalogue`` and are paid by the patient).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Item:
    """``kind``: what bills use it for (``visit``, ``drug``, ``lab``, ``imaging``, ``bed``, ``nursing``,
    ``surgery``, ``material``, ``selfpay``). ``price`` is a typical unit price in yuan, ``cnt`` the
    typical count range."""

    code: str
    name: str
    list_type: str
    lv: str
    selfpay: str
    price: Decimal
    kind: str
    cnt: tuple[int, int] = (1, 1)
    ceiling: bool = False


def _i(
    code: str,
    name: str,
    list_type: str,
    lv: str,
    selfpay: str,
    price: str,
    kind: str,
    cnt: tuple[int, int] = (1, 1),
    ceiling: bool = False,
) -> Item:
    return Item(code, name, list_type, lv, selfpay, Decimal(price), kind, cnt, ceiling)


ITEMS: tuple[Item, ...] = (
    _i("XJ01CAA040", "阿莫西林胶囊", "101", "01", "0", "0.42", "drug", (12, 36)),
    _i("XA10BAA001", "盐酸二甲双胍片", "101", "01", "0", "0.35", "drug", (30, 90)),
    _i("XC10AAA050", "阿托伐他汀钙片", "101", "01", "0", "1.86", "drug", (14, 56)),
    _i("XC08CAA010", "苯磺酸氨氯地平片", "101", "01", "0", "0.58", "drug", (14, 56)),
    _i("XJ01DCA040", "注射用头孢呋辛钠", "101", "02", "0.10", "8.60", "drug", (3, 21)),
    _i("XA02BCA010", "奥美拉唑肠溶胶囊", "101", "02", "0.10", "1.20", "drug", (14, 28)),
    _i("XA10ABA010", "胰岛素注射液", "101", "02", "0.10", "46.80", "drug", (1, 4)),
    _i("XB05AAA010", "人血白蛋白", "101", "02", "0.20", "368.00", "drug", (1, 6)),
    _i("XL01CDA010", "紫杉醇注射液", "101", "02", "0.15", "980.00", "drug", (1, 3)),
    _i("XN02BEA010", "对乙酰氨基酚片", "101", "01", "0", "0.25", "drug", (6, 20)),
    _i("ZA12BAC001", "复方丹参滴丸", "102", "02", "0.10", "0.32", "drug", (90, 270)),
    _i("ZA01AAL002", "连花清瘟胶囊", "102", "02", "0.05", "0.55", "drug", (24, 48)),
    _i("110200001000000", "普通门诊诊查费", "201", "01", "0", "25.00", "visit"),
    _i("110200005000000", "急诊诊查费", "201", "01", "0", "40.00", "visit"),
    _i("110200002000000", "副主任医师诊查费", "201", "01", "0", "50.00", "visit"),
    _i("250101015000000", "血常规", "201", "01", "0", "20.00", "lab"),
    _i("250301001000000", "生化全套", "201", "01", "0", "180.00", "lab"),
    _i("210300001000000", "CT平扫", "201", "02", "0.10", "260.00", "imaging"),
    _i("210200001000000", "磁共振平扫", "201", "02", "0.15", "520.00", "imaging"),
    _i("110900001000000", "床位费", "201", "01", "0", "120.00", "bed", (3, 14), ceiling=True),
    _i("120100002000000", "一级护理", "201", "01", "0", "30.00", "nursing", (3, 14)),
    _i("331003003000000", "阑尾切除术", "201", "01", "0", "1600.00", "surgery"),
    _i("331001007000000", "腹腔镜胆囊切除术", "201", "01", "0", "3200.00", "surgery"),
    _i("320500004000000", "经皮冠状动脉支架植入术", "201", "01", "0", "5600.00", "surgery"),
    _i("331504007000000", "人工全髋关节置换术", "201", "01", "0", "6800.00", "surgery"),
    _i("C0102010110000000001", "一次性使用输液器", "301", "01", "0", "4.50", "material", (3, 20)),
    _i("C0210010010000000002", "冠脉药物洗脱支架", "301", "02", "0.20", "780.00", "material", (1, 2)),
    _i("C0307050100000000003", "人工髋关节假体", "301", "02", "0.20", "9800.00", "material"),
    _i("C0901010010000000004", "进口可吸收缝线(自费)", "301", "03", "1", "180.00", "selfpay", (1, 4)),
    _i("C0901010010000000005", "医用护理垫(自费)", "301", "03", "1", "8.00", "selfpay", (5, 30)),
)
BY_KIND: dict[str, list[Item]] = {}
for _item in ITEMS:
    BY_KIND.setdefault(_item.kind, []).append(_item)

# Bills: (kinds drawn, mean of the bill in yuan, lognormal sigma). Means are tuned so that the fund
# pays on average about 144 yuan per outpatient visit and 13,400 per inpatient stay
# (spec/operations.md), given the demo's policies.
_STAY = ("bed", "nursing", "drug", "drug", "lab", "imaging", "surgery", "material", "selfpay")
BILL_SHAPES: dict[str, tuple[tuple[str, ...], float, float]] = {
    "11": (("visit", "drug", "drug", "lab"), 212.0, 0.7),
    "12": (("visit",), 28.0, 0.3),
    "13": (("visit", "drug", "lab", "imaging"), 480.0, 0.6),
    "14": (("visit", "drug", "drug", "drug", "lab"), 700.0, 0.6),
    "41": (("drug", "drug", "drug"), 193.0, 0.7),
    "21": (_STAY, 29400.0, 0.75),
    "22": (("bed", "nursing", "drug", "lab", "imaging", "surgery", "material"), 24400.0, 0.7),
    "23": (_STAY, 38800.0, 0.7),
    "24": (("bed", "nursing", "drug", "lab", "imaging", "surgery", "selfpay"), 23000.0, 0.7),
}
GRADE_FACTOR = {"3": 1.2, "2": 0.75, "1": 0.45, "": 1.0}


def money(value: Decimal) -> str:
    """2-place string of a non-negative amount."""
    return f"{value.quantize(CENT, rounding=ROUND_HALF_UP):.2f}"


def lognormal_with_mean(rng: random.Random, mean: float, sigma: float) -> float:
    """A lognormal draw whose expectation is ``mean``."""
    import math

    mu = math.log(mean) - sigma * sigma / 2
    return rng.lognormvariate(mu, sigma)


def bill_lines(rng: random.Random, med_type: str, hosp_lv: str) -> list[tuple[Item, int, Decimal]]:
    """Lines ``(item, cnt, pric)`` of a bill for ``med_type`` at a ``hosp_lv`` institution, scaled so
    that Σ cnt × pric is near a lognormal draw around the shape's mean. Every ``pric`` has 2 places,
    so ``det_item_fee_sumamt`` = cnt × pric exactly."""
    kinds, mean, sigma = BILL_SHAPES[med_type]
    target = lognormal_with_mean(rng, mean * GRADE_FACTOR[hosp_lv], sigma)
    chosen: list[tuple[Item, int]] = []
    seen: set[str] = set()
    for kind in kinds:
        if kind in ("surgery", "material", "selfpay", "imaging") and rng.random() < 0.45:
            continue
        item = rng.choice(BY_KIND[kind])
        if item.code in seen:
            continue
        seen.add(item.code)
        chosen.append((item, rng.randint(*item.cnt)))
    base = sum(float(item.price) * cnt for item, cnt in chosen)
    scale = target / base if base else 1.0
    lines = []
    for item, cnt in chosen:
        # Fixed-price services keep their price; drugs, labs and materials absorb the bill's size.
        factor = 1.0 if item.kind in ("visit", "bed", "nursing") else scale
        pric = max(Decimal("0.01"), Decimal(str(float(item.price) * factor)).quantize(CENT))
        lines.append((item, cnt, pric))
    return lines
