"""The card half of the main job (spec/cards.md; issue 13 §7): one card day across the region,
driven through the signed HTTP API like the medical day.

A seeded synthetic registry (cards of the four YRD provinces; a few hundred elderly holders so
same-city benefits apply), acceptors in every region prefecture with their clients; then taps and
entries in batches of 1,000 through ``POST /api/v1/card-acceptances/batch`` — online taps, offline
records uploaded late with the list version the reader held, a few temporary losses and one
cross-province replacement at a desk in mid-day (the old card is refused online afterwards, and an
offline reader with a fresh but older list gets ``late_listing``) — and the card scheme's close.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from django.utils import timezone

from demo.http import Api, Client

SH = dt.timezone(dt.timedelta(hours=8))
# The same-city rules the day's readers apply (spec/cards.md §Same-city treatment): the example
# file's, loaded by the day itself so the run does not depend on ``make demo`` having imported the
# examples first (``manage.py demo`` alone on a fresh database has no rules otherwise).
BENEFITS_CSV = Path(__file__).resolve().parent.parent / "data" / "examples" / "card_benefits.csv"
PREFECTURES = {
    "310000": ["310000"],
    "320000": ["320100", "320200", "320500"],
    "330000": ["330100", "330200", "330400"],
    "340000": ["340100", "340200"],
}
KINDS = (
    ("transit", "T", "transit_fare"),
    ("scenic", "S", "admission"),
    ("library", "L", "loan"),
    ("museum", "M", "admission"),
)


@dataclass(frozen=True)
class Rule:
    """A same-city rule as an acceptor's reader holds it: prefecture, service, age band
    (inclusive; ``None`` = open), share of ``list_amt`` paid, valid dates."""

    admdvs: str
    svc_type: str
    min_age: int | None
    max_age: int | None
    pay_prop: Decimal
    begndate: dt.date
    enddate: dt.date | None


@dataclass
class CardDay:
    cards: list[dict[str, str]] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    acceptors: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (kind, admdvs)
    clients: dict[str, Client] = field(default_factory=dict)
    answers: Counter = field(default_factory=Counter)
    accepted: int = 0
    free: int = 0
    late_listing: int = 0
    events: list[str] = field(default_factory=list)
    closed: list[Any] = field(default_factory=list)


def _certno(rng: random.Random, region: str, born: dt.date, i: int) -> str:
    from accounts.certno import check_char

    first = f"{region}{born:%Y%m%d}{i % 1000:03d}"
    return first + check_char(first)


def load_registry(day: CardDay, *, n_cards: int, seed: int) -> dict[str, Any]:
    """Synthetic cards and acceptors through the same importers as the API; acceptor clients."""
    from cards.services.reference import acceptor_client_create, acceptors_import
    from cards.services.registry import cards_import
    from core.principals import Principal

    rng = random.Random(seed)
    system = Principal(role="clearing_staff", actor="manage.py demo")
    rows = []
    for i in range(n_cards):
        prov = rng.choice(list(PREFECTURES))
        issuer = rng.choice(PREFECTURES[prov])
        age = rng.choice([rng.randint(18, 59)] * 8 + [rng.randint(60, 69), rng.randint(70, 90)])
        born = dt.date(2026 - age, rng.randint(1, 12), rng.randint(1, 28))
        rows.append(
            {
                "card_no": f"D{prov[:2]}{i:06d}",
                "card_sn": f"{rng.getrandbits(128):032x}",
                "certno": _certno(rng, issuer, born, i),
                "psn_name": f"演示{i}",
                "issuer_admdvs": issuer,
                "card_gen": "3" if rng.random() < 0.97 else "2",
                "issue_date": "2024-01-01",
                "valid_until": "2033-12-31",
                "card_stas": "active",
            }
        )
    acc_rows = []
    for prefs in PREFECTURES.values():
        for pref in prefs:
            for kind, letter, _svc in KINDS:
                code = f"{letter}{pref}D0001"
                acc_rows.append(
                    {
                        "acceptor_code": code,
                        "acceptor_name": f"演示{kind}{pref}",
                        "kind": kind,
                        "admdvs": pref,
                    }
                )
                day.acceptors[code] = (kind, pref)
    loaded = cards_import(rows=rows, province=None, principal=system)
    refused = {r["row"] for r in loaded.rejected}
    day.cards = [r for i, r in enumerate(rows, start=1) if i not in refused]
    counts = {
        "acceptors": acceptors_import(rows=acc_rows, province=None, principal=system).as_dict()["created"],
        "cards": {k: v for k, v in loaded.as_dict().items() if k != "rejected"},
    }
    counts["card_benefits"] = load_benefits(day)
    for code in day.acceptors:
        client, secret = acceptor_client_create(acceptor_code=code, principal=system)
        day.clients[code] = Client(client.client_id, secret)
    return counts


def load_benefits(day: CardDay) -> dict[str, int]:
    """Load the example same-city rules through the importer (idempotent: rows already loaded are
    ``unchanged``) and give the day's readers the same rules. Returns the import's counts."""
    from cards.services.reference import benefits_import
    from core.imports import rows_from_csv_bytes
    from core.principals import Principal

    rows = rows_from_csv_bytes(BENEFITS_CSV.read_bytes())
    system = Principal(role="clearing_staff", actor="manage.py demo")
    loaded = benefits_import(rows=rows, province=None, principal=system).as_dict()
    if loaded["rejected"]:
        raise RuntimeError(f"the example same-city rules were refused: {loaded['rejected']}")
    day.rules = [
        Rule(
            admdvs=r["admdvs"],
            svc_type=r["svc_type"],
            min_age=int(r["min_age"]) if r["min_age"] else None,
            max_age=int(r["max_age"]) if r["max_age"] else None,
            pay_prop=Decimal(r["pay_prop"]),
            begndate=dt.date.fromisoformat(r["begndate"]),
            enddate=dt.date.fromisoformat(r["enddate"]) if r["enddate"] else None,
        )
        for r in rows
    ]
    return {k: v for k, v in loaded.items() if k != "rejected"}


def _record(
    rng: random.Random,
    card: dict[str, str],
    code: str,
    kind: str,
    used: dt.datetime,
    *,
    mode: str,
    version: int | None,
    serial: str,
) -> dict[str, Any]:
    svc = dict((k, s) for k, _, s in KINDS)[kind]
    price = {
        "transit": rng.choice(["2.00", "3.00", "4.00", "5.00"]),
        "scenic": rng.choice(["60.00", "95.00"]),
        "library": "0.00",
        "museum": rng.choice(["0.00", "20.00"]),
    }[kind]
    pay = "none" if price == "0.00" else ("fin_acct" if kind == "scenic" and mode == "online" else "epurse")
    return {
        "acpt_serial": serial,
        "card_no": card["card_no"],
        "card_sn": card["card_sn"],
        "svc_type": svc,
        "used_at": used.isoformat(timespec="seconds"),
        "mode": mode,
        "list_version": version,
        "list_amt": price,
        "amt": price,
        "pay_src": pay,
    }


def _expected_amt(record: dict[str, Any], card: dict[str, str], admdvs: str, rules: list[Rule]) -> str:
    """What the reader charges: ``list_amt`` × the ``pay_prop`` of the rule of the acceptor's
    prefecture (the demo's acceptors sit in listed prefectures, so that is its pooling region) for
    the service, valid on the Asia/Shanghai day of use, whose age band holds the holder's full years
    that day (birth date from digits 7–14 of the ``certno``); rounded half up to 0.01."""
    used = dt.datetime.fromisoformat(record["used_at"]).astimezone(SH).date()
    certno = card["certno"]
    born = dt.date(int(certno[6:10]), int(certno[10:12]), int(certno[12:14]))
    age = used.year - born.year - ((used.month, used.day) < (born.month, born.day))
    for rule in rules:
        if (
            rule.admdvs == admdvs
            and rule.svc_type == record["svc_type"]
            and rule.begndate <= used
            and (rule.enddate is None or used <= rule.enddate)
            and (rule.min_age is None or age >= rule.min_age)
            and (rule.max_age is None or age <= rule.max_age)
        ):
            amount = (Decimal(record["list_amt"]) * rule.pay_prop).quantize(Decimal("0.01"), ROUND_HALF_UP)
            return f"{amount}"
    return record["list_amt"]


def _send(api: Api, day: CardDay, by_acceptor: dict[str, list[dict[str, Any]]]) -> None:
    for code, records in by_acceptor.items():
        for i in range(0, len(records), 1000):
            resp = api.signed(
                day.clients[code], "POST", "/api/v1/card-acceptances/batch", {"items": records[i : i + 1000]}
            )
            resp.raise_for_status()
            for res in resp.json()["results"]:
                key = res["status"] if "acceptance" in res else f"{res['status']} {res['problem']['code']}"
                day.answers[key] += 1
                if res["status"] == 201:
                    day.accepted += 1
                    a = res["acceptance"]
                    day.free += not a["cleared"]
                    day.late_listing += a["late_listing"]


def _taps(
    rng: random.Random,
    day: CardDay,
    n: int,
    start: dt.datetime,
    end: dt.datetime,
    tag: str,
    version: tuple[int, dt.datetime],
) -> dict[str, list[dict[str, Any]]]:
    """``n`` records dated in [start, end]; offline ones (15 % of transit) carry ``version`` (number,
    issued_at) and are dated no earlier than 250 s before its issue (a reader cannot hold a list
    from the future: ``list_version_after_use``)."""
    out: dict[str, list[dict[str, Any]]] = {}
    codes = list(day.acceptors)
    weights = [8 if day.acceptors[c][0] == "transit" else 1 for c in codes]
    span = (end - start).total_seconds()
    for i in range(n):
        code = rng.choices(codes, weights)[0]
        kind, admdvs = day.acceptors[code]
        card = rng.choice(day.cards)
        used = start + dt.timedelta(seconds=rng.random() * span)
        offline = kind == "transit" and rng.random() < 0.15
        if offline:
            floor = version[1] - dt.timedelta(seconds=250)
            used = max(
                used, floor + dt.timedelta(seconds=rng.random() * max(1.0, (end - floor).total_seconds()))
            )
        rec = _record(
            rng,
            card,
            code,
            kind,
            used,
            mode="offline" if offline else "online",
            version=version[0] if offline else None,
            serial=f"{tag}-{i:07d}",
        )
        if rec["pay_src"] == "fin_acct" and offline:
            rec["pay_src"] = "epurse"
        if card["card_gen"] == "2" and rec["svc_type"] == "transit_fare" and rec["pay_src"] == "epurse":
            rec["pay_src"] = "epurse"  # refused no_transit_function, as a real gen-2 card would be
        rec["amt"] = _expected_amt(rec, card, admdvs, day.rules)
        if rec["amt"] == "0.00":
            rec["pay_src"] = "none"
        out.setdefault(code, []).append(rec)
    return out


def _ref_of(card: dict[str, str]) -> str:
    """A stable reference part for ``card`` that names no card number (stored references are in
    clear): the first 16 hex of its ``card_ref`` (SHA-256 of the ``card_sn``, in clear by the spec)."""
    return hashlib.sha256(card["card_sn"].upper().encode("ascii")).hexdigest()[:16]


def run(api: Api, *, taps: int, seed: int, n_cards: int = 3000) -> CardDay:
    """Load the registry, run the day over HTTP, close the card scheme. Returns what happened.

    The day is compressed into the run: uses are dated over the last six hours; offline records
    carry the list their reader held (issued when this run loaded the registry, so they are dated
    after it); the mid-day events happen now, and the old card's later uses are dated after them."""
    from cards.services.denylist import fresh_latest
    from cards.services.moves import card_replace, card_status_request

    rng = random.Random(seed + 13)
    day = CardDay()
    day.events.append(f"registry: {load_registry(day, n_cards=n_cards, seed=seed)}")
    now = timezone.now().astimezone(SH).replace(microsecond=0)
    first = fresh_latest()
    held = (first.version, first.issued_at)  # the readers' list this morning
    _send(api, day, _taps(rng, day, taps // 2, now - dt.timedelta(hours=6), now, "AM", held))
    # mid-day: a few temporary losses at desks, one cross-province replacement at a Shanghai desk
    desk = SimpleNamespace(role="card_desk", actor="demo-desk-310000", admdvs="310000", person=None)
    for card in rng.sample(day.cards, 5):
        card_status_request(
            principal=desk,
            card_no=card["card_no"],
            to="temp_lost",
            reason="demo",
            reference=f"demo-loss-{_ref_of(card)}",
            certno=card["certno"],
            card_sn=None,
        )
    day.events.append("temporary losses reported at a desk: 5 cards")
    old = next(c for c in day.cards if c["issuer_admdvs"][:2] == "33" and c["card_gen"] == "3")
    new = {**old, "card_no": f"R{old['card_no'][1:]}", "card_sn": f"{rng.getrandbits(128):032x}"}
    rep, _ = card_replace(
        principal=desk,
        card_no=old["card_no"],
        data={
            "new_card_no": new["card_no"],
            "new_card_sn": new["card_sn"],
            "reason": "lost",
            "reference": f"demo-replace-{_ref_of(old)}",
            "certno": old["certno"],
        },
    )
    day.events.append(
        f"replacement at a Shanghai desk: {old['card_no'][:3]}****{old['card_no'][-2:]} → "
        f"{new['card_no'][:3]}****{new['card_no'][-2:]}, deny-list version {rep.list_version}; "
        "afterwards the old card online → card_denied, offline with the morning list → late_listing"
    )
    metro = next(c for c, (k, a) in day.acceptors.items() if k == "transit" and a == "310000")
    after = timezone.now().astimezone(SH).replace(microsecond=0) + dt.timedelta(seconds=2)
    specials = [
        _record(rng, old, metro, "transit", after, mode="online", version=None, serial="OLD-ONLINE"),
        _record(rng, old, metro, "transit", after, mode="offline", version=held[0], serial="OLD-OFFLINE"),
        _record(rng, new, metro, "transit", after, mode="online", version=None, serial="NEW-ONLINE"),
    ]
    day.cards.append(new)
    latest = fresh_latest()
    pm = _taps(
        rng, day, taps - taps // 2, now - dt.timedelta(hours=2), now, "PM", (latest.version, latest.issued_at)
    )
    pm.setdefault(metro, []).extend(specials)
    _send(api, day, pm)
    day.closed = close_card_scheme()
    return day


def close_card_scheme() -> list[Any]:
    """Close the card scheme's cycles up to the one open now (an early close, as the medical day)."""
    from clearing.models import Scheme
    from clearing.services.close import cycle_close, cycles_due
    from clearing.services.cycles import open_cycle_date

    dates = cycles_due(scheme=Scheme.CARD) + [open_cycle_date(scheme=Scheme.CARD)]
    return [cycle_close(clr_date=d, actor="manage.py demo", scheme=Scheme.CARD) for d in dates]


def write_documents(day: CardDay, out: Path) -> list[Path]:
    """The card heads and statements (canonical bytes + raw signatures) under ``out/cards/``."""
    from clearing.models import Statement

    folder = out / "cards"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for cycle in day.closed:
        head = cycle.head
        for name, data in (
            (f"card-head-{cycle.clr_date}.json", head.canonical),
            (f"card-head-{cycle.clr_date}.sig", head.signature),
        ):
            (folder / name).write_bytes(bytes(data))
            paths.append(folder / name)
        for st in Statement.objects.filter(cycle=cycle):
            for ext, data in (("json", st.canonical), ("sig", st.signature)):
                p = folder / f"card-statement-{cycle.clr_date}-{st.admdvs}.{ext}"
                p.write_bytes(bytes(data))
                paths.append(p)
    return paths


def render(day: CardDay, medical_head: dict[str, Any], medical_date: str) -> str:
    """Both schemes' nets side by side (never summed: purse and bank money is not fund money)."""
    card = json.loads(bytes(day.closed[-1].head.canonical)) if day.closed else {"net_positions": {}}
    lines = [
        f"    taps and entries answered: {dict(sorted(day.answers.items(), key=str))}",
        f"    accepted {day.accepted} (free uses {day.free}, late listings {day.late_listing})",
    ]
    lines += [f"    {e}" for e in day.events[1:]]
    lines.append(f"\n    Net positions, {medical_date} medical vs {card.get('clr_date')} card (not summed):")
    lines.append(f"    {'province':<10}{'medical':>16}{'card':>14}")
    provs = sorted(set(medical_head["net_positions"]) | set(card["net_positions"]))
    for p in provs:
        med, crd = medical_head["net_positions"].get(p, "—"), card["net_positions"].get(p, "—")
        lines.append(f"    {p:<10}{med:>16}{crd:>14}")
    lines.append(f"    {'gross':<10}{medical_head['gross']:>16}{card.get('gross', '—'):>14}")
    lines.append(f"    {'items':<10}{medical_head['item_cnt']:>16}{card.get('item_cnt', '—'):>14}")
    return "\n".join(lines)
