"""A settlement's money figures are declared once (settlement.split.SplitResult); the stored row,
the reversal's negation, the response and the OpenAPI serializers are derived from it. These tests
fail when one of them drifts (e.g. an amount added to the model or the serializer only)."""
from __future__ import annotations

from dataclasses import fields
from decimal import Decimal
from types import SimpleNamespace

from django.db import models

from core.fields import MoneyField, RatioField
from settlement import serializers as s
from settlement.models import FeeDetail, Settlement
from settlement.presenters import fee_line, setlinfo
from settlement.services.reverse import COPIED, NEGATED
from settlement.split import (
    FLOW_FIGURES,
    LINE_MONEY_FIGURES,
    MONEY_FIGURES,
    MOVED,
    RATIO_FIGURES,
    SETTLEMENT_FIGURES,
    LineOut,
    SplitResult,
)


def _decimal_columns(model: type[models.Model]) -> set[str]:
    return {f.name for f in model._meta.get_fields() if isinstance(f, models.DecimalField)}


def test_the_declaration_is_the_split_result():
    assert SETTLEMENT_FIGURES == tuple(f.name for f in fields(SplitResult) if f.name != "lines")
    assert set(MONEY_FIGURES) | set(RATIO_FIGURES) == set(SETTLEMENT_FIGURES)
    assert RATIO_FIGURES == ("pool_prop_selfpay",) and "balc" not in FLOW_FIGURES
    assert set(LINE_MONEY_FIGURES) == {f.name for f in fields(LineOut)} - {
        "chrgitm_lv", "selfpay_prop", "pric_uplmt_amt", "warn"}


def test_every_decimal_column_of_a_settlement_is_declared():
    assert _decimal_columns(Settlement) == set(SETTLEMENT_FIGURES) | set(MOVED)
    assert _decimal_columns(FeeDetail) == {"cnt", "pric", "det_item_fee_sumamt", "selfpay_prop",
                                           "pric_uplmt_amt", *LINE_MONEY_FIGURES}


def test_the_reversal_negates_every_flow_and_copies_the_ratios():
    assert set(NEGATED) == set(FLOW_FIGURES) | set(MOVED)
    assert set(RATIO_FIGURES) <= set(COPIED)
    assert set(SETTLEMENT_FIGURES) - set(NEGATED) - set(COPIED) == {"balc"}  # computed from the balance


def test_response_and_openapi_follow_the_declaration():
    row = SimpleNamespace(
        setl_id="S1", mdtrt_id="M1", medins_setl_id="X", insutype="310", med_type="21", clr_type="21",
        insuplc_admdvs="340100", mdtrtarea_admvs="310104", setl_time=None, clr_date=None,
        filing_type="", status="settled", **{n: Decimal("1.00") for n in (*SETTLEMENT_FIGURES, *MOVED)},
    )
    person = SimpleNamespace(psn_no="P", psn_name_enc=None, certno_enc=None)
    body = setlinfo(row, person=person, institution=SimpleNamespace(fixmedins_code="H"))
    figures_in_body = [k for k in body if k in SETTLEMENT_FIGURES]
    assert figures_in_body == list(SETTLEMENT_FIGURES)
    out = s.SetlinfoOut().fields
    assert [k for k in out if k in SETTLEMENT_FIGURES] == list(SETTLEMENT_FIGURES)
    assert [k for k in out if k in body] == list(body)  # same members, same order
    assert set(out) - set(body) == {"orig_setl_id", "reason"}  # reversals only
    for name in SETTLEMENT_FIGURES:
        assert isinstance(out[name], RatioField if name in RATIO_FIGURES else MoneyField), name
    line = SimpleNamespace(
        feedetl_sn="1", chrgitm_lv="01", selfpay_prop=Decimal(0), pric_uplmt_amt=None,
        det_item_fee_sumamt=Decimal(1), warn="", **{n: Decimal(0) for n in LINE_MONEY_FIGURES},
    )
    assert list(s.FeeLineOut().fields) == list(fee_line(line))
    money_out = [k for k, f in s.FeeLineOut().fields.items() if isinstance(f, MoneyField)]
    assert money_out == ["det_item_fee_sumamt", *LINE_MONEY_FIGURES]
