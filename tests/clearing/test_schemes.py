"""The scheme key (spec/cards.md §The card scheme's clearing): one open cycle per scheme, items
and closes kept apart, and no journal entry may mix schemes (a database rule)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from clearing.leaf import card_leaf_bytes, leaf_hash
from clearing.models import ClearingItem, Cycle, CycleHead, JournalEntry, JournalLeg, Scheme
from clearing.services.close import cycle_close, cycles_due
from clearing.services.cycles import clearing_items_bulk_record, cycle_for_write, open_cycle_date
from clearing.services.ledger import UnbalancedEntry, journal_entry_post, trial_balance
from tests.clearing.helpers import record

pytestmark = pytest.mark.django_db


def _card_item(acpt_id: str, payer: str, payee: str, amount: str, code: str) -> ClearingItem:
    with transaction.atomic():
        cycle = cycle_for_write(scheme=Scheme.CARD)
        leaf = card_leaf_bytes(
            acpt_id=acpt_id, kind="acceptance", payer=payer, payee=payee, clr_amt=Decimal(amount),
            acceptor_code=code, clr_date=cycle.clr_date,
        )
        item = ClearingItem(
            setl_id=acpt_id, kind="acceptance", payer=payer, payee=payee, clr_amt=Decimal(amount),
            fixmedins_code=code, leaf_hash=leaf_hash(leaf),
        )
        return clearing_items_bulk_record(cycle=cycle, items=[item])[0]


def test_each_scheme_has_its_own_cycle_and_close():
    today = open_cycle_date()
    record("340000", "310000", "10.00", "H1")
    card = _card_item("CA20990101000001", "340000", "310000", "4.00", "T31000000001")
    assert (card.scheme, card.clr_date) == ("card", today)
    assert Cycle.objects.filter(clr_date=today).count() == 2
    # an early close of the card scheme moves only the card scheme's open day
    cycle_close(clr_date=today, actor="t", scheme=Scheme.CARD)
    assert open_cycle_date(scheme=Scheme.CARD) == today + dt.timedelta(days=1)
    assert open_cycle_date() == today
    card_head = CycleHead.objects.get(cycle__scheme="card", cycle__clr_date=today)
    assert bytes(card_head.canonical).count(b'"scheme":"card"') == 1
    assert card_head.item_cnt == 1 and card_head.gross == Decimal("4.00")
    assert cycles_due(scheme=Scheme.MEDICAL) == []
    cycle_close(clr_date=today, actor="t")
    medical = CycleHead.objects.get(cycle__scheme="medical", cycle__clr_date=today)
    assert b"scheme" not in bytes(medical.canonical)  # the medical head's bytes are unchanged
    assert medical.gross == Decimal("10.00") and medical.tree_size == 1
    refs = set(JournalEntry.objects.values_list("reference", "scheme"))
    assert {(f"cycle:{today}", "medical"), (f"card-cycle:{today}", "card")} <= refs
    assert trial_balance()["total"] == Decimal("0.00")
    legs = dict(JournalLeg.objects.filter(entry__scheme="card").values_list("account", "amount"))
    assert legs == {"card:310000": Decimal("-4.00"), "card:340000": Decimal("4.00")}


def test_journal_entry_post_refuses_mixed_schemes():
    with pytest.raises(UnbalancedEntry):
        journal_entry_post(
            reference="mix", description="mix", scheme="card",
            legs=[("card:310000", Decimal("1.00")), ("prefund:340000", Decimal("-1.00"))],
        )
    assert not JournalEntry.objects.filter(reference="mix").exists()


def test_database_refuses_a_leg_of_the_other_scheme():
    with pytest.raises(IntegrityError), transaction.atomic():  # account prefix ⇔ leg scheme
        entry = JournalEntry.objects.create(reference="a", description="a", created_at="2026-01-01T00:00Z")
        JournalLeg.objects.bulk_create(
            [
                JournalLeg(entry=entry, scheme="medical", account="card:310000", amount=Decimal("1.00")),
                JournalLeg(entry=entry, scheme="medical", account="bank", amount=Decimal("-1.00")),
            ]
        )
    with pytest.raises(IntegrityError), transaction.atomic():  # every leg's scheme = its entry's
        entry = JournalEntry.objects.create(reference="b", description="b", created_at="2026-01-01T00:00Z")
        JournalLeg.objects.bulk_create(
            [
                JournalLeg(entry=entry, scheme="card", account="card:310000", amount=Decimal("1.00")),
                JournalLeg(entry=entry, scheme="card", account="card:bank", amount=Decimal("-1.00")),
            ]
        )
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert not JournalEntry.objects.filter(reference__in=["a", "b"]).exists()
