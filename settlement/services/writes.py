"""Writing a batch's drafts: one multi-row statement per table for the whole batch (spec/hospital-api.md
§POST /settlements/batch; the same for a batch of one). Inside the caller's transaction, under the
persons' locks and the open cycle's shared lock (:mod:`settlement.services.batch`)."""

from __future__ import annotations

from accounts.models import Filing, Person
from clearing.models import Cycle
from clearing.services.items import ItemEntry, clearing_items_record
from core.audit import audit_principal_many
from core.principals import Principal
from settlement.models import FeeDetail, Settlement
from settlement.services.accumulators import accumulators_write
from settlement.services.drafts import Draft


def drafts_write(drafts: list[Draft], *, cycle: Cycle, principal: Principal) -> None:
    """Temporary filings, settlements, fee lines, accumulators (final values per row), balances,
    clearing items and audit records of ``drafts``: at most one statement each. An error (e.g. a
    concurrent twin's serial: ``IntegrityError``) leaves the caller to roll back its savepoint."""
    if not drafts:
        return
    filings: list[Filing] = [d.filing for d in drafts if d.filing is not None]
    if filings:
        Filing.objects.bulk_create(filings)
    Settlement.objects.bulk_create([d.settlement for d in drafts])
    FeeDetail.objects.bulk_create([ln for d in drafts for ln in d.lines])
    accumulators_write({(a.person_id, a.year, a.insutype, a.med_type_group): a
                        for a in (d.accumulator for d in drafts)}.values())
    moved = {d.settlement.person_id: d.settlement.person for d in drafts if d.settlement.acct_pay}
    if moved:
        Person.objects.bulk_update(list(moved.values()), ["acct_balance"])
    code = drafts[0].settlement.institution.fixmedins_code
    clearing_items_record(
        entries=[
            ItemEntry(setl_id=s.setl_id, kind="settlement", payer=s.payer, payee=s.payee,
                      clr_amt=s.clr_amt, fixmedins_code=code)
            for s in (d.settlement for d in drafts)
        ],
        cycle=cycle,
    )
    audit_principal_many(principal, "settlement.create", "settlement", [
        (s.setl_id, {"medins_setl_id": s.medins_setl_id, "clr_amt": str(s.clr_amt),
                     "filing_created": s.filing_created_now})
        for s in (d.settlement for d in drafts)
    ])
