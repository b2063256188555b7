"""对账: an institution's totals and details against ours (spec/hospital-api.md §reconciliation).

Reads only; a mismatch is reported, never "fixed". Dates are business days of ``setl_time``;
reversals count with their negative amounts and as one record each.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum

from accounts.models import Institution
from core.errors import Invalid, field_error
from core.money import MAX_MONEY, fmt_money, parse_money
from settlement.models import Settlement
from settlement.requests import CLR_TYPES, INSUTYPES

ZERO = Decimal("0.00")
MAX_DETAIL_ITEMS = 10_000
FIGURES = ("medfee_sumamt", "fund_pay_sumamt", "acct_pay")


def _date(data: dict, key: str, errs: list) -> dt.date | None:
    value = data.get(key)
    try:
        if not isinstance(value, str):
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        errs.append(field_error(key, "invalid_date", "A date YYYY-MM-DD is required."))
        return None


def _money(data: dict, key: str, errs: list, name: str) -> Decimal | None:
    try:
        return parse_money(data.get(key), allow_negative=True)
    except ValueError as e:
        errs.append(field_error(name, "invalid_amount", str(e)))
        return None


def _period(data: Any) -> tuple[dict, list, dt.date | None, dt.date | None]:
    if not isinstance(data, dict):
        raise Invalid([field_error("body", "not_an_object", "The body must be a JSON object.")])
    errs: list = []
    begin, end = _date(data, "stmt_begndate", errs), _date(data, "stmt_enddate", errs)
    if begin and end and end < begin:
        errs.append(field_error("stmt_enddate", "before_begndate", "stmt_enddate is before stmt_begndate."))
    return data, errs, begin, end


def reconciliation_totals(*, institution: Institution, data: Any) -> dict[str, Any]:
    """对总账: ``{"stmt_rslt": "0"|"1", "ours": {...}, "diff": {theirs − ours}}``. ``insutype`` and
    ``clr_type`` narrow the comparison when sent. Raises ``400 invalid``."""
    data, errs, begin, end = _period(data)
    insutype, clr_type = data.get("insutype"), data.get("clr_type")
    if insutype is not None and insutype not in INSUTYPES:
        errs.append(field_error("insutype", "invalid_choice", "insutype must be 310 or 390."))
    if clr_type is not None and clr_type not in CLR_TYPES.values():
        errs.append(field_error("clr_type", "invalid_choice", "clr_type must be 11, 21 or 41."))
    theirs = {k: _money(data, k, errs, k) for k in FIGURES}
    count = data.get("fixmedins_setl_cnt")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        errs.append(
            field_error("fixmedins_setl_cnt", "invalid_count", "A non-negative JSON integer is required.")
        )
    if errs:
        raise Invalid(errs)
    qs = Settlement.objects.filter(institution=institution, setl_date__gte=begin, setl_date__lte=end)
    if insutype:
        qs = qs.filter(insutype=insutype)
    if clr_type:
        qs = qs.filter(clr_type=clr_type)
    agg = qs.aggregate(n=Count("id"), **{k: Sum(k) for k in FIGURES})
    ours_amounts = {k: agg[k] or ZERO for k in FIGURES}
    ours = {k: fmt_money(v) for k, v in ours_amounts.items()} | {"fixmedins_setl_cnt": agg["n"]}
    raw_diff = {k: theirs[k] - ours_amounts[k] for k in FIGURES}  # type: ignore[operator]
    too_large = [k for k, v in raw_diff.items() if abs(v) > MAX_MONEY]
    if too_large:  # the answer would leave the money format (spec/README.md §Units)
        raise Invalid([field_error(k, "out_of_range", f"theirs − ours must lie within ±{MAX_MONEY}.")
                       for k in too_large])
    diff = {k: fmt_money(v) for k, v in raw_diff.items()}
    diff["fixmedins_setl_cnt"] = count - agg["n"]
    balanced = all(theirs[k] == ours_amounts[k] for k in FIGURES) and count == agg["n"]
    return {"stmt_rslt": "0" if balanced else "1", "ours": ours, "diff": diff}


def _ours_of(s: Settlement) -> dict[str, Any]:
    return {
        "medfee_sumamt": fmt_money(s.medfee_sumamt),
        "fund_pay_sumamt": fmt_money(s.fund_pay_sumamt),
        "acct_pay": fmt_money(s.acct_pay),
        "refd_setl_flag": "1" if s.status == "reversal" else "0",
    }


def reconciliation_details(*, institution: Institution, data: Any) -> dict[str, Any]:
    """对明细账: one row per listed item (``stmt_rslt`` ``"0"``, or ``"1"`` with reason
    ``amount_mismatch`` / ``only_in_institution``), then a row per record of ours in the period the
    institution did not list (``only_in_center``). Up to 10,000 items. Raises ``400 invalid``.

    A settlement listed more than once is ``"1"`` ``amount_mismatch`` on every line that lists it:
    the institution's figures for it, summed over its lines, are a multiple of ours, which is what
    对总账 of the same data finds (docs/decisions.md §Reconciliation duplicates)."""
    data, errs, begin, end = _period(data)
    items = data.get("items")
    if not isinstance(items, list) or len(items) > MAX_DETAIL_ITEMS:
        errs.append(field_error("items", "invalid", f"A list of up to {MAX_DETAIL_ITEMS} items is required."))
        items = []
    parsed = []
    for i, item in enumerate(items):
        p = f"items[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("setl_id"), str):
            errs.append(field_error(f"{p}.setl_id", "required", "setl_id is required."))
            continue
        figures = {k: _money(item, k, errs, f"{p}.{k}") for k in FIGURES}
        flag = item.get("refd_setl_flag", "0")
        if flag not in ("0", "1"):
            errs.append(field_error(f"{p}.refd_setl_flag", "invalid_choice", 'refd_setl_flag is "0" or "1".'))
        parsed.append((item["setl_id"], figures, flag))
    if errs:
        raise Invalid(errs)
    times_listed = Counter(sid for sid, _, _ in parsed)
    listed = set(times_listed)
    ours = {s.setl_id: s for s in Settlement.objects.filter(institution=institution, setl_id__in=listed)}
    rows, all_ok = [], True
    for sid, figures, flag in parsed:
        s = ours.get(sid)
        if s is None:
            rows.append({"setl_id": sid, "stmt_rslt": "1", "reason": "only_in_institution", "ours": None})
            all_ok = False
            continue
        same = (times_listed[sid] == 1 and all(figures[k] == getattr(s, k) for k in FIGURES)
                and flag == _ours_of(s)["refd_setl_flag"])
        all_ok &= same
        rows.append(
            {
                "setl_id": sid,
                "stmt_rslt": "0" if same else "1",
                "reason": None if same else "amount_mismatch",
                "ours": _ours_of(s),
            }
        )
    missing = (
        Settlement.objects.filter(institution=institution, setl_date__gte=begin, setl_date__lte=end)
        .filter(~Q(setl_id__in=listed))
        .order_by("setl_time", "id")
    )
    for s in missing:
        all_ok = False
        rows.append({"setl_id": s.setl_id, "stmt_rslt": "1", "reason": "only_in_center", "ours": _ours_of(s)})
    return {"stmt_rslt": "0" if all_ok else "1", "rows": rows}
