"""Acceptance records, single and batch (spec/cards.md §Acceptance records): a single record is a
batch of one. Set-based: a batch reads its serials, cards with their histories, versions and rules
with one query each (:class:`cards.services.judge.Snapshot`), judges every record in memory, and
writes its records, clearing items and refusals with one statement each
(:mod:`cards.services.acceptance_writes`), in one transaction holding the card cycle open.

Exactly-once per (acceptor, ``acpt_serial``) under a unique constraint: a known serial with the
same canonical request answers the stored record (``duplicate``); other content → ``409
acpt_serial_conflict``; a refused record stores nothing (its serial may be sent again, also later
in the same batch). A concurrent twin that commits first is not inserted (``ON CONFLICT DO
NOTHING``) and is answered from the stored record exactly as a later resend would be.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from cards.models import Acceptance, AcceptanceRefusal, Acceptor
from cards.requests import AcceptanceRequest, parse_acceptance
from cards.services.acceptance_writes import AcceptedRow, accepted_rows_write, acpt_ids, clearing_item_of
from cards.services.denylist import fresh_latest
from cards.services.judge import Snapshot, Verdict, judge
from clearing.models import Scheme
from clearing.services.cycles import business_day, cycle_for_write
from core.audit import audit_log
from core.bulk import values_in
from core.errors import DomainError

MAX_BATCH = 1000
_acpt_ids, _item = acpt_ids, clearing_item_of  # the names other modules imported before (use the new ones)


@dataclass
class Result:
    """One record's answer: ``status`` 200/201 with ``acceptance`` (the stored record on a replay,
    ``duplicate`` set), or an error status with the problem (``error``)."""

    status: int
    acceptance: AcceptedRow | Acceptance | None = None
    duplicate: bool = False
    error: DomainError | None = None
    card_no: str = ""


def _conflict() -> DomainError:
    return DomainError(
        "acpt_serial_conflict", "this serial was accepted with other content", status=409, field="acpt_serial"
    )


def _stored(acceptor: Acceptor, serials: Iterable[str]) -> dict[str, Acceptance]:
    """The stored records of ``acceptor`` among ``serials``: which exist (one query; usually
    none), then those records."""
    mine = Acceptance.objects.filter(acceptor=acceptor)
    found = [s for (s,) in values_in(mine, ["acpt_serial"], "acpt_serial", set(serials))]
    if not found:
        return {}
    return {a.acpt_serial: a for a in mine.filter(acpt_serial__in=found).select_related("acceptor")}


def _row(
    req: AcceptanceRequest, v: Verdict, acceptor: Acceptor, clr_date: dt.date, acpt_id: str
) -> AcceptedRow:
    card = v.card
    return AcceptedRow(
        acpt_id=acpt_id,
        acpt_serial=req.acpt_serial,
        fingerprint=req.fingerprint,
        card_id=card.id,
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
        issuer_admdvs=card.issuer_admdvs,
        payer=card.issuer_province,
        acceptor_code=acceptor.acceptor_code,
        acceptor_admdvs=acceptor.admdvs,
        payee=acceptor.province,
        clr_date=clr_date,
    )


def _judge_all(
    acceptor: Acceptor,
    reqs: list[tuple[int, AcceptanceRequest]],
    snap: Snapshot,
    stored: dict[str, Acceptance],
    results: list[Result | None],
    refusals: list[AcceptanceRefusal],
) -> list[tuple[int, AcceptanceRequest, Verdict]]:
    """Steps 2–9 in record order; fills ``results`` for duplicates, conflicts and refusals and
    returns the records to store."""
    accepted: list[tuple[int, AcceptanceRequest, Verdict]] = []
    taken: dict[str, AcceptanceRequest] = {}
    for i, req in reqs:
        prior = stored.get(req.acpt_serial)
        twin = taken.get(req.acpt_serial)
        if prior is not None or twin is not None:
            same = (prior.fingerprint if prior is not None else twin.fingerprint) == req.fingerprint  # type: ignore[union-attr]
            if not same:
                results[i] = Result(status=409, error=_conflict())
                continue
            if prior is not None:
                results[i] = Result(status=200, acceptance=prior, duplicate=True, card_no=req.card_no)
                continue
        try:
            verdict = judge(snap, req)
        except DomainError as err:
            results[i] = Result(status=err.status, error=err, card_no=req.card_no)
            card = snap.card(req.card_no)
            refusals.append(
                AcceptanceRefusal(
                    acceptor=acceptor,
                    received_date=business_day(snap.now),
                    issuer_province=card.issuer_province if card else "",
                    code=err.code,
                    at=snap.now,
                )
            )
            continue
        if twin is not None:  # same content accepted earlier in this batch: a duplicate of it
            results[i] = Result(status=200, duplicate=True, card_no=req.card_no)
            continue
        taken[req.acpt_serial] = req
        accepted.append((i, req, verdict))
    return accepted


def _attempt(
    acceptor: Acceptor, parsed: list[AcceptanceRequest | DomainError], now: dt.datetime
) -> list[Result]:
    results: list[Result | None] = [None] * len(parsed)
    reqs = [(i, r) for i, r in enumerate(parsed) if isinstance(r, AcceptanceRequest)]
    for i, r in enumerate(parsed):
        if isinstance(r, DomainError):
            results[i] = Result(status=r.status, error=r)
    latest = fresh_latest(now=now)
    day = business_day(now)
    with transaction.atomic():
        cycle = cycle_for_write(scheme=Scheme.CARD)
        stored = _stored(acceptor, (r.acpt_serial for _, r in reqs))
        snap = Snapshot.load(acceptor, [r for _, r in reqs], now=now, latest=latest)
        refusals: list[AcceptanceRefusal] = []
        accepted = _judge_all(acceptor, reqs, snap, stored, results, refusals)
        ids = acpt_ids(day, len(accepted))
        rows = [
            _row(req, v, acceptor, cycle.clr_date, aid)
            for (_, req, v), aid in zip(accepted, ids, strict=True)
        ]
        inserted = accepted_rows_write(rows, acceptor=acceptor, cycle=cycle, now=now, received_date=day)
        raced = _stored(acceptor, (r.acpt_serial for r in rows if r.acpt_serial not in inserted))
        by_serial: dict[str, AcceptedRow | Acceptance] = {}
        for (i, req, _), row in zip(accepted, rows, strict=True):
            if row.acpt_serial in inserted:
                by_serial[row.acpt_serial] = row
                results[i] = Result(status=201, acceptance=row, card_no=req.card_no)
                continue
            prior = raced[row.acpt_serial]  # a concurrent batch committed this serial first
            if prior.fingerprint != row.fingerprint:
                results[i] = Result(status=409, error=_conflict())
                continue
            by_serial[row.acpt_serial] = prior
            results[i] = Result(status=200, acceptance=prior, duplicate=True, card_no=req.card_no)
        for i, res in enumerate(results):
            if res is not None and res.duplicate and res.acceptance is None:
                twin = by_serial.get(parsed[i].acpt_serial)  # type: ignore[union-attr]
                if twin is None:  # its first sending lost the race with other content
                    results[i] = Result(status=409, error=_conflict())
                else:
                    res.acceptance = twin
        AcceptanceRefusal.objects.bulk_create(refusals)
        if rows or refusals:
            refused: dict[str, int] = {}
            for refusal in refusals:
                refused[refusal.code] = refused.get(refusal.code, 0) + 1
            audit_log(
                actor=acceptor.acceptor_code,
                role="acceptor",
                action="card_acceptances",
                object_type="acceptor",
                object_id=acceptor.acceptor_code,
                detail={
                    "accepted": [r.acpt_id for r in rows if r.acpt_serial in inserted],
                    "refused": refused,
                },
            )
    return [r for r in results if r is not None]


def acceptances_record(
    *, acceptor: Acceptor, records: list[Any], now: dt.datetime | None = None
) -> list[Result]:
    """Check and store ``records`` (JSON objects) of ``acceptor`` in order; one :class:`Result`
    per record. The whole batch is one transaction."""
    now = now or timezone.now()
    parsed: list[AcceptanceRequest | DomainError] = []
    for rec in records:
        try:
            parsed.append(parse_acceptance(rec, now=now))
        except DomainError as err:
            parsed.append(err)
    return _attempt(acceptor, parsed, now)
