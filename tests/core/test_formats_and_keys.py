"""core's building blocks: money formats (spec/README.md §Units), canonical JSON, encryption and
blind indexes (spec/security.md §Personal data at rest), signing keys, ids, permissions."""
from __future__ import annotations

import base64
import datetime as dt
import json
import time
from decimal import Decimal

import pytest
from cryptography.exceptions import InvalidTag
from hypothesis import given
from hypothesis import strategies as st

from core import crypto
from core.canonical import canonical_bytes, sha256_hex
from core.errors import Forbidden
from core.ids import new_request_id, new_setl_id
from core.money import fmt_money, fmt_ratio, parse_money, parse_quantity, parse_ratio, round2, round4
from core.permissions import province_scope, require_province, roles
from core.principals import Principal


@pytest.mark.parametrize("text", ["125.00", "0.00", "12345678901234.99", "0.01"])
def test_parse_money_accepts_two_places(text):
    assert parse_money(text) == Decimal(text)
    assert str(parse_money(text)) == text


@pytest.mark.parametrize("value", ["125", "125.5", "125.000", "1.25e2", "1E+2", "NaN", "Infinity", "-0.00x",
                                   " 125.00", "125.00 ", "125.00\n", "+125.00", "１２５.００",
                                   "123456789012345.00",
                                   125.0, 125, Decimal("125.00"), None, True, ""])
def test_parse_money_refuses_everything_else(value):
    with pytest.raises(ValueError):
        parse_money(value)


def test_parse_money_negative_only_when_allowed():
    with pytest.raises(ValueError, match="negative"):
        parse_money("-3000.00")
    assert parse_money("-3000.00", allow_negative=True) == Decimal("-3000.00")


@pytest.mark.parametrize("text,positive,ok", [
    ("10", True, True), ("12.5", True, True), ("0.0001", True, True), ("0", True, False), ("0", False, True),
    ("1.23456", False, False), ("-1", False, False), ("1e3", False, False), ("1234567890123", False, False),
    ("10\n", False, False), ("１０", False, False),
])
def test_parse_quantity(text, positive, ok):
    if ok:
        assert parse_quantity(text, positive=positive) == Decimal(text)
    else:
        with pytest.raises(ValueError):
            parse_quantity(text, positive=positive)


@pytest.mark.parametrize("text,expected", [("0.85", "0.85"), ("0", "0"), ("1", "1"), ("0.1000", "0.1000"),
                                           (" 0.10 ", "0.10")])
def test_parse_ratio_accepts(text, expected):
    assert parse_ratio(text) == Decimal(expected)


@pytest.mark.parametrize("value", ["1.0001", "0.12345", "-0.1", "1e-1", "NaN", ".5", "", "０.５", 0.85, None])
def test_parse_ratio_refuses(value):
    with pytest.raises(ValueError):
        parse_ratio(value)


def test_rounding_is_half_up():
    assert round2(Decimal("0.005")) == Decimal("0.01")
    assert round2(Decimal("-0.005")) == Decimal("-0.01")
    assert round2(Decimal("2.675")) == Decimal("2.68")
    assert round4(Decimal("0.05595")) == Decimal("0.0560")


def test_fmt_money_never_negative_zero():
    assert fmt_money(Decimal("-0.00")) == "0.00"
    assert fmt_money(Decimal("-0.004")) == "0.00"
    assert fmt_money(Decimal("-3000")) == "-3000.00"
    assert fmt_money(None) is None
    assert fmt_ratio(Decimal("-0")) == "0.0000"
    assert fmt_ratio(Decimal("0.85")) == "0.8500"


@given(st.decimals(min_value=Decimal("-99999999"), max_value=Decimal("99999999"), places=2))
def test_fmt_money_round_trips_through_parse(value):
    assert parse_money(fmt_money(value), allow_negative=True) == value


def test_canonical_bytes_are_rfc8785():
    doc = {"b": "2.00", "a": [1, "示例"], "c": {"z": None, "y": True}}
    assert canonical_bytes(doc) == '{"a":[1,"示例"],"b":"2.00","c":{"y":true,"z":null}}'.encode()
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def _keys(*pairs: tuple[str, bytes]) -> str:
    return ",".join(f"{kid}:{base64.b64encode(k).decode()}" for kid, k in pairs)


def test_encrypt_stores_key_id_and_no_plaintext(settings):
    settings.SETTLEMENT_ENCRYPTION_KEYS = _keys(("k1", b"\x01" * 32))
    stored = crypto.encrypt("340104198001011234")
    assert stored.startswith("k1:")
    assert "340104198001011234" not in stored
    assert crypto.encrypt("340104198001011234") != stored  # a fresh nonce each time
    assert crypto.decrypt(stored) == "340104198001011234"
    assert crypto.encrypt(None) is None and crypto.decrypt(None) is None


def test_old_keys_decrypt_newest_encrypts_unknown_refused(settings):
    settings.SETTLEMENT_ENCRYPTION_KEYS = _keys(("k1", b"\x01" * 32))
    old = crypto.encrypt("示例甲")
    settings.SETTLEMENT_ENCRYPTION_KEYS = _keys(("k1", b"\x01" * 32), ("k2", b"\x02" * 32))
    assert crypto.encrypt("x").startswith("k2:")
    assert crypto.decrypt(old) == "示例甲"
    assert crypto.encryption_key_ids() == ["k1", "k2"]
    settings.SETTLEMENT_ENCRYPTION_KEYS = _keys(("k2", b"\x02" * 32))
    with pytest.raises(crypto.KeyError_):
        crypto.decrypt(old)


def test_ciphertext_is_bound_to_its_key_id(settings):
    settings.SETTLEMENT_ENCRYPTION_KEYS = _keys(("k1", b"\x01" * 32), ("k2", b"\x01" * 32))
    stored = crypto.encrypt("340104198001011234")
    relabelled = "k1:" + stored.partition(":")[2]
    with pytest.raises(InvalidTag):
        crypto.decrypt(relabelled)


def test_blind_index_is_keyed_deterministic_and_per_purpose(settings):
    settings.SETTLEMENT_BLIND_INDEX_KEY = base64.b64encode(b"\x07" * 32).decode()
    a = crypto.blind_index("340104198001011234", purpose="certno")
    assert a == crypto.blind_index("340104198001011234", purpose="certno")
    assert len(a) == 64 and a != crypto.blind_index("340104198001011234", purpose="card_no")
    settings.SETTLEMENT_BLIND_INDEX_KEY = base64.b64encode(b"\x08" * 32).decode()
    assert crypto.blind_index("340104198001011234", purpose="certno") != a


def test_signing_keys_sign_and_verify(settings):
    settings.CLEARING_SIGNING_KEY = _keys(("s1", b"\x03" * 32), ("s2", b"\x04" * 32))
    key = crypto.current_signing_key()
    assert key.key_id == "s2"
    sig = key.sign(b"head bytes")
    assert len(sig) == 64
    crypto.signing_key("s2").public.verify(sig, b"head bytes")
    assert crypto.signing_key("s1").public_pem().startswith("-----BEGIN PUBLIC KEY-----")
    with pytest.raises(crypto.KeyError_):
        crypto.signing_key("nope")


def test_setl_ids_fit_and_grow_with_time():
    first = new_setl_id("S")
    time.sleep(0.002)
    later = new_setl_id("R")
    assert len(first) == 27 and len(later) <= 30
    assert first[20] == "S" and later[20] == "R"
    assert first[:20] < later[:20]
    assert dt.datetime.strptime(first[:14], "%Y%m%d%H%M%S")
    assert len(new_request_id()) == 32


def test_roles_permission_and_province_scope():
    class Req:
        def __init__(self, user):
            self.user = user

    bureau = Principal(role="bureau", actor="ah", admdvs="340000")
    staff = Principal(role="clearing_staff", actor="ops")
    perm = roles("bureau", "clearing_staff")()
    assert perm.has_permission(Req(bureau), None) and perm.has_permission(Req(staff), None)
    assert not perm.has_permission(Req(Principal(role="institution", actor="c")), None)
    assert not perm.has_permission(Req(None), None)
    with pytest.raises(ValueError):
        roles("admin")
    assert (province_scope(bureau), province_scope(staff)) == ("340000", None)
    require_province(bureau, "340100")
    require_province(staff, "310000")
    with pytest.raises(Forbidden):
        require_province(bureau, "310000")
    with pytest.raises(Forbidden):
        province_scope(Principal(role="cardholder", actor="P1"))


def test_problem_documents_are_json_serialisable():
    from django.utils import translation

    from core.errors import problem_body

    with translation.override("en"):
        body = problem_body(422, "no_filing", "No filing covers this institution.", setl_id="S1")
    assert json.loads(json.dumps(body)) == {
        "type": "https://kuasheng.example/problems/no_filing", "title": "Unprocessable Content",
        "status": 422, "detail": "No filing covers this institution.", "code": "no_filing", "setl_id": "S1",
    }
    with translation.override("zh-hans"):
        zh = problem_body(422, "no_filing", "No filing covers this institution.", setl_id="S1")
    assert (zh["title"], zh["detail"]) == ("无法处理的内容", "本次就医没有有效的备案。")


def test_json_rows_keep_strings_and_refuse_fractional_numbers():
    from core.imports import rows_from_json

    rows = rows_from_json({"items": [{"psn_no": "P1", "acct_balc": 12.34, "insutype": 310, "x": None,
                                      "flag": True, "ratio": "0.85"}]})
    assert rows == [{"psn_no": "P1", "acct_balc": "<JSON number 12.34>", "insutype": "310", "x": "",
                     "flag": "true", "ratio": "0.85"}]
    with pytest.raises(ValueError):
        parse_money(rows[0]["acct_balc"])
