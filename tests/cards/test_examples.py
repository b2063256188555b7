"""Worked examples C1–C6 of spec/cards.md, with every figure and the signed bytes (test key, the
clock set to each event's time). One day D = 2026-11-27 driven in time order."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cards.models import Acceptor, Card, CardStatusChange, DenyListVersion
from cards.services.acceptances import acceptances_record
from cards.services.denylist import full_document, version_get
from cards.services.denylist_serving import delta_for
from cards.services.moves import card_replace, card_status_request
from cards.services.registry import card_ref_of
from cards.services.tick import deny_list_tick
from clearing.models import CycleHead, JournalEntry, JournalLeg, PrefundAccount, Statement
from clearing.services.close import cycle_close
from tests.cards.conftest import TEST_PUBLIC, T, desk, holder

pytestmark = pytest.mark.django_db
D = dt.date(2026, 11, 27)
SN = {
    "A34000001": "5f1c0e6a9b2d4c7e8a3b6d9f0c1e2a41",
    "A32000002": "0b7e2d41c9a34f6e8d1a5c3b7e9f2a62",
    "A34000003": "9c3a7e5b1d6f4e2a8b0c4d7e1f3a5b83",
    "A33000004": "2e6b9d3f7a1c4e8b0d5f2a6c9e3b7d14",
    "A31000005": "7a4c1e8b3d6f9a2c5e0b7d4f1a8c3e65",
    "A34000006": "4d8f2b6e0a3c7e1b9d5f3a8c2e6b0d96",
    "A32000007": "8b1d5f9a3c7e2b6d0f4a8c1e5b9d3f27",
    "A31000008": "310000D1560000051A2B3C4D5E6F7081",
    "A33000104": "330100D1560000050A1B2C3D4E5F6071",
}
DELTA_4341 = (
    '{"base_version":4340,"entries":[{"card_ref":"4d2eb2e4a92730f954ab7f2c508089680afd35bbf49b60a8b8db4755'
    '25efe895","op":"add","reason":"temp_lost","since":"2026-11-27T00:15:05Z"}],"entry_cnt":1,"expires_at":'
    '"2026-11-28T00:15:05Z","issued_at":"2026-11-27T00:15:05Z","list":"deny","list_sha256":"1af384ecdf09cc80'
    '7e7c1ddf60a597c93241c34bfac5800df3f4b6bd6850167d","scheme":"card","type":"delta","version":4341}'
)
FULL_4346 = (
    '{"entries":[{"card_ref":"48449746d47252076a4b03e4a471b57cd72e8df65ad710d751e5946b4411e05f","reason":'
    '"temp_lost","since":"2026-11-26T01:20:00Z"},{"card_ref":"4d2eb2e4a92730f954ab7f2c508089680afd35bbf49b60'
    'a8b8db475525efe895","reason":"temp_lost","since":"2026-11-27T00:15:05Z"},{"card_ref":"a1dcb3a9abcc5997f4'
    '9f6db04d5e0bfa232c7e6c6791bed10b49003f95223819","reason":"cancelled","since":"2026-11-27T04:10:00Z"}],'
    '"entry_cnt":3,"expires_at":"2026-11-28T04:10:00Z","issued_at":"2026-11-27T04:10:00Z","list":"deny",'
    '"list_sha256":"5697c7470cf2b9e5112b95b1bd657d973bd9494f6f2de9320910b4290cb8d6dc","scheme":"card",'
    '"type":"full","version":4346}'
)
CARD_HEAD = (
    '{"closed_at":"2026-11-27T16:30:00Z","clr_date":"2026-11-27","gross":"65.50","item_cnt":7,"merkle_root":'
    '"6a11ca58320e4a8928f03c5d6f9752963a7ee2874fb2be83d3c807ced65273f8","net_funding":"54.50","net_positions":'
    '{"310000":"10.00","320000":"-3.00","330000":"44.50","340000":"-51.50"},"netting_efficiency":"0.1679",'
    '"prev_head_sha256":"0000000000000000000000000000000000000000000000000000000000000000","scheme":"card",'
    '"tree_size":8}'
)


def tap(card, acceptor, svc, used, mode, version, list_amt, amt, pay_src, serial):  # noqa: ANN001, ANN201
    return {
        "acpt_serial": serial,
        "card_no": card,
        "card_sn": SN[card],
        "svc_type": svc,
        "used_at": used,
        "mode": mode,
        "list_version": version,
        "list_amt": list_amt,
        "amt": amt,
        "pay_src": pay_src,
    }


def upload(clock, acceptor: str, record: dict):  # noqa: ANN001, ANN201
    (res,) = acceptances_record(
        acceptor=Acceptor.objects.get(acceptor_code=acceptor), records=[record], now=clock()
    )
    return res


def ticks(clock, start: dt.datetime, end: dt.datetime) -> None:  # noqa: ANN001
    """The minute job at every full hour in [start, end]."""
    at = start
    while at <= end:
        clock.set(at)
        deny_list_tick(now=at)
        at += dt.timedelta(hours=1)


def _sig_ok(data: bytes, sig: bytes) -> bool:
    Ed25519PublicKey.from_public_bytes(bytes.fromhex(TEST_PUBLIC)).verify(sig, data)
    return True


def test_worked_examples_c1_to_c6(card_examples, clock):  # noqa: ANN001, PLR0915
    DenyListVersion.objects.all().delete()
    DenyListVersion.objects.create(
        version=4301,
        issued_at=T("2026-11-25T18:00:00"),
        cause="heartbeat",
        heartbeat_hour=T("2026-11-25T18:00:00"),
    )
    ticks(clock, T("2026-11-25T19:00:00"), T("2026-11-26T09:00:00"))
    assert version_get(4316).issued_at == T("2026-11-26T09:00:00")
    clock.set("2026-11-26T09:20:00")  # 示例庚 reports a temporary loss → 4317
    res = card_status_request(
        principal=holder("32050819930707042X"),
        card_no="A32000007",
        to="temp_lost",
        reason="cardholder",
        reference="geng-1",
        certno=None,
        card_sn=None,
    )
    assert res.list_version == 4317
    ticks(clock, T("2026-11-26T10:00:00"), T("2026-11-27T07:00:00"))
    # C1 ─ 07:58:12 online tap, then a temporary loss, then the same gate refuses
    clock.set("2026-11-27T07:58:12")
    r = upload(
        clock,
        "T31000000001",
        tap(
            "A34000001",
            "",
            "transit_fare",
            "2026-11-27T07:58:12+08:00",
            "online",
            None,
            "4.00",
            "4.00",
            "epurse",
            "SHM-G0412-88120001",
        ),
    )
    assert (r.status, r.acceptance.acpt_id, r.acceptance.payer, r.acceptance.payee) == (
        201,
        "CA20261127000001",
        "340000",
        "310000",
    )
    ticks(clock, T("2026-11-27T08:00:00"), T("2026-11-27T08:00:00"))
    assert DenyListVersion.objects.order_by("-version").first().version == 4340
    clock.set("2026-11-27T08:15:05")
    res = card_status_request(
        principal=holder("340104198001011234"),
        card_no="A34000001",
        to="temp_lost",
        reason="cardholder",
        reference="jia-1",
        certno=None,
        card_sn=None,
    )
    assert res.list_version == 4341
    assert res.card.temp_loss_expires_at == T("2026-12-04T08:15:05")
    clock.set("2026-11-27T08:15:40")
    r = upload(
        clock,
        "T31000000001",
        tap(
            "A34000001",
            "",
            "transit_fare",
            "2026-11-27T08:15:40+08:00",
            "online",
            None,
            "4.00",
            "4.00",
            "epurse",
            "SHM-G0412-88120057",
        ),
    )
    assert (r.status, r.error.code) == (422, "card_denied")
    assert r.error.extra == {"listed_since": "2026-11-27T08:15:05+08:00", "list_version": 4341}
    clock.set("2026-11-27T08:15:45")
    delta = delta_for(4340, now=clock())
    assert bytes(delta.canonical).decode() == DELTA_4341 and len(bytes(delta.canonical)) == 402
    assert hashlib.sha256(bytes(delta.canonical)).hexdigest() == (
        "4628cb248d01a811b09aab8ad6641f614d48f1afbf923986348268d5f3f60ff5"
    )
    assert base64.b64encode(bytes(delta.signature)).decode() == (
        "8sS63yi+G7r/WI5bdxOkLZj13/k38fvaxCvC7Mk2Pu73I6pXQSxEvyYIJk3vrY4wMt8+ZxeppW7pcRIOtrhABg=="
    )
    ticks(clock, T("2026-11-27T09:00:00"), T("2026-11-27T09:00:00"))
    clock.set("2026-11-27T09:30:00")
    r = upload(
        clock,
        "T31000000001",
        tap(
            "A32000002",
            "",
            "transit_fare",
            "2026-11-27T09:30:00+08:00",
            "online",
            None,
            "5.00",
            "5.00",
            "epurse",
            "SHM-G0107-88120311",
        ),
    )
    assert r.acceptance.acpt_id == "CA20261127000002"
    ticks(clock, T("2026-11-27T10:00:00"), T("2026-11-27T10:00:00"))
    # C2 ─ offline tap of 11-25, uploaded on D, listed only after the use
    clock.set("2026-11-27T10:05:00")
    c2 = tap(
        "A32000007",
        "",
        "transit_fare",
        "2026-11-25T18:42:10+08:00",
        "offline",
        4301,
        "2.00",
        "2.00",
        "epurse",
        "HZB-0007-000123",
    )
    r = upload(clock, "T33010000001", c2)
    a = r.acceptance
    assert (r.status, a.acpt_id, a.late_listing, a.clr_date, a.payer, a.payee, a.amt) == (
        201,
        "CA20261127000003",
        False,
        D,
        "320000",
        "330000",
        Decimal("2.00"),
    )
    # C4 ─ the same body again → duplicate; other content under the serial → conflict
    clock.set("2026-11-27T10:05:30")
    r = upload(clock, "T33010000001", c2)
    assert (r.status, r.duplicate, r.acceptance.acpt_id) == (200, True, "CA20261127000003")
    r = upload(clock, "T33010000001", dict(c2, list_amt="3.00", amt="3.00"))
    assert (r.status, r.error.code) == (409, "acpt_serial_conflict")
    # C3 ─ same-city elderly benefits in Jiaxing for a Shanghai and an Anhui card
    clock.set("2026-11-27T10:30:00")
    c3 = tap(
        "A31000008",
        "",
        "admission",
        "2026-11-27T10:30:00+08:00",
        "online",
        None,
        "95.00",
        "95.00",
        "fin_acct",
        "JXS-01-20261127-0311",
    )
    r = upload(clock, "S33042100001", c3)
    assert (r.status, r.error.code, r.error.extra["expected_amt"]) == (422, "benefit_mismatch", "0.00")
    clock.set("2026-11-27T10:30:20")
    r = upload(clock, "S33042100001", dict(c3, amt="0.00", pay_src="none"))
    a = r.acceptance
    assert (r.status, a.acpt_id, a.benefit_code, f"{a.pay_prop:.4f}", a.cleared) == (
        201,
        "CA20261127000004",
        "elder_70_free",
        "0.0000",
        False,
    )
    clock.set("2026-11-27T10:45:00")
    r = upload(
        clock,
        "S33042100001",
        tap(
            "A34000006",
            "",
            "admission",
            "2026-11-27T10:45:00+08:00",
            "online",
            None,
            "95.00",
            "47.50",
            "fin_acct",
            "JXS-01-20261127-0342",
        ),
    )
    a = r.acceptance
    assert (a.acpt_id, a.benefit_code, a.amt, a.payer, a.payee) == (
        "CA20261127000005",
        "elder_60_half",
        Decimal("47.50"),
        "340000",
        "330000",
    )
    ticks(clock, T("2026-11-27T11:00:00"), T("2026-11-27T12:00:00"))
    # C5 ─ replacement at a Shanghai desk
    clock.set("2026-11-27T12:10:00")
    rep, created = card_replace(
        principal=desk("310000"),
        card_no="A33000004",
        data={
            "new_card_no": "A33000104",
            "new_card_sn": SN["A33000104"],
            "reason": "lost",
            "reference": "SH-DESK-1",
            "certno": "330106196808307898",
        },
    )
    assert created and rep.list_version == 4346
    old, new = Card.objects.get(pk=rep.old_card_id), Card.objects.get(pk=rep.new_card_id)
    assert (old.card_stas, new.card_stas, new.issuer_admdvs, rep.handled_admdvs, new.card_gen) == (
        "cancelled",
        "active",
        "330100",
        "310000",
        "3",
    )
    assert list(
        CardStatusChange.objects.filter(card=old).order_by("id").values_list("to_stas", flat=True)
    ) == ["active", "lost", "cancelled"]
    assert new.valid_until == dt.date(2036, 11, 26)
    full = full_document(version_get(4346))
    assert bytes(full.canonical).decode() == FULL_4346
    assert hashlib.sha256(bytes(full.canonical)).hexdigest() == (
        "dc5827fd896a052854e1d41016dbc99498236d959962bc1ae417fb4e09639d6f"
    )
    assert base64.b64encode(bytes(full.signature)).decode() == (
        "dnsXIqoFnpYqVYgIoWxaZJrraOKJvIRCIck5bLEJnBj0LiTVOf8wKLY6ujz7prma00mR7lBu22XsqYxv+WV6CA=="
    )
    clock.set("2026-11-27T12:30:00")
    d = json.loads(bytes(delta_for(4340, now=clock()).canonical))
    assert [(e["card_ref"][:8], e["op"]) for e in d["entries"]] == [("4d2eb2e4", "add"), ("a1dcb3a9", "add")]
    assert d["list_sha256"] == "5697c7470cf2b9e5112b95b1bd657d973bd9494f6f2de9320910b4290cb8d6dc"
    ticks(clock, T("2026-11-27T13:00:00"), T("2026-11-27T13:00:00"))
    assert version_get(4347).cause == "heartbeat"
    clock.set("2026-11-27T13:05:00")
    r = upload(
        clock,
        "T32010000001",
        tap(
            "A33000004",
            "",
            "transit_fare",
            "2026-11-27T12:40:00+08:00",
            "offline",
            4345,
            "2.00",
            "2.00",
            "epurse",
            "NJB-1102-004417",
        ),
    )
    a = r.acceptance
    assert (a.acpt_id, a.late_listing, a.payer, a.payee) == ("CA20261127000006", True, "330000", "320000")
    # C6's other records, in commit order
    later = [
        (
            "14:00:00",
            "L34010000001",
            tap(
                "A34000003",
                "",
                "loan",
                "2026-11-27T14:00:00+08:00",
                "online",
                None,
                "0.00",
                "0.00",
                "none",
                "HFL-20261127-0088",
            ),
        ),
        (
            "15:10:00",
            "M32050000001",
            tap(
                "A31000005",
                "",
                "admission",
                "2026-11-27T15:10:00+08:00",
                "online",
                None,
                "0.00",
                "0.00",
                "none",
                "SZM-20261127-1203",
            ),
        ),
        (
            "16:20:00",
            "T32010000001",
            tap(
                "A31000005",
                "",
                "transit_fare",
                "2026-11-27T16:20:00+08:00",
                "online",
                None,
                "2.00",
                "2.00",
                "epurse",
                "NJB-0415-004590",
            ),
        ),
        (
            "17:50:00",
            "T32010000001",
            tap(
                "A32000002",
                "",
                "transit_fare",
                "2026-11-27T17:50:00+08:00",
                "online",
                None,
                "2.00",
                "2.00",
                "epurse",
                "NJB-0233-004702",
            ),
        ),
        (
            "18:30:00",
            "T31000000001",
            tap(
                "A33000104",
                "",
                "transit_fare",
                "2026-11-27T18:30:00+08:00",
                "online",
                None,
                "3.00",
                "3.00",
                "epurse",
                "SHM-G0301-88124410",
            ),
        ),
    ]
    for i, (at, acceptor, record) in enumerate(later, start=7):
        clock.set(f"2026-11-27T{at}")
        r = upload(clock, acceptor, record)
        assert (r.status, r.acceptance.acpt_id) == (201, f"CA20261127{i:06d}")
    clock.set("2026-11-27T21:40:00")
    r = upload(
        clock,
        "T33010000001",
        tap(
            "A33000004",
            "",
            "transit_fare",
            "2026-11-27T19:10:00+08:00",
            "offline",
            4346,
            "2.00",
            "2.00",
            "epurse",
            "HZB-0019-000871",
        ),
    )
    assert (r.status, r.error.code) == (422, "card_denied")
    clock.set("2026-11-27T21:45:00")
    r = upload(
        clock,
        "T32010000001",
        tap(
            "A33000004",
            "",
            "transit_fare",
            "2026-11-27T20:05:00+08:00",
            "offline",
            4320,
            "2.00",
            "2.00",
            "epurse",
            "NJB-2210-000032",
        ),
    )
    assert (r.status, r.error.code) == (422, "stale_deny_list")
    # C6 ─ the card close at 00:30, kept apart from the medical day
    clock.set("2026-11-28T00:30:00")
    cycle = cycle_close(clr_date=D, actor="t", scheme="card")
    head = CycleHead.objects.get(cycle=cycle)
    assert bytes(head.canonical).decode() == CARD_HEAD
    assert head.sha256 == "1bcfecaae47dc00e622ae292c577b718ece79d7a183eff155fd63ef9673af138"
    assert _sig_ok(bytes(head.canonical), bytes(head.signature))
    statements = {s.admdvs: json.loads(bytes(s.canonical)) for s in Statement.objects.filter(cycle=cycle)}
    assert {a: (s["receivable"], s["payable"], s["item_cnt"]) for a, s in statements.items()} == {
        "310000": ("12.00", "2.00", 4),
        "320000": ("4.00", "7.00", 4),
        "330000": ("49.50", "5.00", 4),
        "340000": ("0.00", "51.50", 2),
    }
    remit = {
        r["acceptor_code"]: (r["amount"], r["cnt"])
        for s in statements.values()
        for r in s["acceptor_remittance"]
    }
    assert remit == {
        "T31000000001": ("12.00", 3),
        "T32010000001": ("4.00", 2),
        "T33010000001": ("2.00", 1),
        "S33042100001": ("47.50", 1),
    }
    assert statements["320000"]["intra_province_remittance"] == [
        {"acceptor_code": "T32010000001", "amount": "2.00", "cnt": 1}
    ]
    assert statements["320000"]["intra_province"] == {"cnt": 1, "amount": "2.00"}
    assert statements["330000"]["benefit_waived"] == [
        {"counterparty": "310000", "cnt": 1, "amount": "95.00"},
        {"counterparty": "340000", "cnt": 1, "amount": "47.50"},
    ]
    assert statements["330000"]["settlement_agent"] == "浙江示例社保卡合作银行"
    assert statements["340000"]["prefund"]["alerts"] == [
        {"kind": "low_prefund", "balance": "28.50", "threshold": "30.00"}
    ]
    for s in Statement.objects.filter(cycle=cycle):
        assert _sig_ok(bytes(s.canonical), bytes(s.signature))
    balances = dict(PrefundAccount.objects.filter(scheme="card").values_list("admdvs", "balance"))
    assert balances == {
        "310000": Decimal("210.00"),
        "320000": Decimal("197.00"),
        "330000": Decimal("244.50"),
        "340000": Decimal("28.50"),
    }
    entry = JournalEntry.objects.get(reference=f"card-cycle:{D}")
    assert entry.scheme == "card" and set(
        JournalLeg.objects.filter(entry=entry).values_list("account", flat=True)
    ) == {"card:310000", "card:320000", "card:330000", "card:340000"}
    # C1's loss lapses exactly at temp_loss_expires_at whenever the job runs
    clock.set("2026-12-04T08:16:00")
    result = deny_list_tick(now=clock())
    assert result.lapsed == 2  # 示例庚's (12-03 09:20) and 示例甲's (12-04 08:15:05)
    lapse = CardStatusChange.objects.filter(
        card__card_ref=card_ref_of(SN["A34000001"]), to_stas="active"
    ).last()
    assert lapse.at == T("2026-12-04T08:15:05") and lapse.list_version == result.lapse_version
    d = json.loads(bytes(delta_for(result.lapse_version - 1, now=clock()).canonical))
    assert {"card_ref": card_ref_of(SN["A34000001"]), "op": "remove"} in d["entries"]
