"""One business day of settlement requests over a :class:`demo.network.Network`. Pure (no Django).

The mix follows the public figures of spec/operations.md: of 129 million cross-province direct
settlements in 2023, 118 million were outpatient (with pharmacy purchases) and 11.25 million
inpatient, so a day's sample is about 91% outpatient/pharmacy and 9% inpatient; bills are sized so
that the fund pays about 144 yuan per outpatient visit and 13,400 per inpatient stay
(:data:`demo.catalogue.BILL_SHAPES`).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from demo.catalogue import bill_lines, money
from demo.network import Institution, Network, Person

SHANGHAI = ZoneInfo("Asia/Shanghai")
# med_type → share of a day's settlements (spec/README.md §Glossary for the codes).
MED_TYPE_MIX = {
    "11": 0.50,
    "12": 0.01,
    "13": 0.02,
    "14": 0.17,
    "41": 0.215,
    "21": 0.07,
    "22": 0.002,
    "23": 0.005,
    "24": 0.006,
}
INPATIENT = ("21", "22", "23", "24")
DIAGNOSES = {
    "11": ("J06.900", "I10.x00", "E11.900", "K29.700"),
    "12": ("Z00.000",),
    "13": ("R10.400", "S61.900"),
    "14": ("I10.x00", "E11.900", "N18.500", "C50.900"),
    "41": ("I10.x00", "E11.900"),
    "21": ("K35.800", "I25.103", "C34.900", "K80.100", "M16.900"),
    "22": ("S72.000",),
    "23": ("C34.900", "I63.900"),
    "24": ("I21.900", "K35.800"),
}
GRADE_MIX = {"out": {"3": 0.45, "2": 0.30, "1": 0.25}, "in": {"3": 0.62, "2": 0.30, "1": 0.08}}


@dataclass
class Planned:
    """One settle request of the day: ``body`` is exactly what is POSTed."""

    seq: int
    institution: Institution
    person: Person
    body: dict
    channel: str = "batch"  # or "single"
    reverse: bool = False  # reversed later the same day
    resettle: dict | None = None  # after the reversal, settled again with this body (partial refund)


@dataclass
class Day:
    items: list[Planned]
    runtag: str
    by_institution: dict[str, list[Planned]] = field(default_factory=dict)

    def serial(self, code: str, seq: int) -> str:
        return serial(code, self.runtag, seq)


def serial(code: str, runtag: str, seq: int) -> str:
    """``medins_setl_id``: the institution's own serial, ≤ 30 chars, unique per run."""
    return f"{code}-{runtag}-{seq:06d}"


def pooling(net: Network, admdvs: str) -> str:
    prefs = {r["admdvs"] for r in net.regions if r["level"] == "prefecture"}
    if admdvs in prefs:
        return admdvs
    if admdvs[:4] + "00" in prefs:
        return admdvs[:4] + "00"
    return admdvs[:2] + "0000"


def _places(net: Network) -> dict[str, dict[str, list[Institution]]]:
    """area (pooling region or province) → kind ("1".."3" grade, "P" pharmacy) → institutions."""
    places: dict[str, dict[str, list[Institution]]] = defaultdict(lambda: defaultdict(list))
    for inst in net.institutions:
        key = inst.hosp_lv if inst.type == "1" else "P"
        for area in {pooling(net, inst.admdvs), inst.province}:
            places[area][key].append(inst)
    return places


def _iso(t: dt.datetime) -> str:
    return t.astimezone(SHANGHAI).isoformat(timespec="seconds")


def settle_body(
    rng: random.Random,
    *,
    person: Person,
    inst: Institution,
    med_type: str,
    medins_setl_id: str,
    end: dt.datetime,
    scale: Decimal | None = None,
) -> dict:
    """A settle request (spec/hospital-api.md) for ``person`` at ``inst``; times end at ``end``."""
    if med_type in INPATIENT:
        begin = end - dt.timedelta(days=rng.randint(3, 14), hours=rng.randint(0, 12))
    else:
        begin = end - dt.timedelta(minutes=rng.randint(10, 120))
    lines = []
    for n, (item, cnt, pric) in enumerate(bill_lines(rng, med_type, inst.hosp_lv), start=1):
        if scale is not None:
            pric = max(Decimal("0.01"), (pric * scale).quantize(Decimal("0.01")))
        at = begin + (end - begin) * rng.random()
        lines.append(
            {
                "feedetl_sn": str(n),
                "med_list_codg": item.code,
                "fee_ocur_time": _iso(at),
                "cnt": str(cnt),
                "pric": f"{pric:.2f}",
                "det_item_fee_sumamt": money(pric * cnt),
            }
        )
    by_card = rng.random() < 0.25
    body = {
        "medins_setl_id": medins_setl_id,
        "mdtrt_cert_type": "03" if by_card else "02",
        "mdtrt_cert_no": person.card_no if by_card else person.certno,
        "card_sn": person.card_sn if by_card else None,
        "insutype": person.insutype,
        "med_type": med_type,
        "begntime": _iso(begin),
        "endtime": _iso(end),
        "dise_codg": rng.choice(DIAGNOSES[med_type]),
        "acct_used_flag": "1" if person.insutype == "310" and rng.random() < 0.8 else "0",
        "feedetail": lines,
    }
    if rng.random() < 0.4:
        body["psn_name"] = person.name
    return body


def _pick(rng: random.Random, mix: dict[str, float]) -> str:
    return rng.choices(list(mix), weights=list(mix.values()), k=1)[0]


def plan_day(net: Network, settlements: int, *, runtag: str, now: dt.datetime, seed: int = 7) -> Day:
    """``settlements`` settle requests of one day, their channel (1 in 50 single, the rest batch) and
    which are reversed (about 1%, half of them settled again for less). Deterministic in the seed."""
    rng = random.Random(seed)
    places = _places(net)
    filed = [p for p in net.persons if p.filing_type or p.treat_province == p.province]
    unfiled = [p for p in net.persons if not p.filing_type and p.treat_province != p.province]
    items: list[Planned] = []
    for seq in range(1, settlements + 1):
        med_type = _pick(rng, MED_TYPE_MIX)
        if med_type in ("13", "24") and unfiled and rng.random() < 0.6:
            person = rng.choice(unfiled)
        else:
            person = rng.choice(filed)
        area = places[person.treat_area]
        if med_type == "41" and not area["P"]:
            med_type = "11"
        if med_type == "41":
            inst = rng.choice(area["P"])
        else:
            grades = {g: w for g, w in GRADE_MIX["in" if med_type in INPATIENT else "out"].items() if area[g]}
            inst = rng.choice(area[_pick(rng, grades)])
        end = now - dt.timedelta(seconds=rng.randint(60, 3 * 3600))
        body = settle_body(
            rng,
            person=person,
            inst=inst,
            med_type=med_type,
            medins_setl_id=serial(inst.code, runtag, seq),
            end=end,
        )
        planned = Planned(seq, inst, person, body, channel="single" if rng.random() < 0.02 else "batch")
        if rng.random() < 0.01:
            planned.reverse = True
            if rng.random() < 0.5:
                planned.resettle = dict(
                    body,
                    medins_setl_id=serial(inst.code, runtag, settlements + seq),
                    feedetail=_partial(body["feedetail"]),
                )
        items.append(planned)
    if items and not any(p.reverse for p in items):  # small samples still show a reversal and a re-settlement
        p = items[len(items) // 2]
        p.reverse = True
        p.resettle = dict(
            p.body,
            medins_setl_id=serial(p.institution.code, runtag, settlements + p.seq),
            feedetail=_partial(p.body["feedetail"]),
        )
    day = Day(items, runtag)
    for p in items:
        day.by_institution.setdefault(p.institution.code, []).append(p)
    return day


def _partial(lines: list[dict]) -> list[dict]:
    """The bill again without its last line (a partial refund is reverse + settle again)."""
    kept = lines[:-1] if len(lines) > 1 else lines
    return [dict(line) for line in kept]


def prefunds_rows(net: Network, day: Day) -> list[dict[str, str]]:
    """Prefund baselines of about three days of each province's expected flows in this sample
    (rounded up to 10,000.00); opening balances at the baseline, except the two provinces expected
    to pay the most net, which start low, so the close raises ``low_prefund`` and a ``funding_call``."""
    payable: dict[str, Decimal] = defaultdict(Decimal)
    receivable: dict[str, Decimal] = defaultdict(Decimal)
    for p in day.items:
        if p.person.province == p.institution.province:
            continue
        expected = sum(Decimal(line["det_item_fee_sumamt"]) for line in p.body["feedetail"]) * Decimal("0.7")
        payable[p.person.province] += expected
        receivable[p.institution.province] += expected
    senders = sorted(payable, key=lambda k: payable[k] - receivable[k], reverse=True)[:2]
    rows = []
    for province in net.provinces():
        flow = max(payable[province], receivable[province]) * 3
        baseline = max(Decimal("10000"), (flow / 10000).to_integral_value(rounding="ROUND_CEILING") * 10000)
        balance = baseline
        if province in senders:
            balance = baseline * (Decimal("0.45") if province == senders[0] else Decimal("0.20"))
        rows.append({"admdvs": province, "baseline": money(baseline), "balance": money(balance)})
    return rows
