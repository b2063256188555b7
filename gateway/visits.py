"""The visit (就诊, ``mdtrt_id``) and its status moves (spec/nhsa-gateway.md §4.1, §5.2):
2201/2401 open, 2202/2404 cancel, 2203 visit information, 2402 discharge, 2405 undo discharge.

One transitions table; :func:`visit_move` is the only place a status changes and records each move.
The stored ``status`` is open, discharged or cancelled; *settled* is derived from the visit's live
settlement (:func:`visit_state`), so a reversal through either door reopens the visit. Lock order:
visit → settlement → person.
"""

from __future__ import annotations

import datetime as dt

from accounts.models import Person
from accounts.regions import pooling_region, province_of
from accounts.selectors import person_by_credential
from core.crypto import decrypt, encrypt
from core.errors import DomainError
from core.ids import new_setl_id
from gateway import bridge, wire
from gateway.errors import Refusal, invalid
from gateway.models import Visit, VisitLine, VisitStatus, VisitTransition
from gateway.persons import credential_of
from gateway.service import Call, Result
from settlement.eligibility import card_check, is_out_of_area
from settlement.models import Settlement
from settlement.request_parsing import CLOCK_SKEW, MAX_CLAIM_AGE

S = VisitStatus
TRANSITIONS: dict[str, set[str]] = {
    "": {S.OPEN},
    S.OPEN: {S.DISCHARGED, S.CANCELLED, S.SETTLED},
    S.DISCHARGED: {S.OPEN, S.CANCELLED, S.SETTLED},
    S.SETTLED: {S.OPEN, S.DISCHARGED},
    S.CANCELLED: set(),
}
OUTPATIENT_MED_TYPES = ("11", "12", "13", "14")
INPATIENT_MED_TYPES = ("21", "22", "23", "24")


def chain_of(infno: str) -> str:
    return Visit.Chain.OUTPATIENT if infno.startswith("22") else Visit.Chain.INPATIENT


def live_settlement(visit: Visit) -> Settlement | None:
    return Settlement.objects.filter(
        institution_id=visit.institution_id, mdtrt_id=visit.mdtrt_id, status=Settlement.Status.SETTLED
    ).first()


def visit_state(visit: Visit) -> str:
    """open / discharged / settled / cancelled, settled when the visit has a live settlement."""
    if visit.status != S.CANCELLED and live_settlement(visit) is not None:
        return S.SETTLED
    return visit.status


def visit_move(visit: Visit, to: str, call: Call, *, frm: str | None = None) -> None:
    """Move ``visit`` to ``to`` (validated against :data:`TRANSITIONS`) and record the move.
    ``settled`` is recorded but not stored (it is derived); caller holds the visit's row lock."""
    frm = visit_state(visit) if frm is None else frm
    if to not in TRANSITIONS[frm]:
        raise Refusal("visit_state", f"就诊状态不允许此交易：{frm}")
    if to != S.SETTLED:
        Visit.objects.filter(pk=visit.pk).update(status=to, endtime=visit.endtime)
        visit.status = to
    VisitTransition.objects.create(
        visit=visit,
        from_status=frm,
        to_status=to,
        msgid=call.env.msgid,
        infno=call.env.infno,
        at=call.received,
    )


def visit_locked(call: Call, node: dict, path: str) -> Visit:
    """The caller's visit named by ``mdtrt_id`` (row-locked), of the chain of the ``infno``; its
    ``psn_no`` must match when sent. Else ``unknown_visit``."""
    mdtrt_id = wire.text(node, "mdtrt_id", path, required=True, max_len=30)
    visit = (
        Visit.objects.select_for_update()
        .select_related("person")
        .filter(mdtrt_id=mdtrt_id, institution=call.institution)
        .first()
    )
    psn_no = wire.text(node, "psn_no", path, max_len=30)
    if visit is None or visit.chain != chain_of(call.env.infno) or (psn_no and psn_no != visit.person.psn_no):
        raise Refusal("unknown_visit")
    return visit


def visit_credential(visit: Visit) -> dict[str, str]:
    cred = {"mdtrt_cert_type": visit.cert_type, "mdtrt_cert_no": decrypt(visit.cert_no_enc) or ""}
    if visit.card_sn_enc:
        cred["card_sn"] = decrypt(visit.card_sn_enc) or ""
    return cred


def checked_person(call: Call, cred: dict[str, str], *, insutype: str, psn_no: str, path: str) -> Person:
    """policy.md's person checks up to out of area (credential, insutype, status), then the
    envelope's ``insuplc_admdvs`` (§3.1), then ``not_out_of_area``; ``psn_no`` must be the
    credential's person (``unknown_person``)."""
    try:
        cert_type, cert_no, card_sn = bridge.normalised_credential(cred)
    except DomainError as e:
        first = (e.errors or [{}])[0]
        if first.get("code") == "invalid_certno":
            raise Refusal("invalid_certno") from None
        raise invalid(
            f"{path}.{first.get('field', 'mdtrt_cert_no')}", first.get("message", "格式错误")
        ) from None
    person = person_by_credential(cert_type=cert_type, cert_no=cert_no, card_sn=card_sn)
    if psn_no and psn_no != person.psn_no:
        raise Refusal("unknown_person")
    if cert_type == "03":  # spec/cards.md, Changes to other parts: right after unknown_person
        card_check(cert_no)
    if insutype != person.insutype:
        raise Refusal("insutype_mismatch")
    if person.psn_insu_stas != Person.InsuStatus.INSURED:
        raise Refusal("not_insured")
    check_insuplc(call, person)
    if not is_out_of_area(person, call.institution):
        raise DomainError("not_out_of_area")
    return person


def check_insuplc(call: Call, person: Person) -> None:
    area = call.env.insuplc_admdvs
    if area not in {
        person.insuplc_admdvs,
        pooling_region(person.insuplc_admdvs),
        province_of(person.insuplc_admdvs),
    }:
        raise Refusal("insuplc_mismatch")


def _not_future(t: dt.datetime | None, call: Call, path: str) -> None:
    if t is not None and t > call.received:
        raise invalid(path, "不能晚于当前时间")


def _open(call: Call, node: dict, path: str, *, med_type: str, dise_codg: str) -> Visit:
    insutype = wire.text(node, "insutype", path, required=True, max_len=6)
    psn_no = wire.text(node, "psn_no", path, max_len=30)
    cred = credential_of(node, path)
    begntime = wire.time(node, "begntime", path, required=True)
    assert begntime is not None  # required=True refuses an absent one
    _not_future(begntime, call, f"{path}.begntime")
    if begntime < call.received - MAX_CLAIM_AGE:
        raise invalid(f"{path}.begntime", "就诊开始时间超过366天")
    person = checked_person(call, cred, insutype=insutype, psn_no=psn_no, path=path)
    visit = Visit.objects.create(
        mdtrt_id=new_setl_id("M", at=call.received),
        institution=call.institution,
        person=person,
        chain=chain_of(call.env.infno),
        status=S.OPEN,
        cert_type=cred["mdtrt_cert_type"],
        cert_no_enc=encrypt(cred["mdtrt_cert_no"]) or "",
        card_sn_enc=encrypt(cred.get("card_sn")) or "",
        insutype=insutype,
        med_type=med_type,
        dise_codg=dise_codg,
        ipt_otp_no=wire.text(node, "ipt_otp_no", path, max_len=30),
        begntime=begntime,
        open_msgid=call.env.msgid,
        created_at=call.received,
    )
    VisitTransition.objects.create(
        visit=visit,
        from_status="",
        to_status=S.OPEN,
        msgid=call.env.msgid,
        infno=call.env.infno,
        at=call.received,
    )
    return visit


def _med_type(node: dict, path: str, allowed: tuple[str, ...]) -> str:
    med_type = wire.text(node, "med_type", path, max_len=6)
    if med_type and med_type not in allowed:
        raise Refusal("med_type_mismatch")
    return med_type


def _main_diagnosis(call: Call) -> str:
    for d in wire.objects(call.input, "diseinfo"):
        if str(d.get("maindiag_flag", "")) == "1" and d.get("diag_code"):
            return str(d["diag_code"])[:30]
    return ""


def outpatient_register(call: Call) -> Result:
    """2201 门诊挂号: ``input.data`` → ``output.data`` {``mdtrt_id``, ``psn_no``, ``ipt_otp_no``}."""
    path, node = wire.node_name(call.input, "data"), wire.node(call.input, "data")
    visit = _open(
        call,
        node,
        path,
        med_type=_med_type(node, path, OUTPATIENT_MED_TYPES),
        dise_codg=wire.text(node, "dise_codg", path, max_len=30),
    )
    out = {"mdtrt_id": visit.mdtrt_id, "psn_no": visit.person.psn_no, "ipt_otp_no": visit.ipt_otp_no}
    return Result({"data": out}, mdtrt_id=visit.mdtrt_id, psn_no=visit.person.psn_no)


def inpatient_admit(call: Call) -> Result:
    """2401 入院办理: ``input.mdtrtinfo`` + ``diseinfo[]`` → ``output.result`` {``mdtrt_id``,
    ``psn_no``, ``ipt_otp_no``} ([UNCONFIRMED] node name)."""
    path, node = wire.node_name(call.input, "mdtrtinfo"), wire.node(call.input, "mdtrtinfo")
    med_type = _med_type(node, path, INPATIENT_MED_TYPES)
    dise = (
        wire.text(node, "dscg_maindiag_code", path, max_len=30)
        or _main_diagnosis(call)
        or wire.text(node, "dise_codg", path, max_len=30)
    )
    visit = _open(call, node, path, med_type=med_type, dise_codg=dise)
    out = {"mdtrt_id": visit.mdtrt_id, "psn_no": visit.person.psn_no, "ipt_otp_no": visit.ipt_otp_no}
    return Result({"result": out}, mdtrt_id=visit.mdtrt_id, psn_no=visit.person.psn_no)


def visit_cancel(call: Call) -> Result:
    """2202 挂号撤销 / 2404 入院撤销: open or discharged, no settled line → cancelled, unsettled
    lines dropped. ``output`` {}."""
    path, node = wire.node_name(call.input, "data"), wire.node(call.input, "data")
    visit = visit_locked(call, node, path)
    cancel_visit(visit, call)
    return Result({}, mdtrt_id=visit.mdtrt_id, psn_no=visit.person.psn_no)


def cancel_visit(visit: Visit, call: Call) -> None:
    from gateway.lines import unsettled_lines

    state = visit_state(visit)
    if state == S.SETTLED:
        raise Refusal("lines_settled")
    if state == S.CANCELLED:
        raise Refusal("visit_state", f"就诊状态不允许此交易：{state}")
    unsettled_lines(visit).delete()
    if VisitLine.objects.filter(visit=visit).exists():
        raise Refusal("lines_settled")
    visit_move(visit, S.CANCELLED, call, frm=state)


def outpatient_info(call: Call) -> Result:
    """2203 门诊就诊信息上传: sets ``med_type`` and ``dise_codg`` of an open visit. ``output`` {}."""
    path, node = wire.node_name(call.input, "mdtrtinfo"), wire.node(call.input, "mdtrtinfo")
    visit = visit_locked(call, node, path)
    state = visit_state(visit)
    if state != S.OPEN:
        raise Refusal("visit_state", f"就诊状态不允许此交易：{state}")
    med_type = _med_type(node, path, OUTPATIENT_MED_TYPES) or visit.med_type
    dise = _main_diagnosis(call) or wire.text(node, "dise_codg", path, max_len=30) or visit.dise_codg
    Visit.objects.filter(pk=visit.pk).update(med_type=med_type, dise_codg=dise)
    return Result({}, mdtrt_id=visit.mdtrt_id, psn_no=visit.person.psn_no)


def inpatient_discharge(call: Call) -> Result:
    """2402 出院办理: ``input.dscginfo`` → ``endtime`` set, ``discharged``; ``output.result``
    {``mdtrt_id``, ``psn_no``} (as the worked example G1.5)."""
    path, node = wire.node_name(call.input, "dscginfo"), wire.node(call.input, "dscginfo")
    visit = visit_locked(call, node, path)
    endtime = wire.time(node, "endtime", path, required=True)
    if endtime is not None and endtime < visit.begntime:
        raise invalid(f"{path}.endtime", "不能早于入院时间")
    if endtime is not None and endtime > call.received + CLOCK_SKEW:
        raise invalid(f"{path}.endtime", "不能晚于当前时间")
    state = visit_state(visit)
    if state != S.OPEN:
        raise Refusal("visit_state", f"就诊状态不允许此交易：{state}")
    dise = _main_diagnosis(call) or wire.text(node, "dise_codg", path, max_len=30)
    if dise:
        Visit.objects.filter(pk=visit.pk).update(dise_codg=dise)
    visit.endtime = endtime
    visit_move(visit, S.DISCHARGED, call, frm=state)
    return Result(
        {"result": {"mdtrt_id": visit.mdtrt_id, "psn_no": visit.person.psn_no}},
        mdtrt_id=visit.mdtrt_id,
        psn_no=visit.person.psn_no,
    )


def discharge_undo(call: Call) -> Result:
    """2405 出院撤销: discharged and not settled → open, ``endtime`` cleared. ``output`` {}."""
    path, node = wire.node_name(call.input, "data"), wire.node(call.input, "data")
    visit = visit_locked(call, node, path)
    undo_discharge(visit, call)
    return Result({}, mdtrt_id=visit.mdtrt_id, psn_no=visit.person.psn_no)


def undo_discharge(visit: Visit, call: Call) -> None:
    state = visit_state(visit)
    if state != S.DISCHARGED:
        raise Refusal("visit_state", f"就诊状态不允许此交易：{state}")
    visit.endtime = None
    visit_move(visit, S.OPEN, call, frm=state)
