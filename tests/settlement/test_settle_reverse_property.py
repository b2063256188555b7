"""Property: settling any bill and reversing it returns accumulators and balance to where they were
(spec/policy.md §The split, last paragraph), and every recorded split keeps the band identities."""

from __future__ import annotations

import secrets
from decimal import Decimal as D

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Institution, Person
from core.principals import Principal
from settlement.models import Accumulator, Settlement
from settlement.request_parsing import parse_settlement_request
from settlement.requests import ReversalRequest
from settlement.services.reverse import settlement_reverse
from settlement.services.settle import settlement_create
from settlement.split import round_half_up
from tests.settlement.conftest import CERT, bill

pytestmark = pytest.mark.django_db

# (person, insutype, med_type, institution, catalogue codes of the treatment province)
CASES = [
    (
        "甲",
        "310",
        "21",
        "H31010400001",
        [
            "XA01AAA001",
            "XB02BBB002",
            "001201000010000",
            "C0301020300000100001",
            "002201000010000",
            "NOT-LISTED",
        ],
    ),
    ("丁", "310", "24", "H31010400001", ["001201000010000", "002201000010000"]),
    ("乙", "310", "11", "H33010600001", ["XA01AAA001", "003101000010000", "001102000010000"]),
    ("丙", "390", "21", "H32010200001", ["001201000010000", "XA01AAA001"]),
    ("戊", "310", "41", "P34010400001", ["XB02BBB002"]),
    ("庚", "310", "11", "H32010200001", ["XA01AAA001"]),
]
qty = st.decimals(min_value=D("0.01"), max_value=D("50"), places=2)
price = st.decimals(min_value=D("0"), max_value=D("3000"), places=2)


def standing(psn_no: str) -> tuple:
    p = Person.objects.get(psn_no=psn_no)
    rows = Accumulator.objects.filter(person=p).values_list(
        "year", "insutype", "med_type_group", "deductible_used", "fund_paid"
    )
    return p.acct_balance, sorted(r for r in rows if r[3] or r[4])  # an all-zero row is no standing


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=st.sampled_from(CASES), data=st.data(), acct=st.sampled_from(["0", "1"]), twice=st.booleans())
def test_settle_then_reverse_restores(world, case, data, acct, twice):
    who, insutype, med_type, code, codes = case
    n = data.draw(st.integers(min_value=1, max_value=5))
    lines = []
    for _ in range(n):
        c, p = data.draw(qty), data.draw(price)
        lines.append((data.draw(st.sampled_from(codes)), str(c), str(p), f"{round_half_up(c * p):.2f}"))
    inst = Institution.objects.get(fixmedins_code=code)
    principal = Principal(role="institution", actor="prop", institution=inst)
    psn_no = {
        "甲": "34010000000000000001",
        "丁": "33010000000000000004",
        "乙": "32010000000000000002",
        "丙": "34010000000000000003",
        "戊": "31000000000000000005",
        "庚": "32050000000000000007",
    }[who]
    before = standing(psn_no)
    def settle(body: dict) -> Settlement:
        req = parse_settlement_request(body, now=timezone.now())
        return settlement_create(institution=inst, request=req, principal=principal).settlement

    first = settle(bill(CERT[who], insutype, med_type, lines, acct))
    second = settle(bill(CERT[who], insutype, med_type, lines[:1], acct)) if twice else None
    for s in (first, second):
        if s is None:
            continue
        assert s.medfee_sumamt == s.fulamt_ownpay_amt + s.overlmt_selfpay + s.preselfpay_amt + s.inscp_scp_amt
        assert s.fund_pay_sumamt + s.psn_part_amt == s.medfee_sumamt
        assert s.acct_pay + s.psn_cash_pay == s.psn_part_amt
        assert min(s.hifp_pay, s.acct_pay, s.psn_cash_pay, s.balc, s.act_pay_dedc) >= 0
    for s in (first, second):  # reverse in settlement order: each moves back exactly what it moved
        if s is not None:
            request = ReversalRequest(setl_id=s.setl_id, medins_setl_id=secrets.token_hex(6))
            settlement_reverse(institution=inst, request=request, principal=principal)
    assert standing(psn_no) == before
