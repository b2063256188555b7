"""Bugs found in other parts while testing reliability and scopes, each as a strict xfail that
passes once the bug is fixed (then drop the mark). See docs/reliability.md §Findings."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
@pytest.mark.xfail(
    strict=True,
    reason=(
        "clearing/services/disputes.py dispute_open: disputing an item whose clr_amt is 0.00 (no amount "
        "given) trips the dispute_amount_positive check constraint, and the IntegrityError handler answers "
        "409 already_disputed for an item that was never disputed"
    ),
)
def test_disputing_a_zero_amount_item_is_not_reported_as_already_disputed(world, staff_client):
    from clearing.models import ClearingItem, Dispute

    assert ClearingItem.objects.get(setl_id=world.setl_b).clr_amt == 0
    bureau = staff_client("bureau", "320000")  # payer of setl_b (乙, insured in 320100)
    resp = bureau.post(
        "/api/v1/disputes", {"setl_id": world.setl_b, "reason_code": "not_covered", "note": "x"}
    )
    assert not Dispute.objects.filter(setl_id=world.setl_b).exists()
    assert resp.json()["code"] != "already_disputed", resp.json()
    assert resp.status_code in (400, 422)
