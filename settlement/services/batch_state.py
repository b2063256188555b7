"""What one batch of settlements reads once for all its items (spec/hospital-api.md §POST
/settlements/batch), inside the batch's transaction and under its persons' locks.

The batch locks its persons up front in primary-key order (:func:`batch_lock_persons`), then
:func:`batch_state_load` reads in one query each: the serials already recorded, the persons'
accumulators and filings and the catalogue rows of every code of the batch. ``settle_locked`` takes the state
instead of querying per item, and keeps it current (balances, accumulators, serials) each time an
item's savepoint is released, so the results are those of settling the items one by one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from accounts.models import Institution, Person
from settlement import eligibility as elig
from settlement.models import Accumulator, Settlement
from settlement.requests import SettlementRequest
from settlement.services.settle import existing_by_serials


@dataclass
class BatchState:
    """What one batch transaction already holds, so that its items need no query for it
    (:func:`batch_state_load`; used by ``settlement.services.batch``).

    ``persons``: the batch's persons, locked ``FOR UPDATE`` for the transaction (their balances kept
    current by :func:`settle_locked`); ``known``: settlements of the batch's serials recorded before
    the lock was taken or by earlier items; ``accumulators`` by (person id, year, insutype, group)
    (only the locked persons' rows, which nobody else can change); ``catalogue`` rows of every code
    of the batch; ``filings``: the persons' unrevoked filings for the institution's areas
    (:func:`settlement.eligibility.filing_rows`); ``policies``: a
    :func:`settlement.eligibility.policy_for` cache."""

    persons: dict[int, Person]
    known: dict[str, Settlement]
    accumulators: dict[tuple[int, int, str, str], Accumulator]
    catalogue: dict[str, list[Any]]
    filings: dict[int, list[Any]]
    policies: dict[tuple, Any] = field(default_factory=dict)

    def filing_recorded(self, filing: Any) -> None:
        """A filing an item recorded (its savepoint released): later items of its person see it."""
        rows = self.filings.setdefault(filing.person_id, [])
        rows.append(filing)
        rows.sort(key=lambda f: (-f.begndate.toordinal(), -f.id))


def batch_lock_persons(person_ids: list[int]) -> dict[int, Person]:
    """Lock the persons ``FOR UPDATE`` in primary-key order (so batches never deadlock each other);
    returns them by id. Inside the caller's transaction."""
    ids = sorted(set(person_ids))
    return {p.pk: p for p in Person.objects.select_for_update().filter(pk__in=ids).order_by("pk")}


def batch_state_load(
    institution: Institution, persons: dict[int, Person], reqs: list[SettlementRequest]
) -> BatchState:
    """Read, once for the batch, under the persons' locks: known serials, accumulators, catalogue, filings."""
    accumulators = {
        (a.person_id, a.year, a.insutype, a.med_type_group): a
        for a in Accumulator.objects.filter(person_id__in=list(persons)).order_by()
    }
    return BatchState(
        persons=persons,
        known=existing_by_serials(institution, [r.medins_setl_id or "" for r in reqs]),
        accumulators=accumulators,
        catalogue=elig.catalogue_rows(institution.province, reqs),
        filings=elig.filing_rows(list(persons), institution),
    )

