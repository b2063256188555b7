"""The other served infno of spec/nhsa-gateway.md §1 on E2a's outpatient visit (示例乙 at
H33010600001): 2203, 2205, 2202, 5203/5204, 2208 and re-settle, 3202 with 9101/9102, 9002."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import zipfile
from decimal import Decimal

import pytest

from tests.gateway.conftest import SH, Gateway, envelope, gateway_client_for

PSN, CERT = "32010000000000000002", "320102197505124565"
HEAD = {"code": "H33010600001", "area": "330100", "insuplc": "320100"}


class Desk:
    """E2a's hospital: posts envelopes at a clock that moves one second per call."""

    def __init__(self, client, clock) -> None:  # noqa: ANN001
        paasid, secret = gateway_client_for("H33010600001")
        self.gw, self.clock = Gateway(client, clock, paasid, secret), clock
        self.sign_no = ""
        clock.set(dt.datetime(2026, 11, 27, 9, 0, tzinfo=SH))

    def __call__(self, infno: str, inp: dict, **kw) -> dict:  # noqa: ANN003
        self.clock.set(self.clock.at + dt.timedelta(seconds=1))
        body = envelope(infno, inp, at=self.clock.at, sign_no=self.sign_no, **{**HEAD, **kw})
        r = self.gw.post(body)
        assert r.status_code == 200
        return json.loads(r.content, parse_float=Decimal)


def line(sn: str, mdtrt: str, code: str, cnt: str, pric: str, amt: str, batch: str = "CB1") -> dict:
    return {
        "feedetl_sn": sn,
        "mdtrt_id": mdtrt,
        "psn_no": PSN,
        "chrg_bchno": batch,
        "fee_ocur_time": "2026-11-27 09:00:00",
        "med_list_codg": code,
        "det_item_fee_sumamt": amt,
        "cnt": cnt,
        "pric": pric,
    }


@pytest.mark.django_db
def test_outpatient_chain_with_undo_queries_and_sign_out(client, world):  # noqa: ANN001
    from settlement.models import Settlement

    desk = Desk(client, world)
    desk.sign_no = desk("9001", {"signIn": {"opter_no": "0201"}}, insuplc="")["output"]["signinoutb"][
        "sign_no"
    ]
    e = desk(
        "2201",
        {
            "data": {
                "psn_no": PSN,
                "insutype": "310",
                "begntime": "2026-11-27 09:00:00",
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": CERT,
                "ipt_otp_no": "MZ9",
            }
        },
    )
    mdtrt = e["output"]["data"]["mdtrt_id"]
    assert (
        desk(
            "2203",
            {
                "mdtrtinfo": {"mdtrt_id": mdtrt, "psn_no": PSN, "med_type": "11"},
                "diseinfo": [{"maindiag_flag": "1", "diag_code": "J06.900"}],
            },
        )["output"]
        == {}
    )
    assert (
        desk(
            "2204",
            {
                "feedetail": [
                    line("1", mdtrt, "XA01AAA001", "3", "15.80", "47.40"),
                    line("9", mdtrt, "XA01AAA001", "1", "1.00", "1.00", "CB9"),
                ]
            },
        )["infcode"]
        == 0
    )
    assert desk("2205", {"data": {"mdtrt_id": mdtrt, "psn_no": PSN, "chrg_bchno": "CB9"}})["output"] == {}
    assert (
        desk("2204", {"feedetail": line("2", mdtrt, "003101000010000", "1", "60.00", "60.00")})["infcode"]
        == 0
    )
    settle = {
        "mdtrt_id": mdtrt,
        "psn_no": PSN,
        "chrg_bchno": "CB1",
        "medfee_sumamt": "107.40",
        "insutype": "310",
    }
    e = desk("2206", {"data": settle})
    assert (e["output"]["setlinfo"]["setl_id"], str(e["output"]["setlinfo"]["hifp_pay"])) == ("", "31.78")
    assert (
        desk("2207", {"data": {**settle, "inscp_scp_amt": "95.41"}})["err_msg"]
        == "[amount_mismatch] inscp_scp_amt 与预结算结果不符"
    )
    assert Settlement.objects.count() == 0  # the band mismatch rolled the settlement back
    e = desk("2207", {"data": {**settle, "inscp_scp_amt": "95.40", "fulamt_ownpay_amt": 0}})
    setl_id = e["output"]["setlinfo"]["setl_id"]
    assert (str(e["output"]["setlinfo"]["psn_cash_pay"]), e["output"]["setlinfo"]["med_type"]) == (
        "75.62",
        "11",
    )
    assert Settlement.objects.get(setl_id=setl_id).dise_codg == "J06.900"
    q = {"data": {"setl_id": setl_id, "psn_no": PSN, "mdtrt_id": mdtrt}}
    assert str(desk("5203", q)["output"]["setlinfo"]["inscp_scp_amt"]) == "95.40"
    assert [x["feedetl_sn"] for x in desk("5204", q)["output"]] == ["1", "2"]
    assert (
        desk("2202", {"data": {"mdtrt_id": mdtrt, "psn_no": PSN}})["err_msg"]
        == "[lines_settled] 明细已结算，请先撤销结算"
    )
    e = desk("2208", {"data": {"setl_id": setl_id, "mdtrt_id": mdtrt, "psn_no": PSN}})
    assert str(e["output"]["setlinfo"]["medfee_sumamt"]) == "-107.40"
    assert (
        desk("2208", {"data": {"setl_id": setl_id, "mdtrt_id": mdtrt, "psn_no": PSN}})["err_msg"]
        == "[already_reversed] 该结算已撤销"
    )
    assert desk("2202", {"data": {"mdtrt_id": mdtrt, "psn_no": PSN}})["output"] == {}
    assert (
        desk("2204", {"feedetail": line("3", mdtrt, "XA01AAA001", "1", "1.00", "1.00")})["err_msg"]
        == "[visit_state] 就诊状态不允许此交易：cancelled"
    )
    assert (
        desk("9002", {"signOut": {"sign_no": desk.sign_no, "opter_no": "0201"}}, insuplc="")["infcode"] == 0
    )
    assert desk("5203", q)["err_msg"] == "[invalid_sign_no] 签到流水号无效"


def _zip(rows: list[list[str]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("detail.txt", "".join("\t".join(r) + "\n" for r in rows))
    return buf.getvalue()


@pytest.mark.django_db
def test_3202_file_flow(client, world):  # noqa: ANN001
    desk = Desk(client, world)
    e = desk(
        "2201",
        {
            "data": {
                "psn_no": PSN,
                "insutype": "310",
                "begntime": "2026-11-27 09:00:00",
                "med_type": "11",
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": CERT,
            }
        },
    )
    mdtrt = e["output"]["data"]["mdtrt_id"]
    desk("2204", {"feedetail": [line("1", mdtrt, "XA01AAA001", "3", "15.80", "47.40")]})
    setl_id = desk("2207", {"data": {"mdtrt_id": mdtrt, "psn_no": PSN}})["output"]["setlinfo"]["setl_id"]
    rows = [
        [setl_id, mdtrt, PSN, "47.40", "0.00", "0.00", "0"],
        ["20261127000000000000Sffffff", "", PSN, "1.00", "0.00", "0.00", "0"],
    ]
    e = desk("9101", {"fsUploadIn": {"filename": "detail.zip", "in": list(_zip(rows))}}, insuplc="")
    qury = e["output"]["file_qury_no"]
    period = {"setl_optins": "330100", "stmt_begndate": "2026-11-27", "stmt_enddate": "2026-11-27"}
    assert (
        desk("3202", {"data": {**period, "file_qury_no": qury, "medfee_sumamt": "48.41"}}, insuplc="")[
            "err_msg"
        ]
        == "[invalid] input.data.medfee_sumamt 与文件合计不符"
    )
    e = desk(
        "3202",
        {"data": {**period, "file_qury_no": qury, "medfee_sumamt": "48.40", "fixmedins_setl_cnt": 2}},
        insuplc="",
    )
    result = e["output"]["fileinfo"]["file_qury_no"]
    e = desk("9102", {"fsDownloadIn": {"file_qury_no": result}}, insuplc="")
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(e["output"]["file_data"]))) as z:
        lines = z.read("result.txt").decode().splitlines()
    got = [ln.split("\t")[2:7] for ln in lines[1:]]
    # E2a line 1 alone: 47.40, deductible left 50.00 → the fund pays nothing; we agree on the first
    assert got == [
        [setl_id, e_msgid(setl_id), "0", "0", ""],
        ["20261127000000000000Sffffff", "", "1", "0", "only_in_institution"],
    ]


def e_msgid(setl_id: str) -> str:
    from settlement.models import Settlement

    return Settlement.objects.get(setl_id=setl_id).medins_setl_id
