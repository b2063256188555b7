"""Labels of the cardholder pages with the NHSA terms: English source strings, translated into
Chinese by ``locale/zh_Hans`` (the default language); rendered in the request's language."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# Order of the split on the page (spec/policy.md §The split).
SPLIT = {
    "medfee_sumamt": _("Total medical fees"),
    "fulamt_ownpay_amt": _("Fully self-paid amount"),
    "overlmt_selfpay": _("Self-paid above price limits"),
    "preselfpay_amt": _("Self-paid in advance (class B)"),
    "inscp_scp_amt": _("Amount within policy scope"),
    "act_pay_dedc": _("Deductible actually paid"),
    "pool_prop_selfpay": _("Pooled fund payment ratio"),
    "hifp_pay": _("Pooled fund payment"),
    "fund_pay_sumamt": _("Total fund payment"),
    "psn_part_amt": _("Total borne by the person"),
    "acct_pay": _("Personal account payment"),
    "psn_cash_pay": _("Cash payment"),
    "balc": _("Personal account balance"),
    "clr_amt": _("Clearing amount"),
}

MED_TYPE = {
    "11": _("General outpatient"), "12": _("Outpatient registration"), "13": _("Emergency"),
    "14": _("Chronic/special disease outpatient"), "21": _("General inpatient"), "22": _("Injury inpatient"),
    "23": _("Transferred inpatient"), "24": _("Emergency to inpatient"), "41": _("Pharmacy purchase"),
}

GROUP = {"outpatient": _("Outpatient"), "inpatient": _("Inpatient"), "pharmacy": _("Pharmacy purchase")}

INSUTYPE = {
    "310": _("Employee basic medical insurance"),
    "390": _("Urban-rural resident basic medical insurance"),
}

STATUS = {"settled": _("Settled"), "reversed": _("Reversed"), "reversal": _("Reversal record")}

FILING_TYPE = {
    "11": _("Retired and settled elsewhere"), "12": _("Long-term resident elsewhere"),
    "13": _("Posted worker elsewhere"), "21": _("Referral elsewhere"), "22": _("Emergency elsewhere"),
    "23": _("Other temporary treatment elsewhere"),
}

STEP = {
    "inclusion": _("Merkle inclusion proof (RFC 9162)"),
    "head_matches": _("Root matches the signed cycle head"),
    "signature": _("Ed25519 signature of the cycle head"),
    "record_matches": _("Leaf matches this record"),
}

ERROR_TEXT = {
    "invalid_credentials": _("Wrong certificate number or password."),
    "invalid": _("Check the certificate number (18 characters) and the password (at least 10)."),
    "activation_failed": _("These details do not match a registered person."),
    "already_active": _("Already activated: sign in."),
}
