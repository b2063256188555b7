"""Response bodies of settlements, rebuilt from stored rows (spec/hospital-api.md §POST /settlements).

The same rows always give the same bytes, so an idempotent replay answers exactly the first body.
Personal data comes decrypted from the person row (never stored in clear for replays); bureau and
clearing-staff readers get the name masked too.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from accounts.certno import mask_certno
from accounts.selectors import person_certno, person_name
from core.errors import DomainError, problem_of
from core.logging import mask_name
from core.money import fmt_money, fmt_ratio
from core.timezones import SHANGHAI
from settlement.split import LINE_MONEY_FIGURES, RATIO_FIGURES, SETTLEMENT_FIGURES


def fmt_price(value: Decimal | None) -> str | None:
    """A unit price (≤ 4 places): 2 places when exact, else trimmed to at most 4."""
    if value is None:
        return None
    if value == value.quantize(Decimal("0.01")):
        return fmt_money(value)
    return format(value.quantize(Decimal("0.0001")).normalize(), "f")


def fmt_time(t: Any) -> str | None:
    return None if t is None else t.astimezone(SHANGHAI).isoformat(timespec="milliseconds")


def setlinfo(
    s: Any, *, person: Any, institution: Any, mask_all: bool = False, preview: bool = False
) -> dict[str, Any]:
    """``setlinfo`` of a settlement or reversal row (or an unsaved preview object)."""
    name = person_name(person)
    out: dict[str, Any] = {}
    if not preview:
        out["setl_id"] = s.setl_id
    out.update(
        {
            "mdtrt_id": s.mdtrt_id or None,
            "medins_setl_id": s.medins_setl_id or None,
            "psn_no": person.psn_no,
            "psn_name": mask_name(name) if mask_all else name,
            "certno": mask_certno(person_certno(person)),
            "insutype": s.insutype,
            "med_type": s.med_type,
            "clr_type": s.clr_type,
            "insuplc_admdvs": s.insuplc_admdvs,
            "mdtrtarea_admvs": s.mdtrtarea_admvs,
            "fixmedins_code": institution.fixmedins_code,
            "setl_time": fmt_time(s.setl_time),
            "clr_date": s.clr_date.isoformat() if s.clr_date else None,
        }
    )
    for name in SETTLEMENT_FIGURES:  # the declaration's order (settlement.split.SplitResult)
        out[name] = fmt_ratio(getattr(s, name)) if name in RATIO_FIGURES else fmt_money(getattr(s, name))
    if s.filing_type and s.status != "reversal":
        out["filing"] = {
            "filing_type": s.filing_type,
            "temporary": s.filing_temporary,
            "created_now": s.filing_created_now,
        }
    else:
        out["filing"] = None
    if s.status == "reversal":
        out["orig_setl_id"] = s.orig.setl_id if s.orig_id else None
        out["reason"] = s.reason or None
    out["status"] = "preview" if preview else s.status
    return out


def fee_line(line: Any) -> dict[str, Any]:
    """A fee line's result (spec/policy.md §Fee lines)."""
    return {
        "feedetl_sn": line.feedetl_sn,
        "chrgitm_lv": line.chrgitm_lv,
        "selfpay_prop": fmt_ratio(line.selfpay_prop),
        "pric_uplmt_amt": fmt_price(line.pric_uplmt_amt),
        "det_item_fee_sumamt": fmt_money(line.det_item_fee_sumamt),
        **{name: fmt_money(getattr(line, name)) for name in LINE_MONEY_FIGURES},
        "warn": line.warn or None,
    }


def settlement_body(s: Any, *, mask_all: bool = False, lines: list[Any] | None = None) -> dict[str, Any]:
    """``{"setlinfo", "feedetail"}`` of a stored settlement (reversals: ``feedetail`` is empty)."""
    if lines is None:
        lines = list(s.lines.all()) if s.status != "reversal" else []
    return {
        "setlinfo": setlinfo(s, person=s.person, institution=s.institution, mask_all=mask_all),
        "feedetail": [fee_line(ln) for ln in lines],
    }


def batch_result(result: Any) -> dict[str, Any]:
    """One batch item's result: ``{"status": 201|200, "setlinfo"}`` for a ``SettleOutcome`` (no
    query: person and institution are loaded), ``{"status", "problem"}`` for a ``DomainError``."""
    if isinstance(result, DomainError):
        return {"status": result.status, "problem": problem_of(result)}
    s = result.settlement
    info = setlinfo(s, person=s.person, institution=s.institution)
    return {"status": 201 if result.created else 200, "setlinfo": info}


def with_disputes(body: dict[str, Any], s: Any) -> dict[str, Any]:
    """Add ``disputes`` and ``adjustments`` to a settlement's body when it has any
    (spec/hospital-api.md §Statuses); read from the clearing records."""
    from clearing.models import ClearingItem, Dispute

    disputes = list(Dispute.objects.filter(setl_id=s.setl_id))
    if not disputes:
        return body
    body["disputes"] = [
        {
            "id": d.id,
            "status": d.status,
            "reason_code": d.reason_code,
            "amount": fmt_money(d.amount),
            "resolved_amount": fmt_money(d.resolved_amount),
            "adjustment_setl_id": d.adjustment_setl_id or None,
        }
        for d in disputes
    ]
    adj_ids = [d.adjustment_setl_id for d in disputes if d.adjustment_setl_id]
    adjustments = ClearingItem.objects.filter(setl_id__in=adj_ids).order_by("setl_id")
    if adj_ids:
        body["adjustments"] = [
            {"setl_id": a.setl_id, "clr_amt": fmt_money(a.clr_amt), "clr_date": a.clr_date.isoformat()}
            for a in adjustments
        ]
    return body
