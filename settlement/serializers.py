"""Request and response shapes of the settlement API for the OpenAPI schema (spec/hospital-api.md).

Requests are parsed strictly by :mod:`settlement.request_parsing` into :mod:`settlement.requests`
(money as 2-place strings, JSON numbers
refused, every bad field named); these serializers describe the same shapes for drf-spectacular and
are not used to coerce input.
"""

from __future__ import annotations

from rest_framework import serializers

from core.fields import MoneyField, RatioField
from settlement.requests import CERT_TYPES, INSUTYPES, MED_TYPES
from settlement.split import LINE_MONEY_FIGURES, RATIO_FIGURES, SETTLEMENT_FIGURES

MONEY_HELP = 'decimal yuan string with exactly 2 places, e.g. "125.00"'


class FeeLineIn(serializers.Serializer):
    feedetl_sn = serializers.CharField(max_length=30, help_text="unique within the request")
    med_list_codg = serializers.CharField(max_length=50)
    fee_ocur_time = serializers.CharField(help_text="ISO 8601 with offset; not in the future")
    cnt = serializers.CharField(help_text=r"^\d{1,12}(\.\d{1,4})?$, > 0")
    pric = serializers.CharField(help_text=r"^\d{1,12}(\.\d{1,4})?$")
    det_item_fee_sumamt = MoneyField(help_text=MONEY_HELP)


class SettleRequestIn(serializers.Serializer):
    medins_setl_id = serializers.CharField(
        max_length=30, help_text="the institution's serial: idempotency key"
    )
    mdtrt_cert_type = serializers.ChoiceField(choices=CERT_TYPES)
    mdtrt_cert_no = serializers.CharField()
    card_sn = serializers.CharField(required=False, allow_null=True)
    psn_name = serializers.CharField(required=False, allow_null=True)
    insutype = serializers.ChoiceField(choices=INSUTYPES)
    med_type = serializers.ChoiceField(choices=MED_TYPES)
    begntime = serializers.CharField()
    endtime = serializers.CharField(required=False, allow_null=True)
    dise_codg = serializers.CharField(required=False, allow_null=True)
    acct_used_flag = serializers.ChoiceField(choices=["0", "1"])
    feedetail = FeeLineIn(many=True, help_text="1 to 1000 lines")


class FilingOut(serializers.Serializer):
    filing_type = serializers.CharField()
    temporary = serializers.BooleanField()
    created_now = serializers.BooleanField()


def _figure_field(name: str) -> serializers.Field:
    if name in RATIO_FIGURES:
        return RatioField(help_text="ratio with 4 places")
    return MoneyField(help_text="account balance after" if name == "balc" else MONEY_HELP)


# ``setlinfo``: the settlement's figures come from their one declaration (settlement.split.SplitResult),
# in its order, between the identifying fields and the filing/status fields (as the presenter writes them).
SetlinfoOut = type(
    "SetlinfoOut",
    (serializers.Serializer,),
    {
        "__module__": __name__,
        "__doc__": "A settlement's or reversal's ``setlinfo`` (settlement.presenters.setlinfo).",
        "setl_id": serializers.CharField(required=False, help_text="absent in previews"),
        "mdtrt_id": serializers.CharField(allow_null=True),
        "medins_setl_id": serializers.CharField(allow_null=True),
        "psn_no": serializers.CharField(),
        "psn_name": serializers.CharField(help_text="masked for bureau and staff readers"),
        "certno": serializers.CharField(help_text="masked: 3401**********1234"),
        "insutype": serializers.CharField(),
        "med_type": serializers.CharField(),
        "clr_type": serializers.CharField(),
        "insuplc_admdvs": serializers.CharField(),
        "mdtrtarea_admvs": serializers.CharField(),
        "fixmedins_code": serializers.CharField(),
        "setl_time": serializers.CharField(),
        "clr_date": serializers.CharField(),
        **{name: _figure_field(name) for name in SETTLEMENT_FIGURES},
        "filing": FilingOut(allow_null=True),
        "orig_setl_id": serializers.CharField(required=False, help_text="reversals only"),
        "reason": serializers.CharField(required=False, allow_null=True, help_text="reversals only"),
        "status": serializers.ChoiceField(choices=["settled", "reversed", "reversal", "preview"]),
    },
)


FeeLineOut = type(
    "FeeLineOut",
    (serializers.Serializer,),
    {
        "__module__": __name__,
        "__doc__": "A fee line's result (settlement.presenters.fee_line).",
        "feedetl_sn": serializers.CharField(),
        "chrgitm_lv": serializers.CharField(),
        "selfpay_prop": serializers.CharField(),
        "pric_uplmt_amt": serializers.CharField(allow_null=True),
        "det_item_fee_sumamt": MoneyField(help_text=MONEY_HELP),
        **{name: MoneyField(help_text=MONEY_HELP) for name in LINE_MONEY_FIGURES},
        "warn": serializers.CharField(allow_null=True),
    },
)


class SettlementOut(serializers.Serializer):
    setlinfo = SetlinfoOut()
    feedetail = FeeLineOut(many=True)


class BatchIn(serializers.Serializer):
    items = SettleRequestIn(many=True, help_text="1 to 1000 settle requests")


class BatchResultOut(serializers.Serializer):
    status = serializers.IntegerField()
    setlinfo = SetlinfoOut(required=False)
    problem = serializers.DictField(required=False)


class BatchOut(serializers.Serializer):
    results = BatchResultOut(many=True)


class ReversalIn(serializers.Serializer):
    medins_setl_id = serializers.CharField(max_length=30)
    reason = serializers.CharField(required=False, allow_blank=True)


class SettlementListOut(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = SetlinfoOut(many=True)


class LookupIn(serializers.Serializer):
    mdtrt_cert_type = serializers.ChoiceField(choices=CERT_TYPES)
    mdtrt_cert_no = serializers.CharField()
    card_sn = serializers.CharField(required=False, allow_null=True)


class LookupFilingOut(serializers.Serializer):
    filing_type = serializers.CharField()
    mdtrtarea_admvs = serializers.CharField()
    begndate = serializers.DateField()
    enddate = serializers.DateField()


class LookupOut(serializers.Serializer):
    psn_no = serializers.CharField()
    psn_name = serializers.CharField()
    certno = serializers.CharField()
    insutype = serializers.CharField()
    insuplc_admdvs = serializers.CharField()
    psn_insu_stas = serializers.CharField()
    balc = MoneyField(help_text=MONEY_HELP)
    filings = LookupFilingOut(many=True)
    out_of_area = serializers.BooleanField()


class FiguresOut(serializers.Serializer):
    medfee_sumamt = MoneyField(help_text=MONEY_HELP)
    fund_pay_sumamt = MoneyField(help_text=MONEY_HELP)
    acct_pay = MoneyField(help_text=MONEY_HELP)
    fixmedins_setl_cnt = serializers.IntegerField()


class TotalsIn(FiguresOut):
    stmt_begndate = serializers.DateField()
    stmt_enddate = serializers.DateField()
    insutype = serializers.CharField(required=False)
    clr_type = serializers.CharField(required=False)


class TotalsOut(serializers.Serializer):
    stmt_rslt = serializers.ChoiceField(choices=["0", "1"])
    ours = FiguresOut()
    diff = FiguresOut()


class DetailItemIn(serializers.Serializer):
    setl_id = serializers.CharField()
    medfee_sumamt = MoneyField(help_text=MONEY_HELP)
    fund_pay_sumamt = MoneyField(help_text=MONEY_HELP)
    acct_pay = MoneyField(help_text=MONEY_HELP)
    refd_setl_flag = serializers.ChoiceField(choices=["0", "1"])


class DetailsIn(serializers.Serializer):
    stmt_begndate = serializers.DateField()
    stmt_enddate = serializers.DateField()
    items = DetailItemIn(many=True)


class DetailOursOut(serializers.Serializer):
    medfee_sumamt = MoneyField(help_text=MONEY_HELP)
    fund_pay_sumamt = MoneyField(help_text=MONEY_HELP)
    acct_pay = MoneyField(help_text=MONEY_HELP)
    refd_setl_flag = serializers.CharField()


class DetailRowOut(serializers.Serializer):
    setl_id = serializers.CharField()
    stmt_rslt = serializers.CharField()
    reason = serializers.CharField(allow_null=True)
    ours = DetailOursOut(allow_null=True)


class DetailsOut(serializers.Serializer):
    stmt_rslt = serializers.ChoiceField(choices=["0", "1"])
    rows = DetailRowOut(many=True)
