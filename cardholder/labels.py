"""Chinese labels with the NHSA terms, for the cardholder pages. Pure data, no Django."""
from __future__ import annotations

# Order of the split on the page (spec/policy.md §The split).
SPLIT = {
    "medfee_sumamt": "医疗费总额",
    "fulamt_ownpay_amt": "全自费金额",
    "overlmt_selfpay": "超限价自费费用",
    "preselfpay_amt": "先行自付金额",
    "inscp_scp_amt": "符合政策范围金额",
    "act_pay_dedc": "实际支付起付线",
    "pool_prop_selfpay": "统筹基金支付比例",
    "hifp_pay": "统筹基金支出",
    "fund_pay_sumamt": "基金支付总额",
    "psn_part_amt": "个人负担总金额",
    "acct_pay": "个人账户支付",
    "psn_cash_pay": "现金支付",
    "balc": "个人账户余额",
    "clr_amt": "清算金额",
}

MED_TYPE = {
    "11": "普通门诊", "12": "门诊挂号", "13": "急诊", "14": "门诊慢特病",
    "21": "普通住院", "22": "外伤住院", "23": "转外诊治住院", "24": "急诊转住院", "41": "定点药店购药",
}

GROUP = {"outpatient": "门诊", "inpatient": "住院", "pharmacy": "药店购药"}

INSUTYPE = {"310": "职工基本医疗保险", "390": "城乡居民基本医疗保险"}

STATUS = {"settled": "已结算", "reversed": "已冲正", "reversal": "冲正记录"}

FILING_TYPE = {
    "11": "异地安置退休人员", "12": "异地长期居住人员", "13": "常驻异地工作人员",
    "21": "异地转诊人员", "22": "异地急诊抢救人员", "23": "其他临时外出就医人员",
}

STEP = {
    "inclusion": "默克尔包含证明 Merkle inclusion proof (RFC 9162)",
    "head_matches": "根哈希与签名批次头一致 root matches the signed cycle head",
    "signature": "批次头 Ed25519 签名 head signature",
    "record_matches": "叶子与本笔结算一致 leaf matches this record",
}

ERROR_TEXT = {
    "invalid_credentials": "证件号码或密码错误。Wrong certno or password.",
    "invalid": ("请检查输入：证件号码须为18位，密码至少10位。"
                "Check the certno (18 characters) and the password (≥ 10)."),
    "activation_failed": "信息不匹配，无法开通。These details do not match a registered person.",
    "already_active": "已开通，请直接登录。Already active: sign in.",
}
