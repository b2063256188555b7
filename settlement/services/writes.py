"""Writing a batch's drafts: one multi-row statement per table for the whole batch (spec/hospital-api.md
§POST /settlements/batch; the same for a batch of one). Inside the caller's transaction, under the
persons' locks and the open cycle's shared lock (:mod:`settlement.services.batch`).

Rows go through :func:`core.bulk.rows_insert` (``INSERT … SELECT FROM unnest(…)``, no per-value ORM
preparation). Exactly once: the settlements are inserted ``ON CONFLICT (institution_id,
medins_setl_id) DO NOTHING``; a serial that a concurrent twin committed first comes back missing and
:class:`SerialTaken` is raised before anything else is written, so the caller rolls back and replays.
"""

from __future__ import annotations

from django.db import IntegrityError

from accounts.models import Filing, Person
from clearing.models import Cycle
from clearing.services.items import ItemEntry, clearing_items_record
from core.audit import audit_principal_many
from core.bulk import rows_insert, rows_update
from core.principals import Principal
from settlement.models import FeeDetail, Settlement
from settlement.services.accumulators import accumulators_write
from settlement.services.drafts import Draft

SERIAL_KEY = ("institution_id", "medins_setl_id")  # settlement_medins_setl_id_unique


class SerialTaken(IntegrityError):
    """A serial of the batch was recorded by a concurrent twin that committed first (``serials``)."""

    def __init__(self, serials: set[str]) -> None:
        super().__init__(f"medins_setl_id already recorded: {sorted(serials)}")
        self.serials = serials


def drafts_write(drafts: list[Draft], *, cycle: Cycle, principal: Principal) -> None:
    """Temporary filings, settlements, fee lines, accumulators (final values per row), balances,
    clearing items and audit records of ``drafts``: at most one statement each. Raises
    :class:`SerialTaken` (a twin's serial) or the database's error; the caller rolls back."""
    if not drafts:
        return
    filings: list[Filing] = [d.filing for d in drafts if d.filing is not None]
    if filings:
        Filing.objects.bulk_create(filings)
    rows = [d.settlement for d in drafts]
    written = rows_insert(Settlement, rows, conflict=SERIAL_KEY, returning=("id", "medins_setl_id"))
    if len(written) != len(rows):
        raise SerialTaken({s.medins_setl_id for s in rows} - {serial for _, serial in written})
    rows_insert(FeeDetail, [ln for d in drafts for ln in d.lines], returning=())
    accumulators_write({(a.person_id, a.year, a.insutype, a.med_type_group): a
                        for a in (d.accumulator for d in drafts)}.values())
    # each person's balance after its last draft (the draft's own figure: a draft written before
    # draft_apply, as one by one, still moves the balance)
    rows_update(Person, {d.settlement.person_id: {"acct_balance": d.balance}
                         for d in drafts if d.settlement.acct_pay})
    code = drafts[0].settlement.institution.fixmedins_code
    clearing_items_record(
        entries=[
            ItemEntry(setl_id=s.setl_id, kind="settlement", payer=s.payer, payee=s.payee,
                      clr_amt=s.clr_amt, fixmedins_code=code)
            for s in rows
        ],
        cycle=cycle,
    )
    audit_principal_many(principal, "settlement.create", "settlement", [
        (s.setl_id, {"medins_setl_id": s.medins_setl_id, "clr_amt": str(s.clr_amt),
                     "filing_created": s.filing_created_now})
        for s in rows
    ])
