"""GB 11643 certno normalisation (accounts/certno.py; spec/bureau-api.md §Reference data)."""
from __future__ import annotations

import datetime as dt

import pytest

from accounts.certno import InvalidCertno, check_char, mask_certno, normalize_certno


def test_valid_examples_unchanged():
    assert normalize_certno("340104198001011234") == "340104198001011234"
    assert normalize_certno("34010219900215321X") == "34010219900215321X"


def test_check_digit_iso7064():
    assert check_char("34010419800101123") == "4"
    assert check_char("34010219900215321") == "X"
    assert check_char("32050819930707042") == "X"


def test_wrong_check_digit_rejected():
    with pytest.raises(InvalidCertno) as e:
        normalize_certno("340104198001011235")
    assert e.value.code == "invalid_certno"
    assert e.value.reason == "check_digit"
    assert isinstance(e.value, ValueError)


def test_lower_case_x_stored_upper():
    assert normalize_certno("34010219900215321x") == "34010219900215321X"


def test_full_width_digits_and_spaces_folded():
    assert normalize_certno("  ３４０１０２１９９００２１５３２１ｘ ") == "34010219900215321X"


def test_fifteen_digit_legacy_converted():
    assert normalize_certno("340104800101123") == "340104198001011234"


@pytest.mark.parametrize("raw", ["340104198002301234", "340104198013011234", "340104800230123"])
def test_impossible_dates_rejected(raw):
    # 1980-02-30 and month 13 do not exist (check digits made to match so only the date is wrong)
    first17 = raw[:17] if len(raw) == 18 else None
    if first17:
        raw = first17 + check_char(first17)
    with pytest.raises(InvalidCertno) as e:
        normalize_certno(raw)
    assert e.value.reason == "date"


def test_future_birth_date_rejected():
    first17 = "34010420300101123"
    with pytest.raises(InvalidCertno):
        normalize_certno(first17 + check_char(first17), today=dt.date(2026, 11, 29))


@pytest.mark.parametrize("raw", ["", "12345", "34010419800101123Y", "3401041980010112345",
                                 "X40104198001011234"])
def test_bad_format_rejected(raw):
    with pytest.raises(InvalidCertno) as e:
        normalize_certno(raw)
    assert e.value.reason == "format"


def test_mask():
    assert mask_certno("340104198001011234") == "3401**********1234"
