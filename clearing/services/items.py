"""Clearing items written many at a time (spec/clearing.md §Items): a batch of settlements records
its items with one multi-row INSERT, in the cycle the caller locked with
:func:`clearing.services.cycles.cycle_for_write`. And the one rule between reversals and disputes
(spec/hospital-api.md §reversal, clearing.md §Disputes): :func:`clearing_item_reversal_lock`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from clearing import selectors
from clearing.leaf import leaf_bytes, leaf_hash
from clearing.models import ClearingItem, Cycle, ItemReversal
from clearing.services.cycles import clearing_items_bulk_record
from core.bulk import insert_rows
from core.errors import Conflict


@dataclass(frozen=True)
class ItemEntry:
    """One item to record: ``payer``/``payee`` province codes, ``clr_amt`` yuan (negative for
    reversals and adjustments)."""

    setl_id: str
    kind: str
    payer: str
    payee: str
    clr_amt: Decimal
    fixmedins_code: str


def clearing_items_record(*, entries: list[ItemEntry], cycle: Cycle) -> None:
    """Record medical ``entries`` in ``cycle`` (open and locked shared by the caller's transaction),
    with their Merkle leaf hashes: one INSERT
    (:func:`clearing.services.cycles.clearing_items_bulk_record`)."""
    clearing_items_bulk_record(cycle=cycle, items=[
        ClearingItem(
            setl_id=e.setl_id,
            kind=e.kind,
            payer=e.payer,
            payee=e.payee,
            clr_amt=e.clr_amt,
            fixmedins_code=e.fixmedins_code,
            leaf_hash=leaf_hash(leaf_bytes(
                setl_id=e.setl_id, kind=e.kind, payer=e.payer, payee=e.payee, clr_amt=e.clr_amt,
                fixmedins_code=e.fixmedins_code, clr_date=cycle.clr_date,
            )),
        )
        for e in entries
    ])


ITEM_ROW_FIELDS = ("setl_id", "kind", "payer", "payee", "clr_amt", "fixmedins_code", "leaf_hash")


ItemRow = tuple[str, str, str, str, Decimal, str, bytes]  # in the order of ITEM_ROW_FIELDS


def clearing_item_rows_record(*, cycle: Cycle, rows: list[ItemRow]) -> None:
    """Record items given as plain tuples in the order of :data:`ITEM_ROW_FIELDS` (``leaf_hash``
    computed by the caller from its scheme's leaf, 32 bytes) in ``cycle`` (open and locked shared
    by the caller's transaction, :func:`clearing.services.cycles.cycle_for_write`): one
    ``INSERT … SELECT FROM unnest`` on PostgreSQL (:func:`core.bulk.insert_rows`), no model
    objects. The card scheme's batch of acceptances writes its items this way."""
    for row in rows:
        if len(row[6]) != 32:
            raise ValueError(f"leaf hash of {row[0]} is not 32 bytes")
    insert_rows(
        ClearingItem,
        ITEM_ROW_FIELDS,
        rows,
        fixed={"scheme": cycle.scheme, "clr_date": cycle.clr_date, "created_at": timezone.now()},
    )


def clearing_item_reversal_lock(*, setl_id: str, reversal_setl_id: str, at: dt.datetime) -> None:
    """Before a reversal of the settlement ``setl_id`` moves money: lock its item (``FOR UPDATE``;
    the dispute services take the same lock), refuse ``409 disputed`` while a dispute may still
    move money (:func:`clearing.selectors.settlement_blocking_dispute_exists`), and record that the
    item is reversed (:class:`ItemReversal`; the dispute services refuse ``409 already_reversed``
    then). Inside the reversal's transaction; an item without a row (none recorded) is not guarded."""
    item = ClearingItem.objects.select_for_update().filter(setl_id=setl_id).first()
    if selectors.settlement_blocking_dispute_exists(setl_id):
        raise Conflict("disputed", "This settlement has an open or upheld dispute; it cannot be reversed.")
    if item is not None:
        ItemReversal.objects.create(item=item, reversal_setl_id=reversal_setl_id, at=at)


def clearing_item_lock(setl_id: str) -> ClearingItem | None:
    """The item ``setl_id`` locked ``FOR UPDATE`` (the lock a reversal takes), with its cycle."""
    items = ClearingItem.objects.select_for_update(of=("self",)).select_related("cycle")
    return items.filter(setl_id=setl_id).first()


def clearing_item_reversed(item: ClearingItem | None) -> bool:
    """True when ``item`` (locked by the caller) was reversed."""
    return item is not None and ItemReversal.objects.filter(item=item).exists()
