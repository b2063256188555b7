"""Acceptance records, single and batch (spec/cards.md §Acceptance records): a single record is a
batch of one. Set-based: a batch reads its serials, cards, histories, versions and rules with one
query each (:class:`cards.services.judge.Snapshot`), and writes its records, clearing items and
refusals with one multi-row insert each, in one transaction holding the card cycle open.

Exactly-once per (acceptor, ``acpt_serial``) under a unique constraint: a known serial with the
same canonical request answers the stored record (``duplicate``); other content → ``409
acpt_serial_conflict``; a refused record stores nothing (its serial may be sent again, also later
in the same batch). A concurrent twin that commits first makes this batch retry, and then see it.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cards.models import Acceptance, AcceptanceDaySequence, AcceptanceRefusal, Acceptor
from cards.requests import AcceptanceRequest, parse_acceptance
from cards.services.denylist import fresh_latest
from cards.services.judge import Snapshot, Verdict, judge
from cards.services.registry import card_no_index
from clearing.leaf import card_leaf_bytes, leaf_hash
from clearing.models import ClearingItem, Scheme
from clearing.services.cycles import business_day, clearing_items_bulk_record, cycle_for_write
from core.audit import audit_log
from core.errors import DomainError

logger = logging.getLogger("kuasheng.cards.acceptances")
MAX_BATCH = 1000
RETRIES = 3


@dataclass
class Result:
    """One record's answer: ``status`` 200/201 with ``acceptance`` (``duplicate`` on a replay), or
    an error status with the problem (``error``)."""

    status: int
    acceptance: Acceptance | None = None
    duplicate: bool = False
    error: DomainError | None = None
    card_no: str = ""


def _acpt_ids(day: dt.date, n: int) -> list[str]:
    """``n`` fresh ``acpt_id``s: ``CA`` + day + a daily sequence, zero-padded to
    ``CARD_ACPT_SEQ_DIGITS``. PostgreSQL: a sequence per day (never blocks concurrent batches;
    gaps allowed); SQLite: a counter row (writers are serialised anyway)."""
    from django.conf import settings

    digits = int(getattr(settings, "CARD_ACPT_SEQ_DIGITS", 9))
    if connection.vendor == "postgresql":
        name = f"cards_acpt_seq_{day:%Y%m%d}"
        with connection.cursor() as cur:
            with transaction.atomic():
                cur.execute(f"CREATE SEQUENCE IF NOT EXISTS {name}")  # noqa: S608 - a date, not input
            cur.execute(f"SELECT nextval('{name}') FROM generate_series(1, %s)", [n])  # noqa: S608
            numbers = [row[0] for row in cur.fetchall()]
    else:
        AcceptanceDaySequence.objects.get_or_create(day=day)
        row = AcceptanceDaySequence.objects.select_for_update().get(day=day)
        numbers = list(range(row.last + 1, row.last + n + 1))
        AcceptanceDaySequence.objects.filter(day=day).update(last=row.last + n)
    if numbers and numbers[-1] >= 10**digits:
        raise RuntimeError(f"the daily acpt_id sequence of {day} is exhausted ({digits} digits)")
    return [f"CA{day:%Y%m%d}{k:0{digits}d}" for k in numbers]


def _row(
    req: AcceptanceRequest,
    v: Verdict,
    acceptor: Acceptor,
    *,
    now: dt.datetime,
    clr_date: dt.date,
    acpt_id: str,
) -> Acceptance:
    card = v.card
    return Acceptance(
        acpt_id=acpt_id,
        acceptor=acceptor,
        acpt_serial=req.acpt_serial,
        fingerprint=req.fingerprint(),
        card=card,
        svc_type=req.svc_type,
        used_at=req.used_at,
        mode=req.mode,
        list_version=req.list_version,
        list_amt=req.list_amt,
        amt=req.amt,
        pay_src=req.pay_src,
        benefit_code=v.benefit_code,
        pay_prop=v.pay_prop,
        late_listing=v.late_listing,
        cleared=req.amt != 0,
        issuer_admdvs=card.issuer_admdvs,
        acceptor_admdvs=acceptor.admdvs,
        payer=card.issuer_province,
        payee=acceptor.province,
        clr_date=clr_date,
        received_at=now,
        received_date=business_day(now),
    )


def _item(a: Acceptance) -> ClearingItem:
    leaf = card_leaf_bytes(
        acpt_id=a.acpt_id,
        kind=a.kind,
        payer=a.payer,
        payee=a.payee,
        clr_amt=a.amt,
        acceptor_code=a.acceptor.acceptor_code,
        clr_date=a.clr_date,
    )
    return ClearingItem(
        setl_id=a.acpt_id,
        kind=a.kind,
        payer=a.payer,
        payee=a.payee,
        clr_amt=a.amt,
        fixmedins_code=a.acceptor.acceptor_code,
        leaf_hash=leaf_hash(leaf),
    )


def _attempt(
    acceptor: Acceptor, parsed: list[AcceptanceRequest | DomainError], now: dt.datetime
) -> list[Result]:
    results: list[Result | None] = [None] * len(parsed)
    reqs = [(i, r) for i, r in enumerate(parsed) if isinstance(r, AcceptanceRequest)]
    for i, r in enumerate(parsed):
        if isinstance(r, DomainError):
            results[i] = Result(status=r.status, error=r)
    latest = fresh_latest(now=now)
    with transaction.atomic():
        cycle = cycle_for_write(scheme=Scheme.CARD)
        stored = {
            a.acpt_serial: a
            for a in Acceptance.objects.filter(
                acceptor=acceptor, acpt_serial__in={r.acpt_serial for _, r in reqs}
            )
        }
        snap = Snapshot.load(acceptor, [r for _, r in reqs], now=now, latest=latest)
        accepted: list[tuple[int, AcceptanceRequest, Verdict]] = []
        taken: dict[str, AcceptanceRequest] = {}
        refusals = []
        for i, req in reqs:
            prior = stored.get(req.acpt_serial)
            twin = taken.get(req.acpt_serial)
            if prior is not None or twin is not None:
                same = (prior.fingerprint if prior is not None else twin.fingerprint()) == req.fingerprint()
                if same and prior is not None:
                    results[i] = Result(status=200, acceptance=prior, duplicate=True, card_no=req.card_no)
                    continue
                if not same:
                    results[i] = Result(
                        status=409,
                        error=DomainError(
                            "acpt_serial_conflict",
                            "this serial was accepted with other content",
                            status=409,
                            field="acpt_serial",
                        ),
                    )
                    continue
            try:
                verdict = judge(snap, req)
            except DomainError as err:
                results[i] = Result(status=err.status, error=err, card_no=req.card_no)
                card = snap.cards.get(card_no_index(req.card_no))
                refusals.append(
                    AcceptanceRefusal(
                        acceptor=acceptor,
                        received_date=business_day(now),
                        issuer_province=card.issuer_province if card else "",
                        code=err.code,
                        at=now,
                    )
                )
                continue
            if twin is not None:  # same content accepted earlier in this batch: a duplicate of it
                results[i] = Result(status=200, duplicate=True, card_no=req.card_no)
                continue
            taken[req.acpt_serial] = req
            accepted.append((i, req, verdict))
        ids = _acpt_ids(business_day(now), len(accepted)) if accepted else []
        rows = [
            _row(req, v, acceptor, now=now, clr_date=cycle.clr_date, acpt_id=aid)
            for (_, req, v), aid in zip(accepted, ids, strict=True)
        ]
        Acceptance.objects.bulk_create(rows)
        items = [_item(a) for a in rows if a.cleared]
        if items:
            clearing_items_bulk_record(cycle=cycle, items=items)
        AcceptanceRefusal.objects.bulk_create(refusals)
        for (i, req, _), row in zip(accepted, rows, strict=True):
            results[i] = Result(status=201, acceptance=row, card_no=req.card_no)
        by_serial = {a.acpt_serial: a for a in rows}
        for i, res in enumerate(results):
            if res is not None and res.duplicate and res.acceptance is None:
                res.acceptance = by_serial[parsed[i].acpt_serial]
        if rows or refusals:
            refused: dict[str, int] = {}
            for r in refusals:
                refused[r.code] = refused.get(r.code, 0) + 1
            audit_log(
                actor=acceptor.acceptor_code,
                role="acceptor",
                action="card_acceptances",
                object_type="acceptor",
                object_id=acceptor.acceptor_code,
                detail={"accepted": [a.acpt_id for a in rows], "refused": refused},
            )
    return [r for r in results if r is not None]


def acceptances_record(
    *, acceptor: Acceptor, records: list[Any], now: dt.datetime | None = None
) -> list[Result]:
    """Check and store ``records`` (JSON objects) of ``acceptor`` in order; one :class:`Result`
    per record. The whole batch is one transaction, retried when a concurrent batch committed a
    serial of it first (the retry then answers duplicate or conflict)."""
    now = now or timezone.now()
    parsed: list[AcceptanceRequest | DomainError] = []
    for rec in records:
        try:
            parsed.append(parse_acceptance(rec, now=now))
        except DomainError as err:
            parsed.append(err)
    for attempt in range(RETRIES):
        try:
            return _attempt(acceptor, parsed, now)
        except IntegrityError:
            if attempt == RETRIES - 1:
                raise
            logger.info("acceptance batch raced a concurrent one; retrying")
    raise AssertionError("unreachable")  # pragma: no cover
