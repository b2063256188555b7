"""The close: date order, empty cycles, idempotency, cut-off, command, beat schedule, ledger rule."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearing import merkle
from clearing.models import (
    ClearingItem,
    Cycle,
    CycleHead,
    CycleTransition,
    JournalEntry,
    JournalLeg,
    NetPosition,
)
from clearing.services.close import cycle_close, cycles_due
from clearing.services.cycles import SHANGHAI, open_cycle_date
from clearing.services.ledger import UnbalancedEntry, journal_entry_post, trial_balance
from core.errors import DomainError
from tests.clearing.helpers import record

pytestmark = pytest.mark.django_db


def test_order_errors_and_no_op():
    today = open_cycle_date()
    c1 = Cycle.objects.create(clr_date=today - dt.timedelta(days=3))
    record("340000", "310000", "10.00", "H1", cycle=c1)
    with pytest.raises(DomainError) as exc:
        cycle_close(clr_date=today - dt.timedelta(days=2), actor="t")
    assert (exc.value.status, exc.value.code) == (409, "previous_cycle_open")
    with pytest.raises(DomainError) as exc:
        cycle_close(clr_date=today + dt.timedelta(days=1), actor="t")
    assert (exc.value.status, exc.value.code) == (422, "cycle_not_open")
    first = cycle_close(clr_date=c1.clr_date, actor="t")
    head_bytes = bytes(first.head.canonical)
    with pytest.raises(DomainError) as exc:  # the gap day D-1 is not closed
        cycle_close(clr_date=today, actor="t")
    assert exc.value.code == "previous_cycle_open"
    with pytest.raises(DomainError) as exc:  # before the first cycle, once the chain has begun
        cycle_close(clr_date=c1.clr_date - dt.timedelta(days=1), actor="t")
    assert (exc.value.status, exc.value.code) == (422, "cycle_not_open")
    again = cycle_close(clr_date=c1.clr_date, actor="other")
    assert bytes(again.head.canonical) == head_bytes and CycleHead.objects.count() == 1
    assert list(CycleTransition.objects.values_list("from_status", "to_status", "actor")) == [
        ("open", "cut", "t"),
        ("cut", "closed", "t"),
    ]


def test_close_due_makes_empty_cycles_and_chains_heads():
    today = open_cycle_date()
    c1 = Cycle.objects.create(clr_date=today - dt.timedelta(days=3))
    record("340000", "310000", "10.00", "H1", cycle=c1)
    assert cycles_due() == [today - dt.timedelta(days=i) for i in (3, 2, 1)]
    out = io.StringIO()
    call_command("close_cycle", stdout=out)
    heads = [json.loads(bytes(h.canonical)) for h in CycleHead.objects.order_by("cycle__clr_date")]
    assert [h["tree_size"] for h in heads] == [1, 0, 0]
    assert heads[1]["merkle_root"] == merkle.EMPTY_ROOT.hex() and heads[1]["net_positions"] == {}
    assert heads[1]["gross"] == "0.00" and heads[1]["netting_efficiency"] == "0.0000"
    shas = list(CycleHead.objects.order_by("cycle__clr_date").values_list("sha256", flat=True))
    assert heads[0]["prev_head_sha256"] == "0" * 64
    assert [h["prev_head_sha256"] for h in heads[1:]] == shas[:2]
    assert cycles_due() == [] and "nothing to close" in _run("close_cycle")
    with pytest.raises(CommandError, match="cycle_not_open"):
        call_command(
            "close_cycle", "--date", (today + dt.timedelta(days=2)).isoformat(), stdout=io.StringIO()
        )


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_midnight_cut_off_moves_writers_to_next_day():
    today = open_cycle_date()
    record("340000", "310000", "10.00", "H1")
    cycle_close(clr_date=today, actor="t")  # early close: the next items go to D+1
    item = record("340000", "310000", "11.00", "H1")
    assert item.clr_date == today + dt.timedelta(days=1)
    # At 00:00 of D+2 (Shanghai), D+1 is cut without any job: new items go to D+2.
    midnight = dt.datetime.combine(today + dt.timedelta(days=2), dt.time(0, 0), tzinfo=SHANGHAI)
    assert open_cycle_date(midnight) == today + dt.timedelta(days=2)
    assert open_cycle_date(midnight - dt.timedelta(seconds=1)) == today + dt.timedelta(days=1)


def test_closed_at_and_key_fixed_at_begin_and_kept():
    today = open_cycle_date()
    record("340000", "310000", "10.00", "H1")
    from clearing.services import close as close_mod

    cycle = close_mod._cut(today, "t")  # a close that died right after the cut
    fixed = (cycle.closed_at, cycle.key_id)
    assert cycle.closed_at.microsecond == 0
    done = cycle_close(clr_date=today, actor="t")
    assert (done.closed_at, done.key_id) == fixed
    assert json.loads(bytes(done.head.canonical))["closed_at"] == fixed[0].astimezone(dt.UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def test_ledger_rule_in_service():
    with pytest.raises(UnbalancedEntry):
        journal_entry_post(reference="x", description="x", legs=[("bank", Decimal("1.00"))])
    with pytest.raises(UnbalancedEntry):
        journal_entry_post(
            reference="x", description="x", legs=[("bank", Decimal("1.00")), ("b", Decimal("-0.99"))]
        )
    assert JournalEntry.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ledger_trigger_refuses_unbalanced_raw_sql():
    from django.db import IntegrityError, connection

    with pytest.raises(IntegrityError):
        with transaction.atomic():
            entry = JournalEntry.objects.create(
                reference="raw", description="raw", created_at="2026-01-01T00:00Z"
            )
            with connection.cursor() as cur:
                cur.execute(
                    "INSERT INTO clearing_journalleg (entry_id, account, amount) VALUES (%s, 'bank', 5.00),"
                    " (%s, 'prefund:310000', -4.99)",
                    [entry.pk, entry.pk],
                )
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            JournalEntry.objects.create(
                reference="lonely", description="no legs", created_at="2026-01-01T00:00Z"
            )
    with transaction.atomic():
        entry = JournalEntry.objects.create(reference="ok", description="ok", created_at="2026-01-01T00:00Z")
        JournalLeg.objects.bulk_create(
            [
                JournalLeg(entry=entry, account="bank", amount=Decimal("5.00")),
                JournalLeg(entry=entry, account="prefund:310000", amount=Decimal("-5.00")),
            ]
        )
    with pytest.raises(IntegrityError):  # deleting one leg unbalances the entry
        with transaction.atomic():
            JournalLeg.objects.filter(entry=entry, account="bank").delete()
    assert trial_balance()["total"] == Decimal("0.00")


def test_beat_schedule_runs_at_0030_shanghai_and_every_5_minutes():
    """00:30 Asia/Shanghai is one of the runs; the others (every 5 min) resume an interrupted close."""
    from config.celery import app

    entry = app.conf.beat_schedule["close-cut-cycles"]
    assert entry["task"] == "clearing.tasks.close_cut_cycles"
    assert entry["options"] == {"expires": 240}
    sched = entry["schedule"]
    sched.app = app
    assert str(app.conf.timezone) == "Asia/Shanghai"
    for (h, m), (nh, nm) in {(0, 27): (0, 30), (12, 0): (12, 5), (23, 58): (0, 0)}.items():
        now = dt.datetime(2026, 11, 29, h, m, tzinfo=SHANGHAI)
        sched.nowfun = lambda now=now: now
        nxt = (now + sched.remaining_estimate(now)).astimezone(SHANGHAI)
        assert (nxt.hour, nxt.minute) == (nh, nm)
    now = dt.datetime(2026, 11, 29, 0, 27, tzinfo=SHANGHAI)
    sched.nowfun = lambda: now
    assert (now + sched.remaining_estimate(now)).astimezone(dt.UTC).hour == 16


PROVINCES = ["110000", "310000", "320000", "330000", "340000"]
amounts = st.decimals(min_value=Decimal("-5000.00"), max_value=Decimal("20000.00"), places=2)
items_st = st.lists(st.tuples(st.sampled_from(PROVINCES), st.sampled_from(PROVINCES), amounts), max_size=25)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(days=st.lists(items_st, min_size=1, max_size=3))
def test_every_close_nets_to_zero_and_ledger_balances(days):
    with transaction.atomic():
        sid = transaction.savepoint()
        for items in days:
            for payer, payee, amt in items:
                record(payer, payee, amt, "H" + payee)
            cycle = cycle_close(clr_date=open_cycle_date(), actor="t")
            head = json.loads(bytes(cycle.head.canonical))
            nets = [Decimal(v) for v in head["net_positions"].values()]
            assert sum(nets, Decimal("0")) == 0
            assert sum(NetPosition.objects.filter(cycle=cycle).values_list("net", flat=True), Decimal(0)) == 0
            cross = [(p, q, a) for p, q, a in items if p != q]
            pairs: dict = {}
            for p, q, a in cross:
                pairs[(p, q)] = pairs.get((p, q), Decimal(0)) + a
            assert Decimal(head["gross"]) == sum((abs(v) for v in pairs.values()), Decimal(0))
            assert Decimal(head["net_funding"]) == sum((n for n in nets if n > 0), Decimal(0))
            assert head["item_cnt"] == len(cross) and head["tree_size"] == len(items)
            assert trial_balance()["total"] == Decimal("0.00")
            legs = JournalLeg.objects.filter(entry__reference=f"cycle:{cycle.clr_date}")
            assert legs.count() == len([n for n in nets if n != 0])
        assert ClearingItem.objects.count() == sum(len(d) for d in days)
        transaction.savepoint_rollback(sid)


def test_nightly_task_closes_cut_cycles_oldest_first(monkeypatch):
    from django.utils import timezone

    from clearing.tasks import close_cut_cycles

    noon = dt.datetime.combine(open_cycle_date(), dt.time(12, 0), tzinfo=SHANGHAI)
    monkeypatch.setattr(timezone, "now", lambda: noon)  # after 00:30, whenever the suite runs
    today = open_cycle_date()
    c1 = Cycle.objects.create(clr_date=today - dt.timedelta(days=2))
    record("340000", "310000", "10.00", "H1", cycle=c1)
    record("340000", "310000", "12.00", "H1")  # today's open cycle is not touched
    assert close_cut_cycles.delay().get() == [(today - dt.timedelta(days=i)).isoformat() for i in (2, 1)]
    assert Cycle.objects.get(clr_date=today).status == "open"
    assert close_cut_cycles.delay().get() == []
