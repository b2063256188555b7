"""The clearing example again, through real settlements over the signed HTTP API (E1–E5, E2b, E7
on day D; the reversal of E4 on D+1), and a dispute racing a reversal of the same settlement."""

from __future__ import annotations

import json
import threading
from decimal import Decimal

import pytest
from django.db import connections

from clearing.models import Cycle, PrefundAccount, Statement
from clearing.services.close import cycle_close
from clearing.services.cycles import open_cycle_date
from clearing.services.ledger import trial_balance
from tests.clearing.helpers import staff_client
from tests.settlement.conftest import CERT, bill, world  # noqa: F401 - the fixture

E1_LINES = [
    ("XA01AAA001", "10", "12.50", "125.00"),
    ("XB02BBB002", "4", "88.88", "355.52"),
    ("001201000010000", "1", "2400.00", "2400.00"),
    ("C0301020300000100001", "1", "680.00", "680.00"),
    ("002201000010000", "5", "120.00", "600.00"),
]
BILLS = {
    "E1": ("H31010400001", lambda: bill(CERT["甲"], "310", "21", E1_LINES, "1")),
    "E2a": (
        "H33010600001",
        lambda: bill(
            CERT["乙"],
            "310",
            "11",
            [("XA01AAA001", "3", "15.80", "47.40"), ("003101000010000", "1", "60.00", "60.00")],
        ),
    ),
    "E2b": (
        "H33010600001",
        lambda: bill(CERT["乙"], "310", "11", [("001102000010000", "2", "50.00", "100.00")]),
    ),
    "E3": (
        "H32010200001",
        lambda: bill(CERT["丙"], "390", "21", [("001201000010000", "1", "5000.00", "5000.00")], "1"),
    ),
    "E4": (
        "H31010400001",
        lambda: bill(CERT["丁"], "310", "24", [("001201000010000", "1", "3000.00", "3000.00")], "1"),
    ),
    "E5": (
        "P34010400001",
        lambda: bill(CERT["戊"], "310", "41", [("XB02BBB002", "2", "35.50", "71.00")], "1"),
    ),
    "E7": (
        "H32010200001",
        lambda: bill(CERT["庚"], "310", "11", [("XA01AAA001", "1", "20.00", "20.00")], "1"),
    ),
}
CLR = {
    "E1": "2493.22",
    "E2a": "31.78",
    "E2b": "70.00",
    "E3": "500.00",
    "E4": "3000.00",
    "E5": "71.00",
    "E7": "20.00",
}


def settle_day(world) -> dict[str, str]:  # noqa: F811
    out = {}
    for label, (code, make) in BILLS.items():
        r = world[code].post("/api/v1/settlements", make())
        assert r.status_code == 201, r.content
        info = r.json()["setlinfo"]
        assert info["clr_amt"] == CLR[label], label
        out[label] = info["setl_id"]
    return out


@pytest.mark.django_db
def test_example_through_real_settlements(world):  # noqa: F811
    day = open_cycle_date()
    ids = settle_day(world)
    d = cycle_close(clr_date=day, actor="test")
    head = json.loads(bytes(d.head.canonical))
    assert (
        head["item_cnt"],
        head["tree_size"],
        head["gross"],
        head["net_funding"],
        head["netting_efficiency"],
    ) == (6, 7, "6166.00", "5820.44", "0.0560")
    assert head["net_positions"] == {
        "310000": "5422.22",
        "320000": "398.22",
        "330000": "-2898.22",
        "340000": "-2922.22",
    }
    s320 = json.loads(bytes(Statement.objects.get(cycle=d, admdvs="320000").canonical))
    assert s320["intra_province"] == {"cnt": 1, "amount": "20.00"}
    balances = dict(PrefundAccount.objects.values_list("admdvs", "balance"))
    assert balances == {
        "310000": Decimal("10422.22"),
        "320000": Decimal("5398.22"),
        "330000": Decimal("-898.22"),
        "340000": Decimal("7077.78"),
    }
    d_bytes = bytes(d.head.canonical)
    r = world["H31010400001"].post(f"/api/v1/settlements/{ids['E4']}/reversal", {"medins_setl_id": "REV-E4"})
    assert r.status_code == 201, r.content
    d1 = cycle_close(clr_date=open_cycle_date(), actor="test")
    h1 = json.loads(bytes(d1.head.canonical))
    assert h1["net_positions"] == {"310000": "-3000.00", "330000": "3000.00"}
    assert (h1["gross"], h1["net_funding"], h1["netting_efficiency"]) == ("3000.00", "3000.00", "0.0000")
    balances = dict(PrefundAccount.objects.values_list("admdvs", "balance"))
    assert (balances["310000"], balances["330000"]) == (Decimal("7422.22"), Decimal("2101.78"))
    assert bytes(Cycle.objects.get(clr_date=day).head.canonical) == d_bytes
    assert trial_balance()["total"] == Decimal("0.00")
    # a reversed settlement cannot be disputed
    payer = staff_client("bureau", "330000")
    assert (
        payer.post("/api/v1/disputes", {"setl_id": ids["E4"], "reason_code": "other"}).json()["code"]
        == "already_reversed"
    )
    # a disputed settlement cannot be reversed
    assert (
        staff_client("bureau", "340000")
        .post("/api/v1/disputes", {"setl_id": ids["E1"], "reason_code": "other"})
        .status_code
        == 201
    )
    r = world["H31010400001"].post(f"/api/v1/settlements/{ids['E1']}/reversal", {"medins_setl_id": "REV-E1"})
    assert r.status_code == 409 and r.json()["code"] == "disputed"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_dispute_racing_reversal_exactly_one_wins(world):  # noqa: F811
    day = open_cycle_date()
    ids = settle_day(world)
    cycle_close(clr_date=day, actor="test")
    payer = staff_client("bureau", "340000")
    results: dict[str, int] = {}
    barrier = threading.Barrier(2)

    def dispute() -> None:
        barrier.wait()
        results["dispute"] = payer.post(
            "/api/v1/disputes", {"setl_id": ids["E1"], "reason_code": "other"}
        ).status_code
        connections.close_all()

    def reverse() -> None:
        barrier.wait()
        results["reversal"] = (
            world["H31010400001"]
            .post(f"/api/v1/settlements/{ids['E1']}/reversal", {"medins_setl_id": "REV-RACE"})
            .status_code
        )
        connections.close_all()

    threads = [threading.Thread(target=dispute), threading.Thread(target=reverse)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [201, 409], results
