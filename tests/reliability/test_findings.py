"""Bugs found in other parts while testing reliability and scopes. While a bug is open its test is a
strict xfail; once fixed the mark goes and the test stays as a regression test.
See docs/reliability.md §Findings."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_disputing_a_zero_amount_item_is_422_not_already_disputed(world, staff_client):
    """Found here (fixed in clearing/services/disputes.py::dispute_open): an item with clr_amt 0.00
    tripped the dispute_amount_positive check constraint and the IntegrityError handler answered
    409 already_disputed for an item never disputed."""
    from clearing.models import ClearingItem, Dispute

    assert ClearingItem.objects.get(setl_id=world.setl_b).clr_amt == 0
    bureau = staff_client("bureau", "320000")  # payer of setl_b (乙, insured in 320100)
    resp = bureau.post(
        "/api/v1/disputes", {"setl_id": world.setl_b, "reason_code": "not_covered", "note": "x"}
    )
    assert resp.status_code == 422
    assert resp.json()["code"] == "not_disputable"
    assert not Dispute.objects.filter(setl_id=world.setl_b).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/v1/cycles/0000-00-00/items?format=csv", "/api/v1/cycles/{d}/statement?format=csv"]
)
def test_errors_of_csv_endpoints_are_problem_json(world, path):
    """spec/README.md §Errors: every error is application/problem+json. Found here (fixed in
    clearing/apis): with ?format=csv an error was rendered as the Python repr of the problem dict
    ("{'type': ...}") under Content-Type application/problem+json."""
    import json

    resp = world.call("bureau:other", "GET", path.replace("{d}", world.clr_date))
    assert resp.status_code == 404
    assert resp["Content-Type"].startswith("application/problem+json")
    problem = json.loads(resp.content)
    assert problem["status"] == 404 and problem["code"] == "not_found"
