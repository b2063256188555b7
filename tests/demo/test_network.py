"""The synthetic network and day (demo.network, demo.day): valid identifiers, determinism, the mix
calibrated to spec/operations.md."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path

from accounts.certno import normalize_certno
from demo.day import INPATIENT, plan_day, prefunds_rows
from demo.network import build_network, certno_check, write_reference

TODAY = dt.date(2026, 11, 27)
NOW = dt.datetime(2026, 11, 27, 6, 0, tzinfo=dt.UTC)


def test_certno_check_character_matches_gb11643():
    # The spec's own example persons (data/examples/persons.csv).
    assert certno_check("34010419800101123") == "4"
    assert certno_check("34010219900215321") == "X"
    assert certno_check("33010619680830789") == "8"


def test_every_person_has_a_valid_unique_certno_and_card():
    net = build_network(persons=400, seed=5, today=TODAY)
    certnos = [p.certno for p in net.persons]
    assert all(normalize_certno(c, today=TODAY) == c for c in certnos)
    assert len(set(certnos)) == 400
    assert len({p.card_no for p in net.persons}) == 400
    assert {p.insutype for p in net.persons} == {"310", "390"}
    assert all(p.balance == Decimal("0.00") for p in net.persons if p.insutype == "390")


def test_network_shape_yrd_in_detail_others_a_few():
    net = build_network(persons=10, seed=5, today=TODAY)
    per_province = Counter(i.province for i in net.institutions)
    assert len(per_province) == 32
    assert all(per_province[p] >= 36 for p in ("310000", "320000", "330000", "340000"))
    assert all(
        3 <= n <= 5 for p, n in per_province.items() if p not in ("310000", "320000", "330000", "340000")
    )
    yrd = [i for i in net.institutions if i.province in ("320000", "330000", "340000")]
    assert {i.hosp_lv for i in yrd if i.type == "1"} == {"1", "2", "3"}
    assert all(i.hosp_lv == "" for i in net.institutions if i.type == "2")


def test_same_seed_same_files(tmp_path: Path):
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        net = build_network(persons=300, seed=11, today=TODAY)
        day = plan_day(net, 500, runtag="t1", now=NOW, seed=3)
        write_reference(net, d, prefunds_rows(net, day))
    for f in sorted(a.iterdir()):
        assert f.read_bytes() == (b / f.name).read_bytes(), f.name


def test_day_mix_and_bills():
    net = build_network(persons=3000, seed=2026, today=TODAY)
    day = plan_day(net, 4000, runtag="t1", now=NOW, seed=2027)
    inpatient = sum(1 for p in day.items if p.body["med_type"] in INPATIENT)
    assert 0.07 <= inpatient / 4000 <= 0.11  # 11.25 of 129 million
    serials = [p.body["medins_setl_id"] for p in day.items]
    assert len(set(serials)) == 4000 and max(map(len, serials)) <= 30
    for p in day.items[:500]:
        for line in p.body["feedetail"]:
            assert Decimal(line["cnt"]) * Decimal(line["pric"]) == Decimal(line["det_item_fee_sumamt"])
            assert dt.datetime.fromisoformat(line["fee_ocur_time"]) <= NOW
        assert p.person.province != p.institution.province or p.person.home != p.institution.admdvs
    assert 20 <= sum(p.reverse for p in day.items) <= 60
