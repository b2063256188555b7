"""Fee lines of a visit (spec/nhsa-gateway.md §4.1, §5.3): 2204/2301 upload with the line's
``policy.md`` classification at upload, 2205/2302 removal of unsettled lines.

A line is settled while the settlement named by its ``setl_id`` is live; after a reversal through
either door it is unsettled again without being rewritten.
"""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.db.models import Q, QuerySet

from gateway import wire
from gateway.errors import Refusal, invalid
from gateway.models import Visit, VisitLine, VisitStatus
from gateway.service import Call, Result
from gateway.visits import visit_locked, visit_state
from settlement.eligibility import catalogue_terms
from settlement.models import Settlement
from settlement.requests import FeeLine
from settlement.services.reference_cache import reference_snapshot
from settlement.split import LineIn, classify_line, line_amount_matches

MAX_LINES_PER_CALL = 1000
MAX_LINES_PER_VISIT = 10_000
ALL_LINES = "0000"


def unsettled_lines(visit: Visit) -> QuerySet[VisitLine]:
    live = Settlement.objects.filter(
        institution_id=visit.institution_id, mdtrt_id=visit.mdtrt_id, status=Settlement.Status.SETTLED
    ).values("setl_id")
    return VisitLine.objects.filter(visit=visit).filter(Q(setl_id="") | ~Q(setl_id__in=live))


def amount_text(d: Decimal | None) -> Decimal | None:
    """A catalogue amount with at least 2 places (``100.0000`` stored → ``100.00``)."""
    if d is None:
        return None
    q = d.quantize(Decimal("0.01"))
    return q if q == d else d.normalize()


def line_output(ln: VisitLine) -> dict[str, Any]:
    """One element of 2204/2301 ``result`` and of 5204's list."""
    return {
        "feedetl_sn": ln.feedetl_sn,
        "det_item_fee_sumamt": wire.money_out(ln.det_item_fee_sumamt),
        "cnt": Decimal(ln.cnt_text),
        "pric": Decimal(ln.pric_text),
        "pric_uplmt_amt": amount_text(ln.pric_uplmt_amt),
        "selfpay_prop": wire.ratio_out(ln.selfpay_prop),
        "fulamt_ownpay_amt": wire.money_out(ln.fulamt_ownpay_amt),
        "overlmt_amt": wire.money_out(ln.overlmt_amt),
        "preselfpay_amt": wire.money_out(ln.preselfpay_amt),
        "inscp_scp_amt": wire.money_out(ln.inscp_scp_amt),
        "chrgitm_lv": ln.chrgitm_lv,
        "med_chrgitm_type": "",
        "bas_medn_flag": "",
        "hi_nego_drug_flag": "",
        "chld_medc_flag": "",
        "list_sp_item_flag": "",
        "lmt_used_flag": "",
        "drt_reim_flag": "",
        "memo": ln.warn or "",
    }


def _parse_line(call: Call, raw: dict, path: str, outpatient: bool) -> tuple[FeeLine, dict[str, str]]:
    sn = wire.text(raw, "feedetl_sn", path, required=True, max_len=30)
    at = wire.time(raw, "fee_ocur_time", path, required=True)
    if at is not None and at > call.received:
        raise invalid(f"{path}.fee_ocur_time", "不能晚于当前时间")
    code = wire.text(raw, "med_list_codg", path, required=True, max_len=50)
    amount = wire.decimal(raw, "det_item_fee_sumamt", path, places=2, required=True)
    cnt = wire.decimal(raw, "cnt", path, places=4, required=True)
    pric = wire.decimal(raw, "pric", path, places=4, required=True)
    if not cnt:  # a negative cnt (退单) is refused by wire.decimal: refunds are reverse + settle again
        raise invalid(f"{path}.cnt", "必须大于0")
    extra = {
        "chrg_bchno": wire.text(raw, "chrg_bchno", path, max_len=30) if outpatient else "",
        "dise_codg": wire.text(raw, "dise_codg", path, max_len=30),
        "mdtrt_id": wire.text(raw, "mdtrt_id", path, required=True, max_len=30),
        "psn_no": wire.text(raw, "psn_no", path, max_len=30),
    }
    return FeeLine(sn, code, at, cnt, pric, amount), extra  # type: ignore[arg-type]


def lines_upload(call: Call) -> Result:
    """2204 / 2301: ``input.feedetail`` (a list, or one object) of one visit → ``output.result[]``
    per line. Refusals: ``unknown_visit``, ``visit_state``, ``[invalid]`` (duplicate ``feedetl_sn``,
    future ``fee_ocur_time``, places), ``amount_mismatch`` (``明细 <sn> 金额不等于数量×单价``)."""
    outpatient = call.env.infno == "2204"
    raws = wire.objects(call.input, "feedetail")
    if not 1 <= len(raws) <= MAX_LINES_PER_CALL:
        raise invalid("input.feedetail", f"明细条数须为1至{MAX_LINES_PER_CALL}")
    parsed = [_parse_line(call, r, f"input.feedetail[{i}]", outpatient) for i, r in enumerate(raws)]
    first = parsed[0][1]
    for i, (_, extra) in enumerate(parsed):
        if extra["mdtrt_id"] != first["mdtrt_id"]:
            raise invalid(f"input.feedetail[{i}].mdtrt_id", "同一请求仅限一个就诊")
    visit = visit_locked(call, first, "input.feedetail[0]")
    if any(e["psn_no"] and e["psn_no"] != visit.person.psn_no for _, e in parsed):
        raise Refusal("unknown_visit")
    state = visit_state(visit)
    allowed = (VisitStatus.OPEN,) if outpatient else (VisitStatus.OPEN, VisitStatus.DISCHARGED)
    if state not in allowed:
        raise Refusal("visit_state", f"就诊状态不允许此交易：{state}")
    known = set(VisitLine.objects.filter(visit=visit).values_list("feedetl_sn", flat=True))
    if len(known) + len(parsed) > MAX_LINES_PER_VISIT:
        raise invalid("input.feedetail", f"每次就诊至多{MAX_LINES_PER_VISIT}条明细")
    for i, (ln, _) in enumerate(parsed):
        if ln.fee_ocur_time < visit.begntime:
            raise invalid(f"input.feedetail[{i}].fee_ocur_time", "早于就诊开始时间")
        if ln.feedetl_sn in known:
            raise invalid(f"input.feedetail[{i}].feedetl_sn", "明细流水号重复")
        known.add(ln.feedetl_sn)
        if not line_amount_matches(ln.cnt, ln.pric, ln.amount):
            raise Refusal("amount_mismatch", f"明细 {ln.feedetl_sn} 金额不等于数量×单价")
    fee_lines = [ln for ln, _ in parsed]
    # catalogue_terms reads only the lines and their Asia/Shanghai dates of a request
    bill = SimpleNamespace(
        lines=fee_lines,
        fee_days=lambda: [ln.fee_ocur_time.astimezone(wire.SHANGHAI).date() for ln in fee_lines],
    )
    province = call.institution.province
    reference = reference_snapshot()
    reference.load(regions=(), catalogue={(province, ln.med_list_codg) for ln in fee_lines})
    terms = catalogue_terms(province, bill, reference)  # type: ignore[arg-type]
    rows = []
    for (ln, extra), t in zip(parsed, terms, strict=True):
        o = classify_line(LineIn(cnt=ln.cnt, pric=ln.pric, amount=ln.amount, terms=t))
        rows.append(
            VisitLine(
                visit=visit,
                feedetl_sn=ln.feedetl_sn,
                chrg_bchno=extra["chrg_bchno"],
                upload_msgid=call.env.msgid,
                med_list_codg=ln.med_list_codg,
                fee_ocur_time=ln.fee_ocur_time,
                cnt_text=str(ln.cnt),
                pric_text=str(ln.pric),
                det_item_fee_sumamt=ln.amount,
                dise_codg=extra["dise_codg"],
                chrgitm_lv=o.chrgitm_lv,
                selfpay_prop=o.selfpay_prop,
                pric_uplmt_amt=o.pric_uplmt_amt,
                fulamt_ownpay_amt=o.fulamt_ownpay_amt,
                overlmt_amt=o.overlmt_amt,
                preselfpay_amt=o.preselfpay_amt,
                inscp_scp_amt=o.inscp_scp_amt,
                warn=o.warn or "",
            )
        )
    VisitLine.objects.bulk_create(rows)
    return Result(
        {"result": [line_output(r) for r in rows]}, mdtrt_id=visit.mdtrt_id, psn_no=visit.person.psn_no
    )


def lines_remove(call: Call) -> Result:
    """2205 (batch ``chrg_bchno``) / 2302 (one ``feedetl_sn``); ``"0000"`` = every unsettled line.
    A settled line among them → ``lines_settled``. ``output`` {}."""
    path, node = wire.node_name(call.input, "data"), wire.node(call.input, "data")
    visit = visit_locked(call, node, path)
    key = "chrg_bchno" if call.env.infno == "2205" else "feedetl_sn"
    which = wire.text(node, key, path, required=True, max_len=30)
    state = visit_state(visit)
    if state == VisitStatus.CANCELLED:
        raise Refusal("visit_state", f"就诊状态不允许此交易：{state}")
    chosen = VisitLine.objects.filter(visit=visit)
    if which != ALL_LINES:
        chosen = chosen.filter(**{key: which})
    unsettled = unsettled_lines(visit).filter(pk__in=chosen.values("pk"))
    if which != ALL_LINES and chosen.count() != unsettled.count():
        raise Refusal("lines_settled")
    unsettled.delete()
    return Result({}, mdtrt_id=visit.mdtrt_id, psn_no=visit.person.psn_no)
