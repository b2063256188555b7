"""Every file of spec/samples/nhsa/ is accepted as a shape and gives the spec's answer (its README):
sent as written, at the time it names (the test clock), after what it presumes (its 9001, its
visit, the other lines of its bill)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from tests.gateway.conftest import SH, Gateway, gateway_client_for, sample, stamp, worked_examples
from tests.gateway.test_worked_examples import send

STEPS = worked_examples()


def output(step: str) -> dict:
    return json.loads(STEPS[step]["response"], parse_float=Decimal)["output"]


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.mark.django_db
def test_9001_signin_sample(gw):  # noqa: ANN001
    gw.clock.set(at("2026-11-20 08:00:00.200"))
    status, env = gw.call(sample("9001-signin.json"))
    assert (status, env["infcode"], env["err_msg"]) == (200, 0, "")
    assert env["output"]["signinoutb"]["sign_time"] == "2026-11-20 08:00:00"


@pytest.mark.django_db
def test_1101_person_by_certno_sample(gw):  # noqa: ANN001
    send(gw, "G1.1")  # issues sign_no 20261120000000000000Q3f9a1c, as the sample presumes
    gw.clock.set(at("2026-11-20 08:59:00.300"))
    status, env = gw.call(sample("1101-person-by-certno.json"))
    assert (status, env["infcode"], env["output"]) == (200, 0, output("G1.2"))


@pytest.mark.django_db
def test_2601_and_3201_samples_give_g1_g2_answers(gw):  # noqa: ANN001
    for step in ("G1.1", "G1.2", "G1.3", "G1.4", "G1.5", "G1.6", "G1.7"):
        send(gw, step)
    gw.clock.set(at("2026-11-27 12:00:00.031"))
    status, env = gw.call(sample("3201-totals-szsi.json"))
    assert (status, env["infcode"], env["output"]) == (200, 0, output("G1.8"))
    gw.clock.set(stamp("20261127140000230"))
    gw.clock.hex.append("2d7f43")
    status, env = gw.call(sample("2601-reversal.json"))
    assert (status, env["infcode"], env["output"]) == (200, 0, output("G2.1"))


@pytest.mark.django_db
def test_2204_szsi_and_2207_gzsi_samples_settle_e2a(client, world):  # noqa: ANN001
    paasid, secret = gateway_client_for("H33010600001")
    gw = Gateway(client, world, paasid, secret)
    head = {"code": "H33010600001", "area": "330100", "insuplc": "320100"}
    from tests.gateway.conftest import envelope

    gw.clock.set(at("2026-11-27 09:00:00.050"))
    gw.clock.hex.append("6b2e11")
    _, env = gw.call(envelope("9001", {"signIn": {"opter_no": "0201"}}, at=gw.clock.at, **head, seq=7))
    sign_no = env["output"]["signinoutb"]["sign_no"]
    assert sign_no == "20261127010000000000Q6b2e11"
    gw.clock.set(at("2026-11-27 09:05:00.115"))
    gw.clock.hex.append("1a9c3e")
    _, env = gw.call(
        envelope(
            "2201",
            {
                "data": {
                    "psn_no": "32010000000000000002",
                    "insutype": "310",
                    "begntime": "2026-11-27 09:05:00",
                    "mdtrt_cert_type": "02",
                    "mdtrt_cert_no": "320102197505124565",
                    "med_type": "11",
                    "ipt_otp_no": "MZ1",
                }
            },
            at=gw.clock.at,
            sign_no=sign_no,
            **head,
        )
    )
    assert env["output"]["data"]["mdtrt_id"] == "20261127010500115000M1a9c3e", env
    gw.clock.set(at("2026-11-27 09:10:00.400"))
    status, env = gw.call(sample("2204-feedetail-szsi.json"))
    assert (status, env["infcode"]) == (200, 0), env
    line = env["output"]["result"][0]
    assert (line["feedetl_sn"], str(line["cnt"]), str(line["pric"]), str(line["det_item_fee_sumamt"])) == (
        "1",
        "3.0",
        "15.80",
        "47.40",
    )
    gw.clock.set(at("2026-11-27 09:11:00"))
    _, env = gw.call(
        envelope(
            "2204",
            {
                "feedetail": [
                    {
                        "feedetl_sn": "2",
                        "mdtrt_id": "20261127010500115000M1a9c3e",
                        "psn_no": "32010000000000000002",
                        "chrg_bchno": "CB2026112700001",
                        "fee_ocur_time": "2026-11-27 09:06:00",
                        "med_list_codg": "003101000010000",
                        "det_item_fee_sumamt": "60.00",
                        "cnt": "1",
                        "pric": "60.00",
                    }
                ]
            },
            at=gw.clock.at,
            sign_no=sign_no,
            **head,
        )
    )
    assert env["infcode"] == 0, env
    gw.clock.set(at("2026-11-27 09:12:00.500"))
    status, env = gw.call(sample("2207-settle-gzsi.json"))
    assert (status, env["infcode"], env["err_msg"]) == (200, 0, "")
    info = env["output"]["setlinfo"]
    got = {
        k: str(info[k])
        for k in (
            "medfee_sumamt",
            "preselfpay_amt",
            "inscp_scp_amt",
            "act_pay_dedc",
            "hifp_pay",
            "psn_part_amt",
            "acct_pay",
            "psn_cash_pay",
        )
    }
    assert got == {
        "medfee_sumamt": "107.40",
        "preselfpay_amt": "12.00",
        "inscp_scp_amt": "95.40",
        "act_pay_dedc": "50.00",
        "hifp_pay": "31.78",
        "psn_part_amt": "75.62",
        "acct_pay": "0.00",
        "psn_cash_pay": "75.62",
    }
    from settlement.models import Settlement

    s = Settlement.objects.get(setl_id=info["setl_id"])
    assert (s.mdtrt_id, s.medins_setl_id, str(s.clr_amt)) == (
        "20261127010500115000M1a9c3e",
        "H33010600001202611270912000001",
        "31.78",
    )
