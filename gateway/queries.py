"""5203 结算信息查询 / 5204 费用明细查询 (spec/nhsa-gateway.md §5.8): any settlement or reversal
of the caller's institution, whichever door made it."""

from __future__ import annotations

from decimal import Decimal

from gateway import wire
from gateway.errors import Refusal
from gateway.lines import amount_text
from gateway.models import Visit
from gateway.service import Call, Result
from gateway.settle import cap_left_before, setldetail, setlinfo
from settlement.models import FeeDetail, Settlement


def _settlement(call: Call) -> Settlement:
    path, node = wire.node_name(call.input, "data"), wire.node(call.input, "data")
    setl_id = wire.text(node, "setl_id", path, required=True, max_len=30)
    psn_no = wire.text(node, "psn_no", path, max_len=30)
    mdtrt_id = wire.text(node, "mdtrt_id", path, max_len=30)
    s = (
        Settlement.objects.select_related("person", "institution")
        .filter(setl_id=setl_id, institution=call.institution)
        .first()
    )
    if s is None or (psn_no and s.person.psn_no != psn_no) or (mdtrt_id and s.mdtrt_id != mdtrt_id):
        raise Refusal("unknown_setl")
    return s


def settlement_info(call: Call) -> Result:
    """5203 → ``setlinfo`` and ``setldetail`` as 2207 (a reversal with its own ``setl_id``)."""
    s = _settlement(call)
    visit = Visit.objects.filter(institution=call.institution, mdtrt_id=s.mdtrt_id).first()
    info = setlinfo(
        s,
        s.person,
        setl_id=s.setl_id,
        cert_type=visit.cert_type if visit else "",
        medins_setl_id=s.medins_setl_id,
    )
    cap = cap_left_before(s, s.person, recorded=s.status == Settlement.Status.SETTLED)
    return Result({"setlinfo": info, "setldetail": setldetail(s, cap)}, psn_no=s.person.psn_no)


def settlement_lines(call: Call) -> Result:
    """5204 → ``output``: the settlement's lines as 2204's ``result`` (a reversal: its original's)."""
    s = _settlement(call)
    rows = FeeDetail.objects.filter(settlement_id=s.orig_id or s.pk).order_by("id")
    m = wire.money_out
    out = [
        {
            "feedetl_sn": ln.feedetl_sn,
            "det_item_fee_sumamt": m(ln.det_item_fee_sumamt),
            "cnt": _places(ln.cnt),
            "pric": _places(ln.pric),
            "pric_uplmt_amt": amount_text(ln.pric_uplmt_amt),
            "selfpay_prop": wire.ratio_out(ln.selfpay_prop),
            "fulamt_ownpay_amt": m(ln.fulamt_ownpay_amt),
            "overlmt_amt": m(ln.overlmt_amt),
            "preselfpay_amt": m(ln.preselfpay_amt),
            "inscp_scp_amt": m(ln.inscp_scp_amt),
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
        for ln in rows
    ]
    return Result(out, psn_no=s.person.psn_no)


def _places(d: Decimal) -> Decimal:
    """A stored ``cnt``/``pric`` (4 places) without trailing zeros beyond 2 places."""
    return amount_text(d) or Decimal("0")
