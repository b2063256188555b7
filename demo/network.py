"""A seeded synthetic network for the main job (spec/operations.md §The main job). Pure (no Django).

- Regions: the shipped ``regions.csv`` (32 provincial-level regions, the YRD prefectures).
- Institutions: the four Yangtze River Delta provinces in detail (Shanghai's districts; every listed
  prefecture of Jiangsu, Zhejiang and Anhui with hospitals of grades 1–3 and pharmacies), the other
  28 provinces with a few institutions each.
- Persons: valid GB 11643 ``certno`` (ISO 7064 MOD 11-2 check character computed), card numbers,
  ``310``/``390`` mix, personal-account balances for ``310``; each has a home (``insuplc_admdvs``)
  and a place of treatment drawn from flows shaped like the real ones (Anhui, Henan, Jiangxi,
  Sichuan … to Shanghai, Zhejiang, Jiangsu, Guangdong, Beijing; northern retirees to Hainan).
  Most have a long-term filing (11/12/13); a few have none and only come as emergencies, which
  record a temporary filing ``22``; some are treated in another prefecture of their own province
  (省内异地, no filing needed).
- Catalogue per treatment province, policies per (province, insutype, med_type group, hosp_lv),
  opening accumulators, prefunds (written after the day is planned, see :mod:`demo.day`).

Same seed and size → the same network, byte for byte.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from demo.catalogue import ITEMS, money

REGIONS_CSV = Path(__file__).resolve().parent.parent / "accounts" / "data" / "regions.csv"
YRD = ("310000", "320000", "330000", "340000")
SHANGHAI_DISTRICTS = ("310101", "310104", "310105", "310106", "310107", "310110", "310112", "310115")
CERT_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CERT_CHECK = "10X98765432"
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志强海燕玉兰红梅春花文斌晓东"

# Where cross-province patients are treated, and where they are insured (weights; provinces not
# named share the rest). Shapes follow the public picture: YRD hospitals and the coastal provinces
# where migrant workers live receive; central and western provinces send.
TREATMENT_WEIGHTS = {
    "310000": 20,
    "330000": 13,
    "320000": 12,
    "440000": 12,
    "110000": 8,
    "340000": 4,
    "460000": 4,
    "350000": 3,
    "370000": 3,
    "510000": 2,
    "120000": 2,
    "500000": 2,
}
HOME_WEIGHTS = {
    "340000": 13,
    "410000": 9,
    "320000": 7,
    "360000": 6,
    "510000": 6,
    "330000": 5,
    "420000": 5,
    "430000": 5,
    "310000": 4,
    "370000": 4,
    "230000": 4,
    "130000": 4,
    "220000": 3,
    "210000": 3,
    "450000": 2,
    "520000": 2,
    "500000": 2,
}


@dataclass
class Institution:
    code: str
    name: str
    type: str  # "1" hospital, "2" pharmacy
    hosp_lv: str
    admdvs: str

    @property
    def province(self) -> str:
        return self.admdvs[:2] + "0000"


@dataclass
class Person:
    psn_no: str
    certno: str
    name: str
    gend: str
    brdy: dt.date
    insutype: str
    home: str  # insuplc_admdvs (pooling region)
    card_no: str
    card_sn: str
    balance: Decimal
    treat_area: str  # the region where this person is treated (filing's mdtrtarea_admvs or a prefecture)
    filing_type: str | None  # None: no filing (emergencies only, or within the home province)
    filing_begin: dt.date | None = None

    @property
    def province(self) -> str:
        return self.home[:2] + "0000"

    @property
    def treat_province(self) -> str:
        return self.treat_area[:2] + "0000"


@dataclass
class Network:
    seed: int
    today: dt.date
    regions: list[dict[str, str]]
    institutions: list[Institution] = field(default_factory=list)
    persons: list[Person] = field(default_factory=list)

    def names(self) -> dict[str, str]:
        return {r["admdvs"]: r["name"] for r in self.regions}

    def provinces(self) -> list[str]:
        return [r["admdvs"] for r in self.regions if r["level"] == "province"]

    def prefectures(self, province: str) -> list[str]:
        return [r["admdvs"] for r in self.regions if r["parent"] == province]


def read_regions() -> list[dict[str, str]]:
    with REGIONS_CSV.open(encoding="utf-8-sig") as fh:
        return [dict(r) for r in csv.DictReader(fh)]


def certno_check(first17: str) -> str:
    """GB 11643 check character (ISO 7064 MOD 11-2) of the first 17 digits."""
    return CERT_CHECK[sum(int(d) * w for d, w in zip(first17, CERT_WEIGHTS, strict=True)) % 11]


def _weighted(rng: random.Random, provinces: list[str], weights: dict[str, int], rest: float) -> list[str]:
    others = [p for p in provinces if p not in weights]
    pool = list(weights) + others
    w = [float(weights[p]) for p in weights] + [rest] * len(others)
    return rng.choices(pool, weights=w, k=1)


def _institutions(net: Network, rng: random.Random) -> None:
    names = net.names()
    seq: dict[str, int] = {}

    def add(admdvs: str, typ: str, lv: str, label: str) -> None:
        seq[admdvs] = seq.get(admdvs, 0) + 1
        prefix = "H" if typ == "1" else "P"
        code = f"{prefix}{admdvs}{seq[admdvs] + 100:05d}"  # 001xx: clear of the spec's examples (00001)
        net.institutions.append(Institution(code, label, typ, lv, admdvs))

    grade_name = {"3": "第{n}人民医院", "2": "第{n}区域医疗中心", "1": "社区卫生服务中心{n}"}
    for district in SHANGHAI_DISTRICTS:
        city = names["310000"].rstrip("市")
        for lv, count in (("3", 2), ("2", 1), ("1", 1)):
            for _ in range(count):
                n = seq.get(district, 0) + 1
                add(district, "1", lv, f"{city}{district[-2:]}区" + grade_name[lv].format(n=n))
        add(district, "2", "", f"{city}{district[-2:]}区第{seq.get(district, 0) + 1}大药房")
    for province in YRD[1:]:
        for pref in net.prefectures(province):
            city = names[pref].rstrip("市")
            capital = pref.endswith("0100")
            for lv, count in (("3", 3 if capital else 1), ("2", 2 if capital else 1), ("1", 1)):
                for _ in range(count):
                    add(pref, "1", lv, city + grade_name[lv].format(n=seq.get(pref, 0) + 1))
            for _ in range(2 if capital else 1):
                add(pref, "2", "", f"{city}第{seq.get(pref, 0) + 1}大药房")
    for province in net.provinces():
        if province in YRD:
            continue
        name = names[province]
        big = province in TREATMENT_WEIGHTS
        for lv, count in (("3", 3 if big else 2), ("2", 1)):
            for _ in range(count):
                add(province, "1", lv, name + grade_name[lv].format(n=seq.get(province, 0) + 1))
        add(province, "2", "", f"{name}第{seq.get(province, 0) + 1}大药房")
    rng.shuffle(net.institutions)
    net.institutions.sort(key=lambda i: i.code)


def _home_area(net: Network, rng: random.Random, province: str) -> str:
    prefs = net.prefectures(province)
    return rng.choice(prefs) if prefs else province


def _treat_area(net: Network, rng: random.Random, province: str) -> str:
    """Filing target: a YRD prefecture or the province itself (Shanghai pools at 310000)."""
    prefs = net.prefectures(province)
    if prefs and rng.random() < 0.6:
        # Patients go mostly to the capital and the big cities.
        heavy = [p for p in prefs if p.endswith(("0100", "0200", "0500"))]
        return rng.choice(heavy if rng.random() < 0.6 else prefs)
    return province


def _person(net: Network, rng: random.Random, index: int, certnos: set[str]) -> Person:
    provinces = net.provinces()
    home_province = _weighted(rng, provinces, HOME_WEIGHTS, 1.0)[0]
    home = _home_area(net, rng, home_province)
    intra = home_province in YRD[1:] and rng.random() < 0.22
    if intra:
        treat = rng.choice([p for p in net.prefectures(home_province) if p != home] or [home_province])
        filing_type = None
    else:
        treat_province = home_province
        while treat_province == home_province:
            treat_province = _weighted(rng, provinces, TREATMENT_WEIGHTS, 0.4)[0]
        treat = _treat_area(net, rng, treat_province)
        roll = rng.random()
        filing_type = None if roll < 0.05 else "11" if roll < 0.33 else "12" if roll < 0.78 else "13"
    retired = filing_type == "11" or rng.random() < 0.15
    born = (dt.date(1944, 1, 1) if retired else dt.date(1968, 1, 1)) + dt.timedelta(
        days=rng.randrange(0, 365 * (22 if retired else 36))
    )
    gend = rng.choice("12")
    while True:
        if home == "310000":
            area = rng.choice(SHANGHAI_DISTRICTS)
        elif home[2:] != "0000":
            area = home[:4] + rng.choice(("02", "03", "04", "05", "06", "11", "21", "22"))
        else:
            area = home[:2] + rng.choice(("01", "02", "05")) + rng.choice(("02", "03", "04", "05", "11"))
        order = rng.randrange(0, 500) * 2 + (1 if gend == "1" else 0)
        first17 = f"{area}{born:%Y%m%d}{order:03d}"
        certno = first17 + certno_check(first17)
        if certno not in certnos:
            certnos.add(certno)
            break
    insutype = "310" if retired or rng.random() < 0.62 else "390"
    balance = Decimal("0.00")
    if insutype == "310":
        balance = Decimal(str(round(rng.lognormvariate(7.6, 0.9), 2))).quantize(Decimal("0.01"))
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    begin = None
    if filing_type:
        begin = net.today - dt.timedelta(days=rng.randrange(30, 2400))
    return Person(
        psn_no=f"{home}9{index:013d}",
        certno=certno,
        name=name,
        gend=gend,
        brdy=born,
        insutype=insutype,
        home=home,
        card_no=f"K{home[:2]}{index:09d}",
        card_sn=f"{rng.getrandbits(128):032x}",
        balance=balance,
        treat_area=treat,
        filing_type=filing_type,
        filing_begin=begin,
    )


def build_network(*, persons: int, seed: int = 2026, today: dt.date) -> Network:
    """The network for a day of about ``persons`` patients. Deterministic in (seed, persons, today)."""
    rng = random.Random(seed)
    net = Network(seed=seed, today=today, regions=read_regions())
    _institutions(net, rng)
    certnos: set[str] = set()
    net.persons = [_person(net, rng, i + 1, certnos) for i in range(persons)]
    return net


# --- reference data ----------------------------------------------------------------------------------
# (insutype, group, hosp_lv) → deductible, basis, pool_prop, annual_cap, temp_prop_reduction
POLICY_BASE = {
    ("310", "inpatient", "3"): ("1000.00", "visit", "0.85", "400000.00", "0.10"),
    ("310", "inpatient", "2"): ("700.00", "visit", "0.88", "400000.00", "0.10"),
    ("310", "inpatient", "1"): ("400.00", "visit", "0.90", "400000.00", "0.10"),
    ("390", "inpatient", "3"): ("1000.00", "visit", "0.65", "250000.00", "0.10"),
    ("390", "inpatient", "2"): ("600.00", "visit", "0.72", "250000.00", "0.10"),
    ("390", "inpatient", "1"): ("300.00", "visit", "0.80", "250000.00", "0.10"),
    ("310", "outpatient", "3"): ("300.00", "year", "0.70", "8000.00", "0.10"),
    ("310", "outpatient", "2"): ("300.00", "year", "0.75", "8000.00", "0.10"),
    ("310", "outpatient", "1"): ("300.00", "year", "0.80", "8000.00", "0.10"),
    ("390", "outpatient", "3"): ("200.00", "year", "0.50", "3000.00", "0.10"),
    ("390", "outpatient", "2"): ("200.00", "year", "0.55", "3000.00", "0.10"),
    ("390", "outpatient", "1"): ("200.00", "year", "0.60", "3000.00", "0.10"),
    ("310", "pharmacy", ""): ("0.00", "year", "0.50", "2000.00", "0.00"),
    ("390", "pharmacy", ""): ("0.00", "year", "0.40", "1000.00", "0.00"),
}
BEGIN, END = "2020-01-01", "2099-12-31"


def regions_rows(net: Network) -> list[dict[str, str]]:
    return [dict(r) for r in net.regions]


def institutions_rows(net: Network) -> list[dict[str, str]]:
    return [
        {
            "fixmedins_code": i.code,
            "fixmedins_name": i.name,
            "fixmedins_type": i.type,
            "hosp_lv": i.hosp_lv,
            "admdvs": i.admdvs,
        }
        for i in net.institutions
    ]


def persons_rows(net: Network) -> list[dict[str, str]]:
    return [
        {
            "psn_no": p.psn_no,
            "psn_cert_type": "01",
            "certno": p.certno,
            "psn_name": p.name,
            "gend": p.gend,
            "brdy": p.brdy.isoformat(),
            "insutype": p.insutype,
            "insuplc_admdvs": p.home,
            "psn_insu_stas": "1",
            "card_no": p.card_no,
            "card_sn": p.card_sn,
            "acct_balc": money(p.balance),
        }
        for p in net.persons
    ]


def filings_rows(net: Network) -> list[dict[str, str]]:
    return [
        {
            "psn_no": p.psn_no,
            "filing_type": p.filing_type,
            "mdtrtarea_admvs": p.treat_area,
            "begndate": p.filing_begin.isoformat(),
            "enddate": END,
        }
        for p in net.persons
        if p.filing_type and p.filing_begin
    ]


def catalogue_rows(net: Network) -> list[dict[str, str]]:
    """Each province's catalogue: the national items, class ``02`` self-pay ratios varying a little by
    province, a bed-fee ceiling, and one or two items left out outside the YRD."""
    rng = random.Random(net.seed + 1)
    rows = []
    for province in net.provinces():
        left_out = set() if province in YRD else {rng.choice(ITEMS).code for _ in range(2)}
        for item in ITEMS:
            if item.code in left_out:
                continue
            selfpay = item.selfpay
            if item.lv == "02":
                selfpay = f"{Decimal(item.selfpay) + Decimal(rng.choice((-5, 0, 0, 5))) / 100:.2f}"
            ceiling = f"{rng.choice((80, 90, 100, 110)):.2f}" if item.ceiling else ""
            rows.append(
                {
                    "admdvs": province,
                    "med_list_codg": item.code,
                    "med_list_name": item.name,
                    "list_type": item.list_type,
                    "chrgitm_lv": item.lv,
                    "selfpay_prop": selfpay,
                    "pric_uplmt_amt": ceiling,
                    "begndate": BEGIN,
                    "enddate": END,
                }
            )
    return rows


def policies_rows(net: Network) -> list[dict[str, str]]:
    """Policies of every insured province for both insutypes, every med_type group and grade."""
    rng = random.Random(net.seed + 2)
    rows = []
    for province in net.provinces():
        shift = Decimal(rng.choice((-3, -2, 0, 0, 2))) / 100
        for (insutype, group, lv), (ded, basis, prop, cap, red) in POLICY_BASE.items():
            pool = min(Decimal("0.95"), Decimal(prop) + shift) if Decimal(prop) else Decimal(prop)
            rows.append(
                {
                    "insuplc_admdvs": province,
                    "insutype": insutype,
                    "med_type_group": group,
                    "hosp_lv": lv,
                    "deductible": ded,
                    "deductible_basis": basis,
                    "pool_prop": f"{pool:.2f}",
                    "annual_cap": cap,
                    "temp_prop_reduction": red,
                    "begndate": BEGIN,
                    "enddate": END,
                }
            )
    return rows


def accumulators_rows(net: Network) -> list[dict[str, str]]:
    """Opening accumulators late in the year: most people have used their outpatient deductible."""
    rng = random.Random(net.seed + 3)
    rows = []
    for p in net.persons:
        if rng.random() < 0.75:
            ded = POLICY_BASE[(p.insutype, "outpatient", "3")][0]
            fund = Decimal(rng.randrange(0, 150000)) / 100
            rows.append(
                {
                    "psn_no": p.psn_no,
                    "year": str(net.today.year),
                    "insutype": p.insutype,
                    "med_type_group": "outpatient",
                    "deductible_used": ded,
                    "fund_paid": money(fund),
                }
            )
    return rows


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        if not rows:
            fh.write("")
            return
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def write_reference(
    net: Network,
    directory: Path,
    prefunds: list[dict[str, str]],
    *,
    skip_policies: AbstractSet[tuple[str, str, str, str]] = frozenset(),
) -> dict[str, int]:
    """Write the ``import_reference`` files into ``directory``; returns rows per file. Policies whose
    key (insuplc_admdvs, insutype, med_type_group, hosp_lv) is in ``skip_policies`` are left out."""
    policies = [
        r
        for r in policies_rows(net)
        if (r["insuplc_admdvs"], r["insutype"], r["med_type_group"], r["hosp_lv"]) not in skip_policies
    ]
    files = {
        "regions.csv": regions_rows(net),
        "institutions.csv": institutions_rows(net),
        "catalogue.csv": catalogue_rows(net),
        "policies.csv": policies,
        "persons.csv": persons_rows(net),
        "filings.csv": filings_rows(net),
        "accumulators.csv": accumulators_rows(net),
        "prefunds.csv": prefunds,
    }
    for name, rows in files.items():
        write_csv(directory / name, rows)
    return {name: len(rows) for name, rows in files.items()}
