"""The one writer of accumulators (spec/policy.md §The split: what a settlement moves, a reversal
moves back). Callers hold the row lock of every person whose rows they write (every accumulator
writer takes it), so read-modify-write is safe; sums are done in ``Decimal`` here, not as SQL
arithmetic (which SQLite would do in binary floating point).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from core.bulk import rows_insert, rows_where_in
from settlement.models import Accumulator

AccumulatorKey = tuple[int, int, str, str]  # person id, year, insutype, med_type_group
KEY_COLUMNS = ("person_id", "year", "insutype", "med_type_group")  # accumulator_unique


def accumulator_key(a: Accumulator) -> AccumulatorKey:
    return (a.person_id, a.year, a.insutype, a.med_type_group)


def accumulators_of(person_ids: Iterable[int]) -> dict[AccumulatorKey, Accumulator]:
    """Every accumulator row of the persons, by key (one query)."""
    rows = rows_where_in(Accumulator, "person_id", list(person_ids))
    return {accumulator_key(a): a for a in rows}


def accumulator_moved(
    acc: Accumulator | None, key: AccumulatorKey, dedc: Decimal, fund: Decimal
) -> Accumulator:
    """A new (unsaved) row: ``acc`` (None: zeros) plus the deductible and fund moved; ``acc`` is not
    changed, so a caller that drops the result keeps a true copy."""
    person_id, year, insutype, group = key
    return Accumulator(
        pk=acc.pk if acc else None,
        person_id=person_id,
        year=year,
        insutype=insutype,
        med_type_group=group,
        deductible_used=(acc.deductible_used if acc else Decimal("0.00")) + dedc,
        fund_paid=(acc.fund_paid if acc else Decimal("0.00")) + fund,
    )


def accumulators_write(rows: Iterable[Accumulator]) -> None:
    """Store the rows' values, inserting the missing ones: one ``INSERT … ON CONFLICT DO UPDATE``
    for all of them (at most one row per key; :func:`core.bulk.rows_insert`)."""
    rows_insert(
        Accumulator,
        [
            Accumulator(
                person_id=a.person_id,
                year=a.year,
                insutype=a.insutype,
                med_type_group=a.med_type_group,
                deductible_used=a.deductible_used,
                fund_paid=a.fund_paid,
            )
            for a in rows
        ],
        conflict=KEY_COLUMNS,
        update=("deductible_used", "fund_paid"),
        returning=(),
    )


def accumulator_move(*, person_id: int, key: AccumulatorKey, dedc: Decimal, fund: Decimal) -> None:
    """Move one accumulator row by ``dedc``/``fund`` (negative for a reversal). Caller holds the
    person's lock."""
    acc = Accumulator.objects.filter(
        person_id=person_id, year=key[1], insutype=key[2], med_type_group=key[3]
    ).first()
    accumulators_write([accumulator_moved(acc, key, dedc, fund)])
