"""spec/cards.md, Changes to other parts, at the NHSA gateway: 1101 and 2201 with a social-security
card (``mdtrt_cert_type`` 03) find the person through the card registry, so a card replaced at a
desk works at once; the replaced card (listed ``cancelled``) is refused ``[card_denied]`` right
after ``unknown_person``."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from types import SimpleNamespace

import pytest

from tests.gateway.conftest import SH, Gateway, envelope, gateway_client_for

PSN = "32010000000000000002"  # 示例乙, Jiangsu card A32000002, at the Hangzhou hospital
HEAD = {"code": "H33010600001", "area": "330100", "insuplc": "320100"}
OLD = {"mdtrt_cert_type": "03", "mdtrt_cert_no": "A32000002", "card_sn": "0b7e2d41c9a34f6e8d1a5c3b7e9f2a62"}
NEW = {"mdtrt_cert_type": "03", "mdtrt_cert_no": "A32000102", "card_sn": "320100D1560000050A1B2C3D4E5F6072"}


@pytest.mark.django_db
def test_gateway_finds_the_holder_of_a_replacement_card_and_refuses_the_old_one(client, world):  # noqa: ANN001
    from cards.services.moves import card_replace

    paasid, secret = gateway_client_for("H33010600001")
    gw = Gateway(client, world, paasid, secret)
    world.set(dt.datetime(2026, 11, 27, 9, 0, tzinfo=SH))
    seq = iter(range(1, 100))

    def call(infno: str, inp: dict, sign_no: str = "") -> dict:
        world.set(world.at + dt.timedelta(seconds=1))
        body = envelope(infno, inp, at=world.at, seq=next(seq), sign_no=sign_no, **HEAD)
        r = gw.post(body)
        assert r.status_code == 200
        return json.loads(r.content, parse_float=Decimal)

    sign_no = call("9001", {"signIn": {"opter_no": "0201"}})["output"]["signinoutb"]["sign_no"]
    desk = SimpleNamespace(role="card_desk", actor="desk-330100", admdvs="330100", person=None)
    card_replace(
        principal=desk,
        card_no="A32000002",
        data={"new_card_no": NEW["mdtrt_cert_no"], "new_card_sn": NEW["card_sn"], "reason": "damaged",
              "reference": "GW-R-1", "certno": "320102197505124565"},
    )
    found = call("1101", {"data": NEW}, sign_no)
    assert (found["infcode"], found["output"]["baseinfo"]["psn_no"]) == (0, PSN), found
    old = call("1101", {"data": OLD}, sign_no)
    assert (old["infcode"], old["err_msg"]) == (-1, "[card_denied] 社会保障卡已挂失或注销，不能使用")
    visit = {"psn_no": PSN, "insutype": "310", "begntime": "2026-11-27 09:00:00", "ipt_otp_no": "MZ1"}
    ok = call("2201", {"data": visit | NEW}, sign_no)
    assert ok["infcode"] == 0 and ok["output"]["data"]["psn_no"] == PSN, ok
    refused = call("2201", {"data": visit | OLD | {"ipt_otp_no": "MZ2"}}, sign_no)
    assert refused["err_msg"] == "[card_denied] 社会保障卡已挂失或注销，不能使用"
    unknown = call("2201", {"data": visit | OLD | {"mdtrt_cert_no": "ZZ9999999"}}, sign_no)
    assert unknown["err_msg"].startswith("[unknown_person]")  # unknown_person comes first
