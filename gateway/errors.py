"""Refusals of the gateway and their fixed ``err_msg`` texts (spec/nhsa-gateway.md §3.4).

Every refusal answers ``infcode`` -1 with ``err_msg`` ``[<code>] <中文说明>``; machines parse
``^\\[([a-z_]+)\\]``. The codes are the service's stable snake_case codes (spec/README.md §Errors);
the text is fixed per code, with the few placeholders the spec names.
"""

from __future__ import annotations

from core.errors import DomainError

TEXT = {
    # transport (§2)
    "bad_signature": "签名校验失败",
    "stale_timestamp": "时间戳超出允许范围",
    "replayed_nonce": "随机数重复",
    "unknown_client": "未注册的应用账户",
    "revoked_client": "应用账户已停用",
    "body_too_large": "报文超长",
    "unsupported_media_type": "不支持的内容类型",
    "throttled": "请求过于频繁",
    "service_unavailable": "服务暂不可用，请稍后重试",
    "https_required": "请使用HTTPS",
    "method_not_allowed": "仅支持POST",
    # envelope and state (§3.1, §3.2, §4)
    "invalid_msgid": "报文ID格式错误",
    "invalid_sign_no": "签到流水号无效",
    "fixmedins_mismatch": "机构编号与应用账户不符",
    "admdvs_mismatch": "就医地医保区划与机构不符",
    "insuplc_mismatch": "参保地医保区划与参保人不符",
    "unsupported_mid_setl": "不支持中途结算",
    "unsupported_encryption": "不支持加密报文",
    "msgid_reversed": "该报文已被冲正",
    # the service's codes (policy.md, hospital-api.md)
    "unknown_person": "未查询到参保人信息",
    "card_denied": "社会保障卡已挂失或注销，不能使用",
    "invalid_certno": "证件号码校验位错误",
    "unsupported_cert_type": "暂不支持医保电子凭证",
    "name_mismatch": "姓名与参保信息不符",
    "insutype_mismatch": "险种类型与参保信息不符",
    "not_insured": "参保人非正常参保状态",
    "not_out_of_area": "非异地就医人员，请在本地结算",
    "no_filing": "未查询到有效的异地就医备案",
    "no_policy": "未查询到参保地待遇政策",
    "unknown_visit": "就诊ID不存在",
    "med_type_mismatch": "医疗类别与交易不符",
    "no_lines": "无待结算费用明细",
    "lines_settled": "明细已结算，请先撤销结算",
    "unknown_setl": "结算ID不存在",
    "already_reversed": "该结算已撤销",
    "disputed": "该结算存在未结争议，不可撤销",
    "accumulator_overflow": "累计值超限",
}


class Refusal(Exception):
    """A gateway refusal: ``code`` and the text after ``[code] ``. ``text`` defaults to the fixed
    text of the code; codes with a placeholder (``invalid``, ``visit_state``, ``already_settled``,
    ``msgid_conflict``, ``not_reversible``, ``amount_mismatch``, ``unsupported_infno``) pass it."""

    def __init__(self, code: str, text: str | None = None) -> None:
        self.code = code
        self.text = TEXT.get(code, code) if text is None else text
        super().__init__(self.err_msg)

    @property
    def err_msg(self) -> str:
        return f"[{self.code}] {self.text}"


def invalid(path: str, reason: str) -> Refusal:
    """``[invalid] <json path> <reason>`` (§3.1), e.g. ``input.feedetail[2].pric 小数位数超限``."""
    return Refusal("invalid", f"{path} {reason}")


def from_domain_error(e: DomainError) -> Refusal:
    """A refusal of the settlement services in the gateway's words (same code, fixed text)."""
    code = e.code
    if code == "medins_setl_id_conflict":  # a REST serial already equal to this msgid (§3.4)
        return Refusal("msgid_conflict", "报文ID重复：原交易 REST")
    if code == "not_found":
        return Refusal("unknown_setl")
    if code == "invalid":
        first = (e.errors or [{}])[0]
        if first.get("code") == "invalid_certno":
            return Refusal("invalid_certno")
        return invalid(f"input.{first.get('field', 'data')}", first.get("message", "格式错误"))
    if code == "amount_mismatch":
        return Refusal(code, "医疗费总额与已上传明细合计不符")
    if code == "not_reversible":
        return Refusal(code, "撤销记录不可再撤销")
    if code in TEXT:
        return Refusal(code)
    return Refusal(code, e.detail)
