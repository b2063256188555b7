"""The nightly close (spec/clearing.md §Cycles, §What a close computes, §Ledger, §Signed head).

One service, :func:`cycle_close`, used by the Celery tasks, ``manage.py close_cycle`` and
``POST /api/v1/cycles/{clr_date}/close``. Two transactions:

1. **cut**: under the cycle's exclusive advisory lock (every writer holds it shared until it
   commits) flip ``open`` → ``cut`` and fix ``closed_at`` and the signing ``key_id``, kept forever;
2. **close**: under the cycle row lock compute the figures in SQL, sign the head and statements,
   post the nets to the prefund accounts and the ledger, raise alerts and flip ``cut`` →
   ``closed`` — all or nothing. Every row written is guarded by a unique constraint, so a second
   close (beat sending twice, a redelivery after a worker was killed) either waits and finds the
   cycle closed or fails on the constraint and rolls back. Same ``closed_at``, same key, same data
   → same head bytes (Ed25519 signatures are deterministic).

Per scheme (spec/cards.md §The card scheme's clearing): every function takes ``scheme``
(default ``medical``); order, chain of heads, settlement accounts and journal entries are the
scheme's own, and :func:`cycles_close_due` (the one 00:30 job) closes each scheme's due cycles in
turn, so a failure of one scheme's close never holds the other's.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from clearing.models import (
    Alert,
    BilateralPosition,
    Cycle,
    CycleHead,
    NetPosition,
    PrefundAccount,
    PrefundPosting,
    Remittance,
    Scheme,
    Statement,
)
from clearing.netting import money_in_range, netting_amounts
from clearing.services import cycles as cyc
from clearing.services.documents import (
    GENESIS,
    head_document,
    money,
    scheme_statement_document,
    statement_provinces,
    utc_time,
)
from clearing.services.figures import Figures, cycle_figures
from clearing.services.ledger import cycle_journal_reference, journal_entry_post, settlement_ledger_account
from clearing.services.prefunds import prefund_account_lock, prefund_posting_write
from core import metrics
from core.audit import audit_log, audit_seal
from core.canonical import canonical_bytes, sha256_hex
from core.crypto import current_signing_key, signing_key
from core.errors import Conflict, DomainError
from core.money import ZERO, round2

logger = logging.getLogger("kuasheng.clearing.close")
CLOSE_TIME = dt.time(0, 30)  # Asia/Shanghai, the nightly job (spec/clearing.md §Cycles)


def _check_order(clr_date: dt.date, scheme: str) -> None:
    """409 previous_cycle_open when an earlier day of the scheme is not closed (strict date order);
    422 cycle_not_open for a day before the first cycle once a later one is closed (the chain of
    heads is already fixed)."""
    cycles = Cycle.objects.filter(scheme=scheme)
    if cycles.filter(clr_date__gt=clr_date, status=Cycle.Status.CLOSED).exists():
        raise DomainError("cycle_not_open", f"{clr_date} precedes the closed cycles", field="clr_date")
    if cycles.filter(clr_date__lt=clr_date).exclude(status=Cycle.Status.CLOSED).exists():
        raise Conflict("previous_cycle_open", "an earlier cycle is not closed yet")
    last = cycles.filter(clr_date__lt=clr_date, status=Cycle.Status.CLOSED).aggregate(
        m=Max("clr_date")
    )["m"]
    if last is not None and last < clr_date - dt.timedelta(days=1):
        raise Conflict("previous_cycle_open", f"the cycle of {last + dt.timedelta(days=1)} is not closed yet")


def close_precheck(clr_date: dt.date, *, scheme: str = Scheme.MEDICAL) -> CycleHead | None:
    """The head when the scheme's ``clr_date`` is closed already; ``None`` when it may be closed
    now; raises ``422 cycle_not_open`` / ``409 previous_cycle_open`` like :func:`cycle_close`
    (read-only)."""
    head = CycleHead.objects.filter(cycle__scheme=scheme, cycle__clr_date=clr_date).first()
    if head is not None:
        return head
    if clr_date > cyc.open_cycle_date(scheme=scheme):
        raise DomainError("cycle_not_open", f"the cycle of {clr_date} is not open yet", field="clr_date")
    _check_order(clr_date, scheme)
    return None


def _cut(clr_date: dt.date, actor: str, scheme: str = Scheme.MEDICAL) -> Cycle:
    with transaction.atomic():
        existing = Cycle.objects.filter(scheme=scheme, clr_date=clr_date).first()
        if existing is not None and existing.status == Cycle.Status.CLOSED:
            return existing
        if clr_date > cyc.open_cycle_date(scheme=scheme):
            raise DomainError("cycle_not_open", f"the cycle of {clr_date} is not open yet", field="clr_date")
        _check_order(clr_date, scheme)
        cycle = cyc.cycle_ensure(clr_date, scheme=scheme)
        cyc.cycle_lock_exclusive(clr_date, scheme=scheme)  # waits for every writer of this cycle to commit
        cycle = Cycle.objects.select_for_update(no_key=True).get(pk=cycle.pk)
        if cycle.status == Cycle.Status.OPEN:
            cyc.cycle_transition(cycle, Cycle.Status.CUT, actor=actor)
        if cycle.closed_at is None:  # fixed when the close begins, kept by every retry
            cycle.closed_at = timezone.now().replace(microsecond=0)
            cycle.key_id = current_signing_key().key_id
            Cycle.objects.filter(pk=cycle.pk).update(closed_at=cycle.closed_at, key_id=cycle.key_id)
        return cycle


def _closed_at(cycle: Cycle) -> dt.datetime:
    """The cycle's ``closed_at``, fixed by :func:`_cut` when the close began."""
    if cycle.closed_at is None:  # pragma: no cover - _cut sets it before anything is written
        raise RuntimeError(f"cycle {cycle.scheme} {cycle.clr_date}: the close has not begun")
    return cycle.closed_at


def _post_prefunds(
    cycle: Cycle, figures: Figures, provinces: list[str], actor: str
) -> dict[str, dict[str, Any]]:
    """Post each non-zero net, one journal entry (≥ 2 legs) and the alerts; returns each province's
    statement ``prefund`` block."""
    scheme = cycle.scheme
    nets = {adm: p.net for adm, p in figures.netting.nets.items() if p.net != 0}
    reference = cycle_journal_reference(scheme, cycle.clr_date)
    if nets:
        journal_entry_post(
            reference=reference,
            description=f"{scheme} net positions of {cycle.clr_date}",
            legs=[(settlement_ledger_account(scheme, adm), -net) for adm, net in sorted(nets.items())],
            scheme=scheme,
        )
    has_account = set(
        PrefundAccount.objects.filter(scheme=scheme, admdvs__in=provinces).values_list("admdvs", flat=True)
    )
    ratio = Decimal(str(settings.LOW_PREFUND_RATIO))
    due = dt.datetime.combine(cycle.clr_date + dt.timedelta(days=1), dt.time(17, 0), tzinfo=cyc.SHANGHAI)
    blocks: dict[str, dict[str, Any]] = {}
    for adm in provinces:
        if adm not in has_account and adm not in nets:
            blocks[adm] = {"before": "0.00", "after": "0.00", "alerts": []}
            continue
        account = prefund_account_lock(adm, scheme=scheme)
        before = account.balance
        if adm in nets:
            prefund_posting_write(
                account=account,
                kind=PrefundPosting.Kind.NET,
                amount=nets[adm],
                value_date=cycle.clr_date,
                reference=reference,
                actor=actor,
                cycle=cycle,
            )
        after = account.balance
        alerts = []
        threshold = round2(account.baseline * ratio)
        if after < threshold:
            Alert.objects.create(
                kind=Alert.Kind.LOW_PREFUND,
                admdvs=adm,
                cycle=cycle,
                amount=after,
                threshold=threshold,
                created_at=_closed_at(cycle),
            )
            alerts.append({"kind": "low_prefund", "balance": money(after), "threshold": money(threshold)})
            logger.warning("low_prefund %s balance=%s threshold=%s", adm, after, threshold)
        if after < 0:
            Alert.objects.create(
                kind=Alert.Kind.FUNDING_CALL,
                admdvs=adm,
                cycle=cycle,
                amount=-after,
                due_at=due,
                created_at=_closed_at(cycle),
            )
            alerts.append({"kind": "funding_call", "amount": money(-after), "due_at": utc_time(due)})
            logger.warning("funding_call %s amount=%s due=%s", adm, -after, utc_time(due))
        blocks[adm] = {"before": money(before), "after": money(after), "alerts": alerts}
    return blocks


def _refuse_out_of_range(clr_date: dt.date, figures: Figures) -> None:
    """``422 amount_out_of_range`` (logged at CRITICAL) when a figure the close would write leaves
    the 14-digit money format: the close rolls back and the cycle stays ``cut`` for an operator,
    rather than failing later on a numeric overflow (docs/decisions.md §Money beyond 14 digits).
    Prefund balances are checked by :func:`prefund_posting_write` the same way."""
    amounts = netting_amounts(figures.netting)
    amounts += [amount for _, amount in figures.intra.values()]
    amounts += [r.amount for r in (*figures.remittance, *figures.intra_remittance)]
    if all(money_in_range(a) for a in amounts):
        return
    logger.critical("close of %s refused: a figure exceeds the 14-digit money format", clr_date)
    raise DomainError(
        "amount_out_of_range", f"a figure of the cycle {clr_date} exceeds the 14-digit money format"
    )


def _write_close(cycle: Cycle, actor: str) -> None:
    figures = cycle_figures(cycle.clr_date, scheme=cycle.scheme)
    _refuse_out_of_range(cycle.clr_date, figures)
    prev = (
        CycleHead.objects.filter(cycle__scheme=cycle.scheme, cycle__clr_date__lt=cycle.clr_date)
        .order_by("-cycle__clr_date")
        .values_list("sha256", flat=True)
        .first()
    ) or GENESIS
    head = head_document(
        clr_date=cycle.clr_date,
        closed_at=_closed_at(cycle),
        figures=figures,
        prev_head_sha256=prev,
        scheme=cycle.scheme,
    )
    head_bytes = canonical_bytes(head)
    head_sha = sha256_hex(head_bytes)
    key = signing_key(cycle.key_id)
    n = figures.netting
    CycleHead.objects.create(
        cycle=cycle,
        canonical=head_bytes,
        sha256=head_sha,
        signature=key.sign(head_bytes),
        key_id=key.key_id,
        item_cnt=n.item_cnt,
        tree_size=figures.tree_size,
        gross=n.gross,
        net_funding=n.net_funding,
        netting_efficiency=n.netting_efficiency,
        merkle_root=figures.merkle_root.hex(),
        block_size=figures.block_size,
        block_hashes=b"".join(figures.block_hashes),
    )
    BilateralPosition.objects.bulk_create(
        [
            BilateralPosition(cycle=cycle, payer=b.payer, payee=b.payee, cnt=b.cnt, amount=b.amount)
            for b in n.bilateral
        ]
    )
    Remittance.objects.bulk_create(
        [
            Remittance(
                cycle=cycle,
                admdvs=r.admdvs,
                fixmedins_code=r.fixmedins_code,
                intra=False,
                cnt=r.cnt,
                amount=r.amount,
            )
            for r in figures.remittance
        ]
        + [
            Remittance(
                cycle=cycle,
                admdvs=r.admdvs,
                fixmedins_code=r.fixmedins_code,
                intra=True,
                cnt=r.cnt,
                amount=r.amount,
            )
            for r in figures.intra_remittance
        ]
    )
    accounts = list(PrefundAccount.objects.filter(scheme=cycle.scheme).values_list("admdvs", flat=True))
    provinces = statement_provinces(figures, accounts)
    NetPosition.objects.bulk_create(
        [
            NetPosition(
                cycle=cycle,
                admdvs=adm,
                receivable=n.nets[adm].receivable if adm in n.nets else ZERO,
                payable=n.nets[adm].payable if adm in n.nets else ZERO,
                net=n.nets[adm].net if adm in n.nets else ZERO,
                item_cnt=n.nets[adm].item_cnt if adm in n.nets else 0,
                intra_cnt=figures.intra.get(adm, (0, ZERO))[0],
                intra_amount=figures.intra.get(adm, (0, ZERO))[1],
            )
            for adm in provinces
        ]
    )
    prefund = _post_prefunds(cycle, figures, provinces, actor)
    for adm in provinces:
        doc = scheme_statement_document(
            scheme=cycle.scheme,
            admdvs=adm,
            clr_date=cycle.clr_date,
            head_sha256=head_sha,
            figures=figures,
            prefund=prefund[adm],
        )
        data = canonical_bytes(doc)
        Statement.objects.create(
            cycle=cycle, admdvs=adm, canonical=data, signature=key.sign(data), key_id=key.key_id
        )
    cyc.cycle_transition(cycle, Cycle.Status.CLOSED, actor=actor, at=cycle.closed_at)
    audit_log(
        actor=actor,
        role="clearing_staff",
        action="cycle_close",
        object_type="cycle",
        object_id=cycle.clr_date.isoformat()
        if cycle.scheme == Scheme.MEDICAL
        else f"{cycle.scheme}:{cycle.clr_date.isoformat()}",
        detail={"head_sha256": head_sha, "item_cnt": n.item_cnt},
    )
    logger.info(
        "closed %s %s items=%s gross=%s net_funding=%s efficiency=%s",
        cycle.scheme,
        cycle.clr_date,
        n.item_cnt,
        n.gross,
        n.net_funding,
        n.netting_efficiency,
    )


def cycle_close(*, clr_date: dt.date, actor: str, scheme: str = Scheme.MEDICAL) -> Cycle:
    """Cut and close the ``scheme``'s cycle of ``clr_date`` (Asia/Shanghai business day); idempotent.

    Returns the closed :class:`Cycle` (its ``head`` holds the signed bytes). An already closed
    date is a no-op answering the existing head. Raises ``409 previous_cycle_open`` when an earlier
    day is not closed, ``422 cycle_not_open`` for a date after the open cycle's (clearing.md §Cycles),
    ``422 amount_out_of_range`` when a figure or a resulting prefund balance would leave the
    14-digit money format (nothing of the close is written; the cycle stays ``cut``).

    Every path (beat, the staff endpoint's task, ``close_cycle``) seals the audit log first
    (spec/security.md §Audit: "before each close"), so a close never leaves a day's records unsealed.
    """
    audit_seal()
    started, closed_here = time.monotonic(), False
    cycle = _cut(clr_date, actor, scheme)
    if cycle.status == Cycle.Status.CLOSED:
        return cycle
    try:
        with transaction.atomic():
            cycle = Cycle.objects.select_for_update(no_key=True).get(pk=cycle.pk)
            if cycle.status != Cycle.Status.CLOSED:
                _write_close(cycle, actor)
                closed_here = True
    except IntegrityError:
        # A concurrent close won the unique constraints; its result is the answer.
        cycle = Cycle.objects.get(pk=cycle.pk)
        if cycle.status != Cycle.Status.CLOSED:
            raise
        closed_here = False
    if closed_here:
        _close_recorded(cycle.pk, time.monotonic() - started)
    return Cycle.objects.get(pk=cycle.pk)


def _close_recorded(cycle_pk: int, seconds: float) -> None:
    """``kuasheng_cycle_close_duration_seconds`` and ``…_items_total`` once the close is written."""
    head = CycleHead.objects.filter(cycle_id=cycle_pk).values_list("tree_size", "cycle__scheme").first()
    tree_size, scheme = head if head is not None else (0, Scheme.MEDICAL)
    metrics.cycle_close_recorded(scheme=scheme, seconds=seconds, items=tree_size or 0)


def cycles_due(now: dt.datetime | None = None, *, scheme: str = Scheme.MEDICAL) -> list[dt.date]:
    """The scheme's dates to close now, oldest first: every day before its open cycle's, from its
    first cycle not yet closed (days without items included, as empty cycles)."""
    cycles = Cycle.objects.filter(scheme=scheme)
    open_date = cyc.open_cycle_date(now, scheme=scheme)
    last = cycles.filter(status=Cycle.Status.CLOSED).aggregate(m=Max("clr_date"))["m"]
    if last is not None:
        start = last + dt.timedelta(days=1)
    else:
        first = cycles.order_by("clr_date").first()
        start = first.clr_date if first is not None else None
    if start is None:
        return []
    return [start + dt.timedelta(days=i) for i in range((open_date - start).days)]


def close_time_of(clr_date: dt.date) -> dt.datetime:
    """When the nightly job may close ``clr_date``: 00:30 Asia/Shanghai of the next day
    (spec/clearing.md §Cycles)."""
    return dt.datetime.combine(clr_date + dt.timedelta(days=1), CLOSE_TIME, tzinfo=cyc.SHANGHAI)


def cycles_close_due(*, actor: str, schemes: tuple[str, ...] | None = None, now: dt.datetime | None = None,
                     scheduled: bool = False) -> list[Cycle]:
    """Close every cut cycle, oldest first, one scheme after the other (default every scheme,
    medical first). A scheme whose close fails is logged and skipped so the next scheme still
    closes; the first error is raised after every scheme was tried. Returns the closed cycles.

    ``scheduled`` (the beat job, re-run every 5 minutes): only the dates whose close time
    (:func:`close_time_of`) has passed, so the job is a no-op between runs and resumes a close
    that a killed worker left ``cut``. Without it (``manage.py close_cycle``): every cut date now.
    """
    now = now or timezone.now()
    closed: list[Cycle] = []
    failure: Exception | None = None
    for scheme in schemes or tuple(Scheme.values):
        try:
            for d in cycles_due(now, scheme=scheme):
                if scheduled and now < close_time_of(d):
                    break
                closed.append(cycle_close(clr_date=d, actor=actor, scheme=scheme))
        except Exception as exc:  # noqa: BLE001 - re-raised below, after the other schemes
            logger.exception("close of the %s scheme failed", scheme)
            failure = failure or exc
    if failure is not None:
        raise failure
    return closed
