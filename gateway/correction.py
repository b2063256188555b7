"""2601 冲正 (spec/nhsa-gateway.md §4.4): undo the effect of one earlier message.

The original is found by (institution, ``omsgid``). An ``omsgid`` never seen is recorded as a
tombstone (``found`` false): when it arrives later it is refused ``[msgid_reversed]``, which closes
the timeout race without a double effect.
"""

from __future__ import annotations

from typing import Any

from gateway import wire
from gateway.errors import Refusal, invalid
from gateway.lines import unsettled_lines
from gateway.models import Message, Visit, VisitLine
from gateway.service import Call, Result
from gateway.settle import undo_settlement
from gateway.visits import cancel_visit, undo_discharge
from settlement.models import Settlement

SETTLES = ("2207", "2304")
UPLOADS = ("2204", "2301")
OPENS = ("2201", "2401")


def correct(call: Call) -> Result:
    """``input.data`` (or ``input``) {``psn_no``, ``omsgid``, ``oinfno``} → ``output.result``
    {``omsgid``, ``oinfno``, ``found``, and for a settlement the reversal's figures}."""
    path, node = wire.node_name(call.input, "data"), wire.node(call.input, "data")
    omsgid = wire.text(node, "omsgid", path, required=True, max_len=30)
    oinfno = wire.text(node, "oinfno", path, required=True, max_len=4)
    psn_no = wire.text(node, "psn_no", path, max_len=30)
    head: dict[str, Any] = {"omsgid": omsgid, "oinfno": oinfno}
    orig = Message.objects.select_for_update().filter(institution=call.institution, msgid=omsgid).first()
    if orig is None:
        Message.objects.create(
            institution=call.institution,
            msgid=omsgid,
            infno=oinfno,
            kind=Message.Kind.TOMBSTONE,
            psn_no=psn_no,
            undone_by=call.env.msgid,
            received_at=call.received,
        )
        return Result({"result": {**head, "found": False}}, psn_no=psn_no)
    if orig.kind == Message.Kind.TOMBSTONE or orig.undone_by:
        raise Refusal("already_reversed")
    if oinfno != orig.infno:
        raise invalid(f"{path}.oinfno", "与原交易不符")
    if psn_no and orig.psn_no and psn_no != orig.psn_no:
        raise invalid(f"{path}.psn_no", "与原交易不符")
    result = _undo(call, orig, head)
    Message.objects.filter(pk=orig.pk).update(undone_by=call.env.msgid)
    return result


def _visit(call: Call, orig: Message) -> Visit:
    visit = (
        Visit.objects.select_for_update()
        .select_related("person")
        .filter(institution=call.institution, mdtrt_id=orig.mdtrt_id)
        .first()
    )
    if visit is None:
        raise Refusal("unknown_visit")
    return visit


def _undo(call: Call, orig: Message, head: dict[str, Any]) -> Result:
    oinfno = orig.infno
    if oinfno in SETTLES:
        visit = _visit(call, orig)
        s = Settlement.objects.get(institution=call.institution, setl_id=orig.setl_id)
        rev = undo_settlement(call, visit, s, kind="correction", reason=f"冲正 {orig.msgid}")
        m = wire.money_out
        out = {
            **head,
            "found": True,
            "setl_id": rev.setl_id,
            "orig_setl_id": s.setl_id,
            "medfee_sumamt": m(rev.medfee_sumamt),
            "fund_pay_sumamt": m(rev.fund_pay_sumamt),
            "acct_pay": m(rev.acct_pay),
            "psn_cash_pay": m(rev.psn_cash_pay),
            "balc": m(rev.balc),
            "clr_date": rev.clr_date.isoformat(),
        }
        return Result({"result": out}, mdtrt_id=visit.mdtrt_id, setl_id=rev.setl_id, psn_no=orig.psn_no)
    if oinfno in UPLOADS:
        visit = _visit(call, orig)
        uploaded = VisitLine.objects.filter(visit=visit, upload_msgid=orig.msgid)
        unsettled = unsettled_lines(visit).filter(upload_msgid=orig.msgid)
        if uploaded.count() != unsettled.count():
            raise Refusal("lines_settled")
        unsettled.delete()
    elif oinfno in OPENS:
        cancel_visit(_visit(call, orig), call)
    elif oinfno == "2402":
        undo_discharge(_visit(call, orig), call)
    else:
        raise Refusal("not_reversible", f"该交易不可冲正：{oinfno}")
    return Result({"result": {**head, "found": True}}, mdtrt_id=orig.mdtrt_id, psn_no=orig.psn_no)
