"""What a batch of settlements reads once for all its items (spec/hospital-api.md §POST
/settlements/batch). A single settlement is a batch of one and reads the same.

:func:`batch_lookups_load` runs inside the writing transaction, after the batch locked its persons
``FOR UPDATE`` in primary-key order (so two batches never deadlock each other), and reads, one
query each: the persons' accumulators and filings, and (from the
process cache, :mod:`settlement.services.reference_cache`) the policies and catalogue rows. Items
then need no query; the drafts keep the lookups current (balances, accumulators, serials, a
temporary filing), so the results are those of settling the items one by one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from accounts.models import Filing, Institution, Person
from settlement import eligibility as elig
from settlement.models import Accumulator, Settlement
from settlement.requests import SettlementRequest
from settlement.selectors import settlements_by_serials
from settlement.services.accumulators import AccumulatorKey, accumulators_of
from settlement.services.reference_cache import ReferenceSnapshot, reference_snapshot


@dataclass
class BatchLookups:
    """``persons``: locked for the transaction (``lock``) or plain (a preview); ``known``: settlements
    of the batch's serials; ``accumulators`` by :data:`AccumulatorKey`; ``filings``: the persons'
    unrevoked filings for the institution's areas, newest first; ``reference``: policies and
    catalogue; ``clr_date``: the cycle the items go to."""

    institution: Institution
    persons: dict[int, Person]
    known: dict[str, Settlement]
    accumulators: dict[AccumulatorKey, Accumulator]
    filings: dict[int, list[Filing]]
    reference: ReferenceSnapshot
    clr_date: dt.date

    def filing_recorded(self, filing: Filing) -> None:
        """A temporary filing an item records: later items of its person see it."""
        rows = self.filings.setdefault(filing.person_id, [])
        rows.append(filing)
        rows.sort(key=lambda f: (-f.begndate.toordinal(), -(f.id or 1 << 62)))


def batch_lookups_load(
    institution: Institution,
    persons: dict[int, Person],
    requests: list[SettlementRequest],
    *,
    clr_date: dt.date,
    known: dict[str, Settlement] | None = None,
) -> BatchLookups:
    """Read everything the items of ``requests`` need for ``persons`` (locked by the caller when it
    writes, see the module docstring). ``known``: the serials the caller already read (a twin
    recorded since then fails the batch's insert on the unique constraint and is replayed)."""
    if known is None:
        known = settlements_by_serials(institution, [r.serial for r in requests])
    reference = reference_snapshot()
    reference.load(
        regions=elig.reference_regions(list(persons.values())),
        catalogue=elig.catalogue_keys(institution.province, requests),
    )
    return BatchLookups(
        institution=institution,
        persons=persons,
        known=dict(known),
        accumulators=accumulators_of(persons),
        filings=elig.filing_rows(list(persons), institution),
        reference=reference,
        clr_date=clr_date,
    )
