"""2206/2207 and 2303/2304 (pre-)settlement of a visit, 2208/2305 its reversal
(spec/nhsa-gateway.md §4.1–§4.3, §5.4, §5.5), through :mod:`gateway.bridge`.

Check order (§3.4): input format → visit (``unknown_visit``, ``already_settled``, ``visit_state``,
``no_lines``) → Σ ``medfee_sumamt`` → person checks → ``insuplc_mismatch`` → out of area, filing,
policy → the optional bands. The bands are compared with the recorded split inside the call's
transaction, so a mismatch rolls the settlement back: nothing moves.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from accounts.models import Person
from accounts.regions import pooling_region
from gateway import bridge, wire
from gateway.errors import Refusal, invalid
from gateway.lines import unsettled_lines
from gateway.models import Visit, VisitLine, VisitStatus
from gateway.persons import person_fields
from gateway.service import Call, Result
from gateway.visits import (
    INPATIENT_MED_TYPES,
    OUTPATIENT_MED_TYPES,
    check_insuplc,
    live_settlement,
    visit_credential,
    visit_locked,
    visit_move,
    visit_state,
)
from settlement.models import Accumulator, Settlement
from settlement.request_parsing import MAX_CLAIM_AGE
from settlement.requests import FeeLine, SettlementRequest

ZERO = Decimal("0.00")
BANDS = ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt")
FUND_PAY_TYPES = {
    "310": ("310100", "职工基本医疗保险统筹基金"),
    "390": ("390100", "城乡居民基本医疗保险统筹基金"),
}
MONEY_OUT = (
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
    "act_pay_dedc",
    "hifp_pay",
)


def setlinfo(
    s: Settlement, person: Person, *, setl_id: str, cert_type: str, medins_setl_id: str
) -> dict[str, Any]:
    """``output.setlinfo`` of 2206/2207/2303/2304/5203 (§5.4); a reversal's own figures are negative."""
    m = wire.money_out
    info: dict[str, Any] = {
        "mdtrt_id": s.mdtrt_id,
        "setl_id": setl_id,
        "psn_no": person.psn_no,
        **person_fields(person, s.setl_time),
    }
    info |= {
        "insutype": s.insutype,
        "psn_type": "",
        "cvlserv_flag": "0",
        "setl_time": wire.fmt_time(s.setl_time),
        "mdtrt_cert_type": cert_type,
        "med_type": s.med_type,
    }
    info |= {k: m(getattr(s, k)) for k in MONEY_OUT}
    info["pool_prop_selfpay"] = wire.ratio_out(s.pool_prop_selfpay)
    info |= {k: m(ZERO) for k in ("cvlserv_pay", "hifes_pay", "hifmi_pay", "hifob_pay", "maf_pay", "oth_pay")}
    info |= {
        "fund_pay_sumamt": m(s.fund_pay_sumamt),
        "psn_part_amt": m(s.psn_part_amt),
        "acct_pay": m(s.acct_pay),
        "psn_cash_pay": m(s.psn_cash_pay),
        "hosp_part_amt": m(ZERO),
        "balc": m(s.balc),
        "acct_mulaid_pay": m(ZERO),
        "medins_setl_id": medins_setl_id,
        "clr_optins": pooling_region(s.mdtrtarea_admvs),
        "clr_way": "01",
        "clr_type": s.clr_type,
    }
    return info


def setldetail(s: Settlement, cap_left: Decimal) -> list[dict[str, Any]]:
    code, name = FUND_PAY_TYPES.get(s.insutype, ("", ""))
    return [
        {
            "fund_pay_type": code,
            "inscp_scp_amt": wire.money_out(s.inscp_scp_amt),
            "crt_payb_lmt_amt": wire.money_out(cap_left),
            "fund_payamt": wire.money_out(s.hifp_pay),
            "fund_pay_type_name": name,
            "setl_proc_info": "",
        }
    ]


def cap_left_before(s: Settlement, person: Person, *, recorded: bool) -> Decimal:
    """``crt_payb_lmt_amt``: the annual cap left before this bill (policy of the settlement day
    minus the year's fund paid before it)."""
    from settlement.eligibility import policy_for, reference_regions
    from settlement.services.reference_cache import reference_snapshot

    reference = reference_snapshot()
    reference.load(regions=reference_regions([person]), catalogue=())
    policy = policy_for(person, s.institution, s.med_type_group, s.setl_date, reference)
    acc = Accumulator.objects.filter(
        person=person, year=s.accum_year, insutype=s.insutype, med_type_group=s.med_type_group
    ).first()
    paid = (acc.fund_paid if acc else ZERO) - (s.fund_moved if recorded else ZERO)
    return max(ZERO, policy.annual_cap - paid)


class _Bill:
    """The parsed 2206/2207/2303/2304 input with the visit it names, locked."""

    def __init__(self, call: Call) -> None:
        inpatient = call.env.infno in ("2303", "2304")
        name = "mdtrtinfo" if inpatient else "data"
        self.path, node = wire.node_name(call.input, name), wire.node(call.input, name)
        p = self.path
        if inpatient and wire.text(node, "mid_setl_flag", p, max_len=3) not in ("", "0"):
            raise Refusal("unsupported_mid_setl")
        if wire.text(node, "psn_setlway", p, max_len=6) not in ("", "01"):
            raise invalid(f"{p}.psn_setlway", "仅支持按项目结算(01)")
        self.medfee = wire.decimal(node, "medfee_sumamt", p, places=2)
        self.bands = {k: wire.decimal(node, k, p, places=2) for k in BANDS}
        flag = wire.text(node, "acct_used_flag", p, max_len=1)
        if flag not in ("", "0", "1"):
            raise invalid(f"{p}.acct_used_flag", "取值错误")
        self.chrg_bchno = "" if inpatient else wire.text(node, "chrg_bchno", p, max_len=30)
        self.visit: Visit = visit_locked(call, node, p)
        v = self.visit
        self.med_type = wire.text(node, "med_type", p, max_len=6) or v.med_type
        self.insutype = wire.text(node, "insutype", p, max_len=6) or v.insutype
        self.acct_used_flag = flag or "0"
        cred = {k: wire.text(node, k, p, max_len=64) for k in ("mdtrt_cert_type", "mdtrt_cert_no", "card_sn")}
        self.cred = {k: x for k, x in cred.items() if x} if cred["mdtrt_cert_type"] else visit_credential(v)
        if not self.med_type:
            raise invalid(f"{p}.med_type", "不能为空")
        if self.med_type not in (INPATIENT_MED_TYPES if inpatient else OUTPATIENT_MED_TYPES):
            raise Refusal("med_type_mismatch")
        self.state = state = visit_state(v)
        if state == VisitStatus.SETTLED:
            live = live_settlement(v)
            raise Refusal("already_settled", f"该就诊已结算，结算ID：{live.setl_id if live else ''}")
        wanted = (
            (VisitStatus.DISCHARGED,)
            if call.env.infno == "2304"
            else (VisitStatus.OPEN, VisitStatus.DISCHARGED)
        )
        if state not in wanted:
            raise Refusal("visit_state", f"就诊状态不允许此交易：{state}")
        lines = unsettled_lines(v)
        if self.chrg_bchno:
            lines = lines.filter(chrg_bchno=self.chrg_bchno)
        self.lines: list[VisitLine] = list(lines.order_by("id"))
        if not self.lines:
            raise Refusal("no_lines")
        if self.medfee is not None and self.medfee != sum(
            (ln.det_item_fee_sumamt for ln in self.lines), ZERO
        ):
            raise Refusal("amount_mismatch", "医疗费总额与已上传明细合计不符")

    def request(self, call: Call) -> SettlementRequest:
        v = self.visit
        latest = max(ln.fee_ocur_time for ln in self.lines)
        endtime = v.endtime if v.chain == Visit.Chain.INPATIENT else max(latest, v.begntime)
        dise = v.dise_codg or next((ln.dise_codg for ln in self.lines if ln.dise_codg), "")
        fee_lines = [
            FeeLine(
                ln.feedetl_sn,
                ln.med_list_codg,
                ln.fee_ocur_time,
                Decimal(ln.cnt_text),
                Decimal(ln.pric_text),
                ln.det_item_fee_sumamt,
            )
            for ln in self.lines
        ]
        _claim_dates(call, v, endtime, self.lines, self.path)
        return bridge.settle_request(
            serial=call.env.msgid,
            cred=self.cred,
            insutype=self.insutype,
            med_type=self.med_type,
            begntime=v.begntime,
            endtime=endtime,
            dise_codg=dise,
            acct_used_flag=self.acct_used_flag,
            lines=fee_lines,
            mdtrt_id=v.mdtrt_id,
        )

    def between(self, call: Call) -> Callable[[Person], None]:
        def check(person: Person) -> None:
            if person.pk != self.visit.person_id:
                raise Refusal("unknown_person")
            check_insuplc(call, person)

        return check

    def check_bands(self, s: Settlement) -> None:
        for k in BANDS:
            sent = self.bands[k]
            if sent and sent != getattr(s, k):
                raise Refusal("amount_mismatch", f"{k} 与预结算结果不符")


def _claim_dates(call: Call, v: Visit, endtime: Any, lines: list[VisitLine], path: str) -> None:
    """The REST parser's claim-date rules (docs/decisions.md §Claim dates): ``begntime`` at most 366
    days before the settlement, every line within [``begntime``, ``endtime``]."""
    if v.begntime < call.received - MAX_CLAIM_AGE:
        raise invalid(f"{path}.begntime", "就诊开始时间超过366天")
    for ln in lines:
        if ln.fee_ocur_time < v.begntime or (endtime is not None and ln.fee_ocur_time > endtime):
            raise invalid(f"feedetail[{ln.feedetl_sn}].fee_ocur_time", "不在就诊起止时间内")


def _warn(s: Settlement) -> str | None:
    if not s.filing_created_now or s.filing is None:
        return None
    return f"[temporary_filing_created] 已补办临时备案(22)，有效期至 {s.filing.enddate.isoformat()}"


def preview(call: Call) -> Result:
    """2206 / 2303 预结算: the service's preview of the visit's bill; records nothing."""
    bill = _Bill(call)
    draft = bridge.preview(institution=call.institution, req=bill.request(call), between=bill.between(call))
    s = draft.settlement
    person = s.person
    bill.check_bands(s)
    info = setlinfo(
        s, person, setl_id="", cert_type=bill.cred["mdtrt_cert_type"], medins_setl_id=call.env.msgid
    )
    return Result(
        {"setlinfo": info, "setldetail": setldetail(s, draft.cap_left)},
        mdtrt_id=bill.visit.mdtrt_id,
        psn_no=person.psn_no,
    )


def settle(call: Call) -> Result:
    """2207 / 2304 结算: the service's settlement of the visit's unsettled lines (``medins_setl_id`` =
    ``msgid``); lines get the ``setl_id``, the visit is settled."""
    bill = _Bill(call)
    s, cap_left = bridge.settle(
        institution=call.institution,
        req=bill.request(call),
        principal=call.principal,
        between=bill.between(call),
    )
    bill.check_bands(s)
    VisitLine.objects.filter(pk__in=[ln.pk for ln in bill.lines]).update(setl_id=s.setl_id)
    visit_move(bill.visit, VisitStatus.SETTLED, call, frm=bill.state)
    person = s.person
    info = setlinfo(
        s, person, setl_id=s.setl_id, cert_type=bill.cred["mdtrt_cert_type"], medins_setl_id=call.env.msgid
    )
    return Result(
        {"setlinfo": info, "setldetail": setldetail(s, cap_left)},
        _warn(s),
        mdtrt_id=bill.visit.mdtrt_id,
        setl_id=s.setl_id,
        psn_no=person.psn_no,
    )


def reversal_output(rev: Settlement, orig: Settlement, cert_type: str, medins_setl_id: str) -> dict[str, Any]:
    """2208/2305 ``output``: the reversal's own ``setl_id`` and negated bands (§5.5)."""
    person = rev.person
    full = setlinfo(rev, person, setl_id=rev.setl_id, cert_type=cert_type, medins_setl_id=medins_setl_id)
    keep = (
        "mdtrt_id",
        "setl_id",
        "clr_optins",
        "setl_time",
        *MONEY_OUT,
        "pool_prop_selfpay",
        "fund_pay_sumamt",
        "psn_part_amt",
        "acct_pay",
        "psn_cash_pay",
        "balc",
        "medins_setl_id",
    )
    detail = setldetail(rev, ZERO)
    detail[0].pop("crt_payb_lmt_amt")
    return {"setlinfo": {k: full[k] for k in keep}, "setldetail": detail}


def reverse(call: Call) -> Result:
    """2208 / 2305 结算撤销: ``setl_id`` must be this visit's live settlement and ``psn_no`` its
    person (else ``unknown_setl``); the service's reversal (reason ``"2208"``/``"2305"``); lines
    unsettled, visit back to open/discharged."""
    path, node = wire.node_name(call.input, "data"), wire.node(call.input, "data")
    setl_id = wire.text(node, "setl_id", path, required=True, max_len=30)
    mdtrt_id = wire.text(node, "mdtrt_id", path, required=True, max_len=30)
    psn_no = wire.text(node, "psn_no", path, max_len=30)
    visit = (
        Visit.objects.select_for_update()
        .select_related("person")
        .filter(mdtrt_id=mdtrt_id, institution=call.institution)
        .first()
    )
    orig = Settlement.objects.filter(setl_id=setl_id, institution=call.institution).first()
    if (
        visit is None
        or orig is None
        or orig.mdtrt_id != mdtrt_id
        or (psn_no and psn_no != visit.person.psn_no)
    ):
        raise Refusal("unknown_setl")
    rev = undo_settlement(call, visit, orig, kind="reversal", reason=call.env.infno)
    return Result(
        reversal_output(rev, orig, visit.cert_type, call.env.msgid),
        mdtrt_id=visit.mdtrt_id,
        setl_id=rev.setl_id,
        psn_no=visit.person.psn_no,
    )


def undo_settlement(call: Call, visit: Visit, orig: Settlement, *, kind: str, reason: str) -> Settlement:
    """Reverse ``orig`` through the service (its refusals: ``already_reversed``, ``disputed``,
    ``not_reversible``); the visit's lines become unsettled and it moves back."""
    rev = bridge.reverse(
        institution=call.institution,
        setl_id=orig.setl_id,
        serial=call.env.msgid,
        reason=reason,
        principal=call.principal,
        kind=kind,
    )
    VisitLine.objects.filter(visit=visit, setl_id=orig.setl_id).update(setl_id="")
    back = VisitStatus.DISCHARGED if visit.endtime else VisitStatus.OPEN
    visit_move(visit, back, call, frm=VisitStatus.SETTLED)
    return rev
