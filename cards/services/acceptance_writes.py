"""Writing a batch's accepted records (spec/cards.md §Acceptance records, step 10): ``acpt_id``s,
the records and their card-scheme clearing items, each with one statement for the whole batch
(:func:`core.bulk.insert_rows`), inside the caller's transaction holding the open card cycle.

Exactly once per (acceptor, ``acpt_serial``): the insert is ``ON CONFLICT (acceptor,
acpt_serial) DO NOTHING RETURNING acpt_serial``, so a serial that a concurrent batch committed
first is simply not inserted (the caller answers it from the stored record); rows go in serial
order, so two batches naming the same serials wait for each other in one order (no deadlock).
Only the inserted rows get clearing items.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction

from cards.models import Acceptance, AcceptanceDaySequence, Acceptor
from clearing.leaf import card_leaf_hash
from clearing.models import ClearingItem, Cycle
from clearing.services.items import clearing_item_rows_record
from core.bulk import insert_rows


@dataclass(slots=True)
class AcceptedRow:
    """An accepted record as written and answered (the fields of ``Acceptance`` the answer and
    the clearing item need; ``card_id`` is the registry row)."""

    acpt_id: str
    acpt_serial: str
    fingerprint: str
    card_id: int
    svc_type: str
    used_at: dt.datetime
    mode: str
    list_version: int | None
    list_amt: Decimal
    amt: Decimal
    pay_src: str
    benefit_code: str
    pay_prop: Decimal
    late_listing: bool
    issuer_admdvs: str
    payer: str
    acceptor_code: str
    acceptor_admdvs: str
    payee: str
    clr_date: dt.date
    kind: str = Acceptance.Kind.ACCEPTANCE

    @property
    def cleared(self) -> bool:
        """A free use (``amt`` 0) is recorded but never cleared."""
        return self.amt != 0


# the per-row columns written, in the order of :func:`_values`
ROW_FIELDS = (
    "acpt_id",
    "acpt_serial",
    "fingerprint",
    "card_id",
    "svc_type",
    "used_at",
    "mode",
    "list_version",
    "list_amt",
    "amt",
    "pay_src",
    "benefit_code",
    "pay_prop",
    "late_listing",
    "cleared",
    "issuer_admdvs",
    "payer",
)


def _values(r: AcceptedRow) -> tuple:
    return (
        r.acpt_id,
        r.acpt_serial,
        r.fingerprint,
        r.card_id,
        r.svc_type,
        r.used_at,
        r.mode,
        r.list_version,
        r.list_amt,
        r.amt,
        r.pay_src,
        r.benefit_code,
        r.pay_prop,
        r.late_listing,
        r.amt != 0,
        r.issuer_admdvs,
        r.payer,
    )


def acpt_ids(day: dt.date, n: int) -> list[str]:
    """``n`` fresh ``acpt_id``s: ``CA`` + day + a daily sequence, zero-padded to
    ``CARD_ACPT_SEQ_DIGITS``, growing in the order given. PostgreSQL: a sequence per day (never
    blocks concurrent batches; gaps allowed); SQLite: a counter row (writers are serialised)."""
    digits = int(getattr(settings, "CARD_ACPT_SEQ_DIGITS", 9))
    if n <= 0:
        return []
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
    if numbers[-1] >= 10**digits:
        raise RuntimeError(f"the daily acpt_id sequence of {day} is exhausted ({digits} digits)")
    prefix = f"CA{day:%Y%m%d}"
    return [f"{prefix}{k:0{digits}d}" for k in numbers]


def accepted_rows_write(
    rows: list[AcceptedRow], *, acceptor: Acceptor, cycle: Cycle, now: dt.datetime, received_date: dt.date
) -> set[str]:
    """Insert ``rows`` of ``acceptor`` and the clearing items of those inserted with ``amt`` ≠ 0
    into ``cycle``. Returns the serials inserted; the others were committed by a concurrent batch
    first (the caller answers them from the stored records)."""
    ordered = sorted(rows, key=lambda r: r.acpt_serial)
    inserted = set(insert_rows_acceptances(ordered, acceptor=acceptor, now=now, received_date=received_date))
    date = cycle.clr_date.isoformat()
    items = [
        (
            r.acpt_id,
            r.kind,
            r.payer,
            r.payee,
            r.amt,
            r.acceptor_code,
            card_leaf_hash(
                acpt_id=r.acpt_id,
                kind=r.kind,
                payer=r.payer,
                payee=r.payee,
                clr_amt=r.amt,
                acceptor_code=r.acceptor_code,
                clr_date=date,
            ),
        )
        for r in rows
        if r.amt != 0 and r.acpt_serial in inserted
    ]
    clearing_item_rows_record(cycle=cycle, rows=items)
    return inserted


def insert_rows_acceptances(
    rows: list[AcceptedRow], *, acceptor: Acceptor, now: dt.datetime, received_date: dt.date
) -> list[str]:
    """One ``INSERT … ON CONFLICT (acceptor, acpt_serial) DO NOTHING``; the serials inserted."""
    if not rows:
        return []
    first = rows[0]
    return insert_rows(
        Acceptance,
        ROW_FIELDS,
        [_values(r) for r in rows],
        fixed={
            "kind": Acceptance.Kind.ACCEPTANCE,
            "acceptor_id": acceptor.pk,
            "acceptor_admdvs": first.acceptor_admdvs,
            "payee": first.payee,
            "clr_date": first.clr_date,
            "received_at": now,
            "received_date": received_date,
            "reason": "",
        },
        conflict=("acceptor", "acpt_serial"),
        returning="acpt_serial",
    )


def clearing_item_of(a: Acceptance) -> ClearingItem:
    """The clearing item of one stored record (a reversal: one row, through the ORM)."""
    return ClearingItem(
        setl_id=a.acpt_id,
        kind=a.kind,
        payer=a.payer,
        payee=a.payee,
        clr_amt=a.amt,
        fixmedins_code=a.acceptor.acceptor_code,
        leaf_hash=card_leaf_hash(
            acpt_id=a.acpt_id,
            kind=a.kind,
            payer=a.payer,
            payee=a.payee,
            clr_amt=a.amt,
            acceptor_code=a.acceptor.acceptor_code,
            clr_date=a.clr_date.isoformat(),
        ),
    )
