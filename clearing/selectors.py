"""Reads of clearing data, also used by other apps (settlement's reversal, cardholder receipts)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from clearing import merkle
from clearing.leaf import scheme_leaf_bytes
from clearing.models import ClearingItem, Cycle, CycleHead, Dispute, Scheme, Statement
from clearing.services.figures import cycle_items, leaf_hashes, setl_id_order
from core.errors import Conflict, NotFound

BLOCKING = (Dispute.Status.OPEN, Dispute.Status.ESCALATED, Dispute.Status.UPHELD)


def escalation_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    """Disputes opened before this instant can no longer be escalated: a payee's rejection becomes
    final ``DISPUTE_RESOLUTION_DAYS`` (the resolution period, spec/clearing.md §Disputes) after the
    dispute was opened. Aware datetime."""
    return (now or timezone.now()) - dt.timedelta(days=settings.DISPUTE_RESOLUTION_DAYS)


def blocking_disputes_q(now: dt.datetime | None = None) -> Q:
    """The disputes that still block a reversal of their settlement (docs/decisions.md §Disputes
    and reversals): ``open``, ``escalated`` and ``upheld`` ones, and a ``rejected`` one whose
    rejection is not final yet — rejected by the payee bureau (never escalated) and still inside
    the escalation period (:func:`escalation_cutoff`). A rejection by clearing staff (the dispute
    was escalated) or one past the escalation period is final and does not block."""
    return Q(status__in=BLOCKING) | Q(
        status=Dispute.Status.REJECTED, escalated_at__isnull=True, opened_at__gte=escalation_cutoff(now)
    )


def settlement_blocking_dispute_exists(settlement_setl_id: str) -> bool:
    """True when the settlement has a dispute that may still move money (then a reversal answers
    ``409 disputed``): open, escalated, upheld, or rejected by the payee and still escalatable
    (:func:`blocking_disputes_q`). Call it while holding the settlement row lock
    (``select_for_update`` on ``settlement.models.Settlement``): the dispute services take the
    same lock and refuse ``409 already_reversed`` to uphold or escalate a reversed settlement, so a
    reversal and a dispute of one settlement never both move money (spec/hospital-api.md
    §reversal, clearing.md §Disputes)."""
    return Dispute.objects.filter(blocking_disputes_q(), setl_id=settlement_setl_id).exists()


def item_inclusion_proof(setl_id: str, clr_date: dt.date | None = None) -> dict[str, Any]:
    """RFC 9162 inclusion proof of a closed cycle's item (spec/clearing.md §Receipts):
    ``{"leaf", "leaf_index", "tree_size", "audit_path", "merkle_root", "head", "head_signature",
    "key_id"}``. Raises ``409 not_yet_cleared`` before the close, ``404`` for unknown ids.

    Cost: the leaf index is one index-range count in SQL; the audit path is computed from the
    head's stored block hashes plus the leaf hashes of the item's own block (two index-range
    reads of at most ``block_size`` rows): O(n / block_size + block_size) hashing instead of a pass
    over every leaf (:func:`clearing.merkle.inclusion_proof_from_blocks`). Heads closed before
    the block index existed fall back to one streaming pass over the cycle's leaf hashes.
    Items of either scheme (ids are unique across schemes); the leaf is the item's scheme's.

    ``clr_date`` (the caller's knowledge of the item's day: the URL's, or the settlement's or
    acceptance's ``clr_date``) makes the lookup read one monthly partition of the items on
    PostgreSQL (docs/scaling.md §Declarative partitioning); without it, or when the item is not on
    that day, every partition's ``(setl_id, clr_date)`` index is probed."""
    item = _item_of(setl_id, clr_date)
    if item is None:
        raise NotFound("No such item.")
    if item.cycle.status != Cycle.Status.CLOSED:
        raise Conflict("not_yet_cleared", "the item's cycle is not closed yet")
    head = CycleHead.objects.get(cycle=item.cycle)
    clr_date = item.clr_date
    index = (
        cycle_items(clr_date, item.scheme).filter(**{"setl_id__lt": item.setl_id}).count()
        if not _pg()
        else _index_pg(item)
    )
    path = _audit_path(head, item, index)
    data = scheme_leaf_bytes(
        scheme=item.scheme,
        setl_id=item.setl_id,
        kind=item.kind,
        payer=item.payer,
        payee=item.payee,
        clr_amt=item.clr_amt,
        fixmedins_code=item.fixmedins_code,
        clr_date=clr_date,
    )
    return {
        "leaf": data.decode(),
        "leaf_index": index,
        "tree_size": head.tree_size,
        "audit_path": [p.hex() for p in path],
        "merkle_root": head.merkle_root,
        "head": json.loads(bytes(head.canonical)),
        "head_signature": base64.b64encode(bytes(head.signature)).decode(),
        "key_id": head.key_id,
    }


def _item_of(setl_id: str, clr_date: dt.date | None) -> ClearingItem | None:
    """The item ``setl_id`` with its cycle: on ``clr_date`` first (one partition), else anywhere."""
    items = ClearingItem.objects.select_related("cycle").filter(setl_id=setl_id)
    item = items.filter(clr_date=clr_date).first() if clr_date is not None else None
    return item if item is not None else items.first()


def _audit_path(head: CycleHead, item: ClearingItem, index: int) -> list[bytes]:
    """PATH(index, D[tree_size]) of ``item`` (at ``index``) from the head's block index, or by
    streaming every leaf when the head has none."""
    size, block = head.tree_size, head.block_size
    if not block or head.block_hashes is None:
        return merkle.inclusion_proof(leaf_hashes(item.clr_date, item.scheme), index, size)
    raw = bytes(head.block_hashes)
    blocks = [raw[i : i + 32] for i in range(0, len(raw), 32)]
    base = index // block * block
    qs = cycle_items(item.clr_date, item.scheme).annotate(_k=setl_id_order())
    before = list(
        qs.filter(_k__lt=item.setl_id)
        .order_by(setl_id_order().desc())
        .values_list("leaf_hash", flat=True)[: index - base]
    )
    from_item = list(
        qs.filter(_k__gte=item.setl_id).values_list("leaf_hash", flat=True)[: min(base + block, size) - index]
    )
    leaves = [bytes(h) for h in reversed(before)] + [bytes(h) for h in from_item]
    return merkle.inclusion_proof_from_blocks(index, size, block=block, blocks=blocks, leaves=leaves)


def _pg() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def _index_pg(item: ClearingItem) -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM clearing_clearingitem "
            'WHERE clr_date = %s AND scheme = %s AND setl_id COLLATE "C" < %s',
            [item.clr_date, item.scheme, item.setl_id],
        )
        return cur.fetchone()[0]


def cycle_get(clr_date: dt.date, scheme: str = Scheme.MEDICAL) -> Cycle:
    cycle = Cycle.objects.filter(scheme=scheme, clr_date=clr_date).select_related("head").first()
    if cycle is None:
        raise NotFound("No such cycle.")
    return cycle


def cycle_head(clr_date: dt.date, scheme: str = Scheme.MEDICAL) -> CycleHead | None:
    return CycleHead.objects.filter(cycle__scheme=scheme, cycle__clr_date=clr_date).first()


def cycle_head_required(clr_date: dt.date, scheme: str = Scheme.MEDICAL) -> CycleHead:
    head = cycle_head(clr_date, scheme)
    if head is None:
        cycle_get(clr_date, scheme)
        raise Conflict("cycle_not_closed", "the cycle is not closed yet")
    return head


def statement_get(clr_date: dt.date, admdvs: str, scheme: str = Scheme.MEDICAL) -> Statement:
    head = cycle_head_required(clr_date, scheme)
    st = Statement.objects.filter(cycle_id=head.cycle_id, admdvs=admdvs).select_related("cycle").first()
    if st is None:
        raise NotFound("No statement for this province.")
    return st


def items_visible(
    clr_date: dt.date,
    scope: str | None,
    *,
    counterparty: str | None = None,
    kind: str | None = None,
    scheme: str = Scheme.MEDICAL,
) -> QuerySet[ClearingItem]:
    """The scheme's cycle's items where ``scope`` is payer or payee (all for ``None``), in
    ``setl_id`` byte order."""
    qs = ClearingItem.objects.filter(clr_date=clr_date, scheme=scheme)
    if scope is not None:
        qs = qs.filter(Q(payer=scope) | Q(payee=scope))
    if counterparty:
        qs = qs.filter(Q(payer=counterparty) | Q(payee=counterparty))
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by(setl_id_order())


def disputes_visible(
    scope: str | None, status: str | None = None, scheme: str = Scheme.MEDICAL
) -> QuerySet[Dispute]:
    qs = Dispute.objects.filter(item__scheme=scheme)
    if scope is not None:
        qs = qs.filter(Q(payer=scope) | Q(payee=scope))
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("opened_at", "id")


def disputes_overdue(scope: str | None, scheme: str = Scheme.MEDICAL) -> QuerySet[Dispute]:
    """Open or escalated disputes older than ``DISPUTE_RESOLUTION_DAYS``."""
    limit = timezone.now() - dt.timedelta(days=settings.DISPUTE_RESOLUTION_DAYS)
    return disputes_visible(scope, scheme=scheme).filter(
        status__in=(Dispute.Status.OPEN, Dispute.Status.ESCALATED), opened_at__lt=limit
    )


def items_in_pages(qs: QuerySet[ClearingItem], size: int = 2000) -> Iterator[ClearingItem]:
    """Every row of ``qs`` (in ``setl_id`` byte order), read in keyset pages of ``size``: no
    server-side cursor and no long transaction, so a long export works through PgBouncer's
    transaction pooling and on a hot standby (docs/scaling.md §PgBouncer)."""
    key = None
    while True:
        rows, more = items_page(qs, direction="after", key=key, size=size)
        yield from rows
        if not more or not rows:
            return
        key = rows[-1].setl_id


def items_page(
    qs: QuerySet[ClearingItem], *, direction: str, key: str | None, size: int
) -> tuple[list[ClearingItem], bool]:
    """One page of ``qs`` (already in ``setl_id`` byte order) after or before ``key``. Returns
    (rows in ascending order, whether more rows exist in that direction)."""
    keyed = qs.annotate(_k=setl_id_order())
    if key is not None:
        keyed = keyed.filter(_k__gt=key) if direction == "after" else keyed.filter(_k__lt=key)
    rows: list[ClearingItem]
    if direction == "before":
        rows = list(keyed.order_by(setl_id_order().desc())[: size + 1])
        more = len(rows) > size
        return list(reversed(rows[:size])), more
    rows = list(keyed[: size + 1])
    return rows[:size], len(rows) > size
