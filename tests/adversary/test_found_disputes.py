"""Adversary (engineer H): a dispute and a reversal of one settlement must never both move money
(spec/hospital-api.md §reversal: "a reversal and a dispute can never both succeed")."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.adversary.helpers import DING, bill, line

pytestmark = pytest.mark.django_db


def test_reversal_after_rejected_dispute_then_uphold_does_not_claw_back_twice(
        examples, institution_client, staff_client):
    from clearing.models import ClearingItem
    from clearing.services.close import cycle_close

    hospital = institution_client("H31010400001")
    r = hospital.post("/api/v1/settlements", bill(certno=DING, med_type="24", acct="1",
                                                  lines=[line(code="001201000010000", pric="3000.00")]))
    assert r.status_code == 201, r.content
    info = r.json()["setlinfo"]
    assert info["clr_amt"] == "3000.00"
    cycle_close(clr_date=dt.date.fromisoformat(info["clr_date"]), actor="test")

    payer, payee = staff_client("bureau", "330000"), staff_client("bureau", "310000")
    staff = staff_client("clearing_staff", "000000")
    d = payer.post("/api/v1/disputes", {"setl_id": info["setl_id"], "reason_code": "other", "note": "x"})
    assert d.status_code == 201, d.content
    did = d.json()["id"]
    assert payee.post(f"/api/v1/disputes/{did}/resolve", {"outcome": "rejected"}).status_code == 200
    rev = hospital.post(f"/api/v1/settlements/{info['setl_id']}/reversal", {"medins_setl_id": "ADV-REV-1"})
    esc = payer.post(f"/api/v1/disputes/{did}/escalate", {})
    up = staff.post(f"/api/v1/disputes/{did}/resolve", {"outcome": "upheld"})
    assert (rev.status_code, esc.status_code, up.status_code) != (201, 200, 200)

    moved = sum(
        (i.clr_amt for i in ClearingItem.objects.filter(payer="330000", payee="310000")), Decimal("0.00"))
    # The settlement (+3000.00) is undone once: by the reversal or by the upheld adjustment, not both.
    assert moved == Decimal("0.00")
