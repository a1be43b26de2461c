"""Resident ID numbers: GB 11643-1999 validation, normalisation, derived fields and masking."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from members import idnumber

VALID = "11010519491231002X"  # the standard's own example


def test_standard_example_is_valid_and_derives_birth_and_gender():
    info = idnumber.parse(VALID)
    assert info.number == VALID
    assert info.birth_date == dt.date(1949, 12, 31)
    assert info.gender == "F"  # 17th digit 2 is even


def test_lowercase_x_is_normalised():
    assert idnumber.parse(VALID.lower()).number == VALID


def test_full_width_digits_and_spaces_are_normalised():
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in VALID)
    assert idnumber.parse(f" {full_width[:6]}\u00a0{full_width[6:]} ").number == VALID


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("1101051949123100", "length"),
        ("11010519491231002XX", "length"),
        ("11010519491231A02X", "characters"),
        # Arabic-Indic digits pass str.isdigit() and NFKC keeps them: still not ID-number digits.
        ("110105194912310" + "\u0660\u0662" + "X", "characters"),
        ("99010519491231002X", "region"),
        ("110105194902300021", "birth_date"),
        ("110105194912310021", "checksum"),
        ("", "length"),
    ],
)
def test_bad_numbers_are_refused_with_their_cause(raw, code):
    with pytest.raises(ValidationError) as excinfo:
        idnumber.parse(raw)
    assert excinfo.value.code == code


def test_future_birth_date_is_refused():
    future = dt.date.today() + dt.timedelta(days=400)
    with pytest.raises(ValidationError) as excinfo:
        idnumber.parse(idnumber.make("110101", future, 1))
    assert excinfo.value.code == "birth_date"


def test_birth_date_bound_is_the_given_today():
    born = dt.date(2026, 5, 1)
    number = idnumber.make("110101", born, 1)
    assert idnumber.parse(number, today=born).birth_date == born
    with pytest.raises(ValidationError) as excinfo:
        idnumber.parse(number, today=born - dt.timedelta(days=1))
    assert excinfo.value.code == "birth_date"


def test_check_char_refuses_anything_but_17_ascii_digits():
    assert idnumber.check_char(VALID[:17]) == VALID[17]
    for bad in (VALID[:16], VALID[:16] + "A", VALID[:16] + "\u0661"):
        with pytest.raises(ValueError):
            idnumber.check_char(bad)


def test_make_produces_numbers_that_validate():
    for seq in range(50):
        number = idnumber.make("320102", dt.date(2001, 2, 28), seq)
        assert idnumber.parse(number).number == number


def test_mask_keeps_region_and_last_four():
    assert idnumber.mask(VALID) == "110105********002X"


def test_age_counts_whole_years():
    birth = dt.date(2000, 6, 15)
    assert idnumber.age_on(birth, dt.date(2028, 6, 14)) == 27
    assert idnumber.age_on(birth, dt.date(2028, 6, 15)) == 28
