"""The set-based acceptance batch path (issue 13 speed work, docs/performance.md §Cards): the same
answers, fingerprints, leaves and exactly-once as the record-at-a-time rules of spec/cards.md."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

import pytest

from cards.apis.acceptances import result_body
from cards.models import Acceptance, AcceptanceRefusal, Acceptor, CardStatus, DenyListVersion
from cards.presenters import acceptance_body
from cards.requests import parse_acceptance
from cards.services import acceptances as service
from cards.services.acceptances import acceptances_record
from cards.services.judge import CardFacts, Move, Snapshot, judge
from clearing.leaf import card_leaf_bytes, card_leaf_hash, leaf_hash
from clearing.models import ClearingItem
from core.errors import DomainError
from tests.cards.conftest import T

SN = {"A34000001": "5f1c0e6a9b2d4c7e8a3b6d9f0c1e2a41", "A32000002": "0b7e2d41c9a34f6e8d1a5c3b7e9f2a62"}


def tap(serial: str, card: str = "A34000001", **kw: object) -> dict:
    return {
        "acpt_serial": serial,
        "card_no": card,
        "card_sn": SN[card],
        "svc_type": "transit_fare",
        "used_at": "2026-11-27T07:58:12+08:00",
        "mode": "online",
        "list_amt": "4.00",
        "amt": "4.00",
        "pay_src": "epurse",
    } | kw


def old_fingerprint(req) -> str:  # noqa: ANN001
    """The formula every stored fingerprint was made with (json.dumps of the normalised fields)."""
    d = {
        "acpt_serial": req.acpt_serial,
        "card_no": req.card_no,
        "card_sn": req.card_sn,
        "svc_type": req.svc_type,
        "used_at": req.used_at.astimezone(dt.UTC).isoformat(),
        "mode": req.mode,
        "list_version": req.list_version,
        "list_amt": f"{req.list_amt:.2f}",
        "amt": f"{req.amt:.2f}",
        "pay_src": req.pay_src,
    }
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()


@pytest.mark.parametrize(
    "record",
    [
        tap("HZB-0007-000123"),
        tap("a_b-C", card="A32000002", card_sn=SN["A32000002"].upper(), used_at="2026-11-27T07:58:12"),
        tap("X1", mode="offline", list_version=4301, list_amt="012.50", amt="0.00", pay_src="none"),
        tap("X2", svc_type="admission", pay_src="fin_acct", used_at="2026-11-26T23:58:12Z"),
    ],
)
def test_fingerprint_is_the_text_stored_fingerprints_were_made_of(record: dict) -> None:
    req = parse_acceptance(record, now=T("2026-11-27T10:00:00"))
    assert req.fingerprint == old_fingerprint(req)


def test_fingerprint_of_c2_is_fixed() -> None:
    req = parse_acceptance(
        tap(
            "HZB-0007-000123",
            card="A32000002",
            mode="offline",
            list_version=4301,
            list_amt="2.00",
            amt="2.00",
        ),
        now=T("2026-11-27T10:05:00"),
    )
    assert req.fingerprint == "f58b153fe3b5f1714370093f055edd06da57b4aab9640723eee72f0f11ad3f89"


@pytest.mark.parametrize(
    ("code", "amount", "kind"),
    [
        ("T31000000001", Decimal("4.00"), "acceptance"),
        ("S33042100001", Decimal("-47.50"), "reversal"),
        ('Q"uote\\back', Decimal("0.01"), "acceptance"),
        ("嘉兴示例景区", Decimal("95.00"), "acceptance"),
        ("tab\there", Decimal("1.00"), "adjustment"),
    ],
)
def test_card_leaf_hash_is_the_rfc8785_leaf(code: str, amount: Decimal, kind: str) -> None:
    fields = {"acpt_id": "CA20261127000001", "kind": kind, "payer": "340000", "payee": "310000"}
    expected = leaf_hash(
        card_leaf_bytes(**fields, clr_amt=amount, acceptor_code=code, clr_date=dt.date(2026, 11, 27))
    )
    assert card_leaf_hash(**fields, clr_amt=amount, acceptor_code=code, clr_date="2026-11-27") == expected


def test_c6_first_leaf_hash() -> None:
    data = (
        b'{"acceptor_code":"T31000000001","acpt_id":"CA20261127000001","clr_amt":"4.00",'
        b'"clr_date":"2026-11-27","kind":"acceptance","payee":"310000","payer":"340000","scheme":"card"}'
    )
    got = card_leaf_hash(
        acpt_id="CA20261127000001",
        kind="acceptance",
        payer="340000",
        payee="310000",
        clr_amt=Decimal("4.00"),
        acceptor_code="T31000000001",
        clr_date="2026-11-27",
    )
    assert got == hashlib.sha256(b"\x00" + data).digest()


def _snapshot(moves: tuple[Move, ...], *, now: dt.datetime) -> Snapshot:
    card = CardFacts(
        id=1,
        card_ref=hashlib.sha256(SN["A34000001"].upper().encode()).hexdigest(),
        card_gen="3",
        issuer_admdvs="340100",
        issuer_province="340000",
        birth_date=dt.date(1980, 1, 1),
        valid_until=dt.date(2033, 12, 31),
        card_stas=moves[-1].to_stas,
        moves=moves,
        times=tuple(m.at for m in moves),
    )
    snap = Snapshot(
        acceptor=Acceptor(acceptor_code="T31000000001", kind="transit", admdvs="310000"),
        now=now,
        latest=DenyListVersion(version=4350, issued_at=now),
        cards={"bidx": card},
        bidx={"A34000001": "bidx"},
        versions={
            4340: T("2026-11-27T08:00:00"),
            4345: T("2026-11-27T12:00:00"),
            4320: T("2026-11-26T12:00:00"),
        },
        ttl={"340000": dt.timedelta(days=7)},
    )
    return snap


MOVES = (
    Move(at=T("2024-01-01T00:00:00"), to_stas=CardStatus.ACTIVE, list_version=None),
    Move(at=T("2026-11-27T08:15:05"), to_stas=CardStatus.TEMP_LOST, list_version=4341),
    Move(at=T("2026-11-27T09:00:30"), to_stas=CardStatus.LOST, list_version=4343),
)


def _judge(moves: tuple[Move, ...], now: str = "2026-11-27T21:00:00", **kw: object):  # noqa: ANN202
    record = tap("J1", **kw)
    now = T(now)
    return judge(_snapshot(moves, now=now), parse_acceptance(record, now=now))


def test_listing_start_does_not_move_with_a_change_of_reason() -> None:
    """temp_lost at 4341 then lost at 4343: an offline reader holding 4345 knew (L = 4341)."""
    with pytest.raises(DomainError) as err:
        _judge(MOVES, mode="offline", list_version=4345, used_at="2026-11-27T12:40:00+08:00")
    assert (err.value.code, err.value.extra["list_version"]) == ("card_denied", 4341)
    assert err.value.extra["listed_since"] == "2026-11-27T08:15:05+08:00"


def test_listing_after_use_and_late_listing_and_stale_list() -> None:
    ok = _judge(MOVES, used_at="2026-11-27T08:15:04+08:00")  # one second before the listing
    assert (ok.late_listing, ok.pay_prop, ok.benefit_code) == (False, Decimal("1"), "")
    late = _judge(MOVES, mode="offline", list_version=4340, used_at="2026-11-27T09:10:00+08:00")
    assert late.late_listing is True
    with pytest.raises(DomainError) as err:
        _judge(MOVES, mode="offline", list_version=4320, used_at="2026-11-27T20:05:00+08:00")
    assert err.value.code == "stale_deny_list"


def test_temporary_loss_counts_as_lapsed_at_its_expiry_before_the_job_ran() -> None:
    moves = MOVES[:2]
    with pytest.raises(DomainError) as err:
        _judge(moves, now="2026-12-04T09:00:00", used_at="2026-12-04T08:15:04+08:00")
    assert err.value.code == "card_denied"
    assert _judge(moves, now="2026-12-04T09:00:00", used_at="2026-12-04T08:15:05+08:00").late_listing is False


@pytest.mark.django_db
def test_batch_answers_are_the_stored_answers_and_exactly_once(examples, settings) -> None:  # noqa: ANN001
    settings.ACCEPTANCE_MAX_AGE = 10**9
    acceptor = Acceptor.objects.get(acceptor_code="T31000000001")
    now = T("2026-11-27T08:00:00")
    batch = [
        tap("B-1"),
        tap("B-2", card="A32000002", list_amt="5.00", amt="5.00"),
        tap("B-3", list_amt="x"),
        tap("B-1"),  # a twin of B-1 in the same batch: a duplicate of it
        tap("B-4", card="A32000002", card_sn="0" * 32),  # refused: its serial stays free
        tap("B-2", card="A32000002", list_amt="6.00", amt="6.00"),  # a twin with other content
    ]
    first = [result_body(r) for r in acceptances_record(acceptor=acceptor, records=batch, now=now)]
    assert [r["status"] for r in first] == [201, 201, 400, 200, 422, 409]
    assert first[3]["acceptance"] == first[0]["acceptance"] | {"duplicate": True}
    assert first[4]["problem"]["code"] == "card_sn_mismatch"
    assert first[5]["problem"]["code"] == "acpt_serial_conflict"
    a = first[0]["acceptance"]
    assert {k: a[k] for k in ("card_no", "issuer_admdvs", "acceptor_admdvs", "amt", "cleared")} == {
        "card_no": "A34****01",
        "issuer_admdvs": "340100",
        "acceptor_admdvs": "310000",
        "amt": "4.00",
        "cleared": True,
    }
    stored = Acceptance.objects.select_related("acceptor", "card").get(acpt_id=a["acpt_id"])
    assert acceptance_body(stored) == a  # one shape: the batch's answer is the stored record's
    again = [result_body(r) for r in acceptances_record(acceptor=acceptor, records=batch[:2], now=now)]
    assert again == [{"status": 200, "acceptance": r["acceptance"] | {"duplicate": True}} for r in first[:2]]
    assert Acceptance.objects.filter(acceptor=acceptor).count() == 2
    assert (
        ClearingItem.objects.filter(setl_id__in=[r["acceptance"]["acpt_id"] for r in first[:2]]).count() == 2
    )
    assert list(AcceptanceRefusal.objects.values_list("code", flat=True)) == ["card_sn_mismatch"]
    item = ClearingItem.objects.get(setl_id=a["acpt_id"])
    assert (item.scheme, item.payer, item.payee, item.clr_amt, item.fixmedins_code) == (
        "card",
        "340000",
        "310000",
        Decimal("4.00"),
        "T31000000001",
    )


@pytest.mark.django_db
def test_a_serial_committed_by_a_concurrent_batch_is_answered_from_the_stored_record(
    examples, settings, monkeypatch
) -> None:  # noqa: ANN001
    """The race of step 2: a twin committed after this batch read its serials. The insert skips
    it (ON CONFLICT DO NOTHING); same content → 200 duplicate, other → 409; no second item.
    (PostgreSQL: SQLite serialises writers from BEGIN IMMEDIATE, so the read cannot miss a twin.)"""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the race exists where writers run concurrently (PostgreSQL)")
    settings.ACCEPTANCE_MAX_AGE = 10**9
    acceptor = Acceptor.objects.get(acceptor_code="T31000000001")
    now = T("2026-11-27T08:00:00")
    (done,) = acceptances_record(acceptor=acceptor, records=[tap("R-1")], now=now)
    acceptances_record(acceptor=acceptor, records=[tap("R-2")], now=now)
    real = service._stored
    calls = []

    def blind_first(acc, serials):  # noqa: ANN001, ANN202
        calls.append(1)
        return {} if len(calls) == 1 else real(acc, serials)  # the first read misses the twins

    monkeypatch.setattr(service, "_stored", blind_first)
    results = acceptances_record(
        acceptor=acceptor, records=[tap("R-1"), tap("R-2", list_amt="3.00", amt="3.00"), tap("R-3")], now=now
    )
    assert [r.status for r in results] == [200, 409, 201]
    assert results[0].duplicate and results[0].acceptance.acpt_id == done.acceptance.acpt_id
    assert Acceptance.objects.filter(acceptor=acceptor).count() == 3
    assert ClearingItem.objects.filter(scheme="card").count() == 3
