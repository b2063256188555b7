"""Transport failures (non-200 with an envelope), envelope refusals (200, infcode -1) and the
msgid rules of spec/nhsa-gateway.md §2, §3.1, §3.2, §3.4."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.test import override_settings

from tests.gateway.conftest import PAASID, SECRET, SH, Gateway, envelope, stamp, tif_headers
from tests.gateway.test_worked_examples import send

SIGN_IN = {"signIn": {"opter_no": "0101"}}


def t0() -> dt.datetime:
    return dt.datetime(2026, 11, 20, 8, 0, 0, 500000, tzinfo=SH)


def env_of(r) -> dict:  # noqa: ANN001
    return json.loads(r.content, parse_float=Decimal)


def assert_transport(r, status: int, err_msg: str) -> None:  # noqa: ANN001
    e = env_of(r)
    assert (r.status_code, e["infcode"], e["err_msg"], e["inf_refmsgid"], e["output"]) == (
        status,
        -1,
        err_msg,
        "",
        None,
    )
    assert r["Content-Type"] == "application/json; charset=UTF-8"


@pytest.mark.django_db
def test_transport_failures_answer_non_200_with_an_envelope(gw, client):  # noqa: ANN001
    from accounts.models import Institution, InstitutionClient
    from core.crypto import encrypt

    gw.clock.set(t0())
    body = envelope("9001", SIGN_IN, at=t0(), insuplc="")
    ts = str(int(t0().timestamp()))
    assert_transport(
        gw.post(body, headers=tif_headers(PAASID, SECRET + "x", ts)), 401, "[bad_signature] 签名校验失败"
    )
    assert_transport(gw.post(body, headers={"x-other": "1"}), 401, "[bad_signature] 签名校验失败")
    assert_transport(
        gw.post(body, headers=tif_headers(PAASID, SECRET, str(int(ts) - 301))),
        401,
        "[stale_timestamp] 时间戳超出允许范围",
    )
    InstitutionClient.objects.create(
        client_id="plain",
        institution=Institution.objects.get(fixmedins_code="H31010400001"),
        secret_enc=encrypt("s" * 43),
    )
    assert_transport(
        gw.post(body, headers=tif_headers("plain", "s" * 43, ts)), 401, "[unknown_client] 未注册的应用账户"
    )
    assert_transport(
        gw.post(body, content_type="application/xml"), 415, "[unsupported_media_type] 不支持的内容类型"
    )
    assert_transport(
        gw.post(body, content_type="application/json; charset=gbk"),
        415,
        "[unsupported_media_type] 不支持的内容类型",
    )
    with override_settings(MAX_BODY_BYTES=100):
        assert_transport(gw.post(body), 413, "[body_too_large] 报文超长")
    r = client.get("/fsi/api/rsfComIfsService/callService")
    assert r.status_code == 405 and env_of(r)["infcode"] == -1
    h = tif_headers(PAASID, SECRET, ts)
    h["x-tif-signature"] = h["x-tif-signature"].upper()  # some clients upper-case it
    r = gw.post(body, headers=h, content_type="text/plain")
    assert (r.status_code, env_of(r)["infcode"]) == (200, 0)
    assert_transport(
        gw.post(envelope("9001", SIGN_IN, at=t0(), seq=2, insuplc=""), headers=h),
        401,
        "[replayed_nonce] 随机数重复",
    )
    InstitutionClient.objects.filter(client_id=PAASID).update(revoked_at=t0())
    assert_transport(gw.post(body), 401, "[revoked_client] 应用账户已停用")


@pytest.mark.django_db
def test_envelope_refusals_are_200_with_fixed_texts(gw):  # noqa: ANN001
    gw.clock.set(t0())

    def refused(body: dict | bytes, **kw) -> str:  # noqa: ANN003
        r = gw.post(body, **kw)
        e = env_of(r)
        assert (r.status_code, e["infcode"], e["inf_refmsgid"], e["output"]) == (200, -1, "", None)
        return e["err_msg"]

    ok = envelope("9001", SIGN_IN, at=t0(), insuplc="")
    assert refused(b"{not json") == "[invalid] body JSON 格式错误"
    assert refused(b"\xff\xfe") == "[invalid] body 不是有效的UTF-8编码"
    assert refused({**ok, "infno": "2403"}) == "[unsupported_infno] 不支持住院信息变更，请入院撤销后重新办理"
    assert refused({**ok, "infno": "2502"}) == "[unsupported_infno] 备案由参保地经办机构办理"
    assert refused({**ok, "infno": "4101"}) == "[unsupported_infno] 不支持的交易编号：4101"
    assert refused({**ok, "msgid": "H31010400001202611200800001"}) == "[invalid_msgid] 报文ID格式错误"
    assert (
        refused({**ok, "msgid": "H31010400001202611200806000001"}) == "[invalid_msgid] 报文ID格式错误"
    )  # 6 min ahead
    assert refused({**ok, "mdtrtarea_admvs": "320100"}) == "[admdvs_mismatch] 就医地医保区划与机构不符"
    assert (
        refused({**ok, "fixmedins_code": "H32010200001", "msgid": "H32010200001202611200800000001"})
        == "[fixmedins_mismatch] 机构编号与应用账户不符"
    )
    assert refused({**ok, "enc_type": "SM4"}) == "[unsupported_encryption] 不支持加密报文"
    assert refused({**ok, "input": "[1]"}) == "[invalid] input 格式错误"
    assert refused({**ok, "opter_type": "9"}) == "[invalid] opter_type 取值错误"
    assert refused({**ok, "sign_no": "20261120000000000000Qffffff"}) == "[invalid_sign_no] 签到流水号无效"
    assert (
        refused(ok, path="/fsi/api/rsfComIfsService/callService/1101")
        == "[invalid] infno 与请求路径中的交易编号不符"
    )
    # a refused request registered nothing: the same msgid is judged afresh and accepted;
    # input may be a JSON string, and the path may carry the infno
    r = gw.post({**ok, "input": json.dumps(SIGN_IN)}, path="/fsi/api/rsfComIfsService/callService/9001")
    assert env_of(r)["infcode"] == 0
    assert (
        refused({**ok, "input": {"signIn": {"opter_no": "0102"}}})
        == "[msgid_conflict] 报文ID重复：原交易 9001"
    )
    assert refused({**ok, "infno": "1101"}) == "[msgid_conflict] 报文ID重复：原交易 9001"


@pytest.mark.django_db
def test_exact_decimals_and_line_refusals(gw):  # noqa: ANN001
    for step in ("G1.1", "G1.2", "G1.3"):
        send(gw, step)
    sign_no, mdtrt = "20261120000000000000Q3f9a1c", "20261120010000412000M7c41d2"
    now = stamp("20261127095000318")
    gw.clock.set(now)

    def line(**kw) -> dict:  # noqa: ANN003
        return {
            "feedetl_sn": "1",
            "mdtrt_id": mdtrt,
            "psn_no": "34010000000000000001",
            "fee_ocur_time": "2026-11-21 08:00:00",
            "med_list_codg": "XA01AAA001",
            "det_item_fee_sumamt": "125.00",
            "cnt": "10",
            "pric": "12.50",
            **kw,
        }

    def upload(seq: int, *lines: dict) -> dict:
        return env_of(gw.post(envelope("2301", {"feedetail": list(lines)}, at=now, seq=seq, sign_no=sign_no)))

    assert upload(1, line(pric="12.5000001"))["err_msg"] == "[invalid] input.feedetail[0].pric 小数位数超限"
    assert (
        upload(2, line(det_item_fee_sumamt=125.001))["err_msg"]
        == "[invalid] input.feedetail[0].det_item_fee_sumamt 小数位数超限"
    )
    assert (
        upload(3, line(det_item_fee_sumamt="125.10"))["err_msg"]
        == "[amount_mismatch] 明细 1 金额不等于数量×单价"
    )
    assert upload(4, line(cnt="-1"))["err_msg"] == "[invalid] input.feedetail[0].cnt 不能为负数"
    assert (
        upload(5, line(fee_ocur_time="2026-11-28T08:00:00"))["err_msg"]
        == "[invalid] input.feedetail[0].fee_ocur_time 不能晚于当前时间"
    )
    assert (
        upload(6, line(mdtrt_id="20261120010000412000Mffffff"))["err_msg"] == "[unknown_visit] 就诊ID不存在"
    )
    # numbers as JSON numbers, times with T, fraction and offset: accepted exactly
    e = upload(
        7,
        line(
            det_item_fee_sumamt=125.00, cnt=10, pric=12.5, fee_ocur_time="2026-11-21T08:00:00.1234567+08:00"
        ),
    )
    assert e["infcode"] == 0 and e["output"]["result"][0]["inscp_scp_amt"] == 125.0
    assert upload(8, line())["err_msg"] == "[invalid] input.feedetail[0].feedetl_sn 明细流水号重复"
    r = gw.post(
        envelope(
            "2304",
            {
                "mdtrtinfo": {
                    "mdtrt_id": mdtrt,
                    "psn_no": "34010000000000000001",
                    "medfee_sumamt": "125.00",
                    "mid_setl_flag": "1",
                }
            },
            at=now,
            seq=9,
            sign_no=sign_no,
        )
    )
    assert env_of(r)["err_msg"] == "[unsupported_mid_setl] 不支持中途结算"
    r = gw.post(
        envelope(
            "2304",
            {"mdtrtinfo": {"mdtrt_id": mdtrt, "psn_no": "34010000000000000001", "medfee_sumamt": "125.00"}},
            at=now,
            seq=10,
            sign_no=sign_no,
        )
    )
    assert env_of(r)["err_msg"] == "[visit_state] 就诊状态不允许此交易：open"
    r = gw.post(
        envelope(
            "2303",
            {"mdtrtinfo": {"mdtrt_id": mdtrt, "psn_no": "34010000000000000001", "medfee_sumamt": "125.01"}},
            at=now,
            seq=11,
            sign_no=sign_no,
        )
    )
    assert env_of(r)["err_msg"] == "[amount_mismatch] 医疗费总额与已上传明细合计不符"
    r = gw.post(
        envelope(
            "2207",
            {"data": {"mdtrt_id": mdtrt, "psn_no": "34010000000000000001"}},
            at=now,
            seq=12,
            sign_no=sign_no,
        )
    )
    assert env_of(r)["err_msg"] == "[unknown_visit] 就诊ID不存在"  # an inpatient visit is not served by 22xx


@pytest.mark.django_db
def test_tombstone_then_late_original_is_refused(gw):  # noqa: ANN001
    from settlement.models import Settlement

    for step in ("G1.1", "G1.2", "G1.3", "G1.4", "G1.5", "G1.6"):
        send(gw, step)
    gw.clock.set(stamp("20261127100003000"))
    e = env_of(
        gw.post(
            envelope(
                "2601",
                {
                    "data": {
                        "psn_no": "34010000000000000001",
                        "omsgid": "H31010400001202611271000030001",
                        "oinfno": "2304",
                    }
                },
                at=gw.clock.at,
                seq=9,
                sign_no="20261120000000000000Q3f9a1c",
            )
        )
    )
    assert (e["infcode"], e["output"]["result"]["found"]) == (0, False)
    r, _ = send(gw, "G1.7")
    assert env_of(r)["err_msg"] == "[msgid_reversed] 该报文已被冲正"
    assert Settlement.objects.count() == 0


@pytest.mark.django_db
def test_new_msgid_for_a_settled_visit_and_2208_reopens_it(gw):  # noqa: ANN001
    from settlement.models import Settlement

    for step in ("G1.1", "G1.2", "G1.3", "G1.4", "G1.5", "G1.6", "G1.7"):
        send(gw, step)
    sign_no, mdtrt = "20261120000000000000Q3f9a1c", "20261120010000412000M7c41d2"
    now = stamp("20261127110000000")
    gw.clock.set(now)
    body = json.loads(worked_examples_request("G1.7"))
    e = env_of(gw.post({**body, "msgid": "H31010400001202611271100000001"}))
    assert e["err_msg"] == "[already_settled] 该就诊已结算，结算ID：20261127020003512000S5e8b90"
    e = env_of(
        gw.post(
            envelope(
                "2305",
                {
                    "data": {
                        "setl_id": "20261127020003512000S5e8b90",
                        "mdtrt_id": mdtrt,
                        "psn_no": "34010000000000000001",
                    }
                },
                at=now,
                seq=2,
                sign_no=sign_no,
            )
        )
    )
    assert e["infcode"] == 0, e
    info = e["output"]["setlinfo"]
    assert (str(info["medfee_sumamt"]), str(info["hifp_pay"]), str(info["balc"])) == (
        "-4160.52",
        "-1993.22",
        "500.00",
    )
    e = env_of(gw.post({**body, "msgid": "H31010400001202611271100000003"}))
    assert e["infcode"] == 0, e  # settled again with a new msgid after the reversal
    assert Settlement.objects.filter(status="settled").count() == 1 and Settlement.objects.count() == 3
    assert list(Settlement.objects.filter(status="reversal").values_list("reversal_kind", flat=True)) == [
        "reversal"
    ]


def worked_examples_request(step: str) -> str:
    from tests.gateway.conftest import worked_examples

    return worked_examples()[step]["request"]


@pytest.mark.django_db
def test_institution_binding(client, world):  # noqa: ANN001
    from tests.gateway.conftest import gateway_client_for

    paasid, secret = gateway_client_for("H32010200001")
    gw2 = Gateway(client, world, paasid, secret)
    world.set(t0())
    e = env_of(gw2.post(envelope("9001", SIGN_IN, at=t0(), insuplc="", area="320100")))
    assert e["err_msg"] == "[fixmedins_mismatch] 机构编号与应用账户不符"  # another institution's envelope
    e = env_of(
        gw2.post(
            {
                **envelope("9001", SIGN_IN, at=t0(), insuplc="", area="320100", code="H32010200001"),
                "msgid": "H31010400001202611200800000001",
            }
        )
    )
    assert e["err_msg"] == "[invalid_msgid] 报文ID格式错误"  # msgid must start with fixmedins_code


@pytest.mark.django_db
def test_create_client_gateway_access_is_opt_in(world):  # noqa: ANN001
    import io

    from django.core.management import call_command

    from accounts.models import InstitutionClient

    flags = []
    for extra in ([], ["--gateway"]):
        out = io.StringIO()
        call_command("create_client", "H31010400001", *extra, stdout=out)
        cid = json.loads(out.getvalue().strip().splitlines()[-1])["client_id"]
        flags.append(InstitutionClient.objects.get(client_id=cid).gateway_enabled)
    assert flags == [False, True]


@pytest.mark.django_db
def test_body_signature_when_the_client_requires_it(gw):  # noqa: ANN001
    from accounts.models import InstitutionClient
    from tests.signing import SignedClient

    InstitutionClient.objects.filter(client_id=PAASID).update(require_body_signature=True)
    gw.clock.set(t0())
    raw = json.dumps(envelope("9001", SIGN_IN, at=t0(), insuplc=""), ensure_ascii=False).encode()
    ts = str(int(t0().timestamp()))
    path = "/fsi/api/rsfComIfsService/callService"
    assert_transport(gw.post(raw), 401, "[bad_signature] 签名校验失败")
    body_sig = SignedClient(PAASID, SECRET).headers("POST", path, raw)
    tampered = raw.replace(b'"0101"', b'"0102"', 1)
    assert_transport(
        gw.post(tampered, headers={**tif_headers(PAASID, SECRET, ts), **body_sig}),
        401,
        "[bad_signature] 签名校验失败",
    )
    r = gw.post(raw, headers={**tif_headers(PAASID, SECRET, ts), **body_sig})
    assert (r.status_code, env_of(r)["infcode"]) == (200, 0)
