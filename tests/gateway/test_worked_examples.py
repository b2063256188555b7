"""G1 and G2 of spec/nhsa-gateway.md §6, every response envelope compared byte for byte.

Receipt/answer times are the spec's ``refmsg_time``/``respond_time`` (the test clock), the hex tails
of the ids the spec's (``3f9a1c`` sign_no, ``7c41d2`` mdtrt_id, ``5e8b90`` setl_id, ``2d7f43``
reversal), and the ``inf_refmsgid`` serial starts at 101, as the spec does."""

from __future__ import annotations

import pytest

from tests.gateway.conftest import SECRET, stamp, tif_headers, worked_examples

STEPS = worked_examples()
HEX = {"G1.1": ["3f9a1c"], "G1.3": ["7c41d2"], "G1.7": ["5e8b90"], "G2.1": ["2d7f43"]}
G1 = [f"G1.{i}" for i in range(1, 9)]
G2 = ["G2.1", "G2.2", "G2.3"]


def send(gw, step: str, *, fresh_nonce: bool = False):  # noqa: ANN001, ANN201
    """Post the step's request bytes with its headers (``fresh_nonce``: a retry, new x-tif headers)."""
    s = STEPS[step]
    want = s["response"].encode("utf-8")
    import json

    got_env = json.loads(want)
    gw.clock.set(stamp(got_env["refmsg_time"]), stamp(got_env["respond_time"]))
    gw.clock.hex.extend(HEX.get(step, []))
    headers = {
        "x-tif-paasid": "ks_H31010400001_his",
        "x-tif-timestamp": s["timestamp"],
        "x-tif-nonce": s["nonce"],
        "x-tif-signature": s["signature"],
    }
    if fresh_nonce:
        headers = tif_headers("ks_H31010400001_his", SECRET, s["timestamp"])
    r = gw.post(s["request"].encode("utf-8"), headers=headers)
    return r, want


@pytest.mark.django_db
def test_g1_every_envelope_byte_for_byte(gw):  # noqa: ANN001
    for step in G1:
        r, want = send(gw, step)
        assert r.status_code == 200, step
        assert r["Content-Type"] == "application/json; charset=UTF-8"
        assert r.content.decode() == want.decode(), step


@pytest.mark.django_db
def test_g2_correction_and_totals_byte_for_byte(gw):  # noqa: ANN001
    from accounts.models import Person
    from settlement.models import Accumulator, Settlement

    for step in G1:
        send(gw, step)
    for step in G2:
        r, want = send(gw, step)
        assert r.status_code == 200, step
        assert r.content.decode() == want.decode(), step
    # the settlement is reversed: account back, accumulators back, reversal in the open cycle
    orig = Settlement.objects.get(setl_id="20261127020003512000S5e8b90")
    rev = Settlement.objects.get(setl_id="20261127060000230000R2d7f43")
    assert (orig.status, rev.status, rev.reversal_kind, str(rev.clr_amt), str(rev.clr_date)) == (
        "reversed",
        "reversal",
        "correction",
        "-2493.22",
        "2026-11-27",
    )
    assert str(Person.objects.get(psn_no="34010000000000000001").acct_balance) == "500.00"
    acc = Accumulator.objects.get(
        person__psn_no="34010000000000000001", year=2026, insutype="310", med_type_group="inpatient"
    )
    assert (str(acc.deductible_used), str(acc.fund_paid)) == ("0.00", "0.00")
    # a retry of G2.1 replays it byte for byte; a late duplicate of G1.7 gets the stored G1.7 answer
    for step in ("G2.1", "G1.7"):
        r, want = send(gw, step, fresh_nonce=True)
        assert r.content.decode() == want.decode(), step
    assert Settlement.objects.count() == 2
