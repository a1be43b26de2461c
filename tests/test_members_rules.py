"""The pure member-record rules (members.rules): each rule refuses bad input with a clear message."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from members import idnumber
from members.rules import (
    MemberInput,
    check_member,
    normalize_development_number,
    normalize_ethnicity,
    normalize_phone,
    parse_year_month,
    turned_on,
)


@pytest.fixture(autouse=True)
def _english():
    # Messages are asserted in their English source form, whatever the compiled catalog holds.
    with translation.override("en"):
        yield


TODAY = dt.date(2026, 11, 26)


def make_input(**overrides) -> MemberInput:
    values = dict(
        name="张三", id_number=idnumber.make("110101", dt.date(2005, 3, 15), 123), ethnicity="汉族",
        political_status="共青团员", joined_on=dt.date(2020, 5, 1), development_number="202005000001",
        phone="13800138000", email="a@example.org", education="本科", occupation="学生",
    )
    values.update(overrides)
    return MemberInput(**values)


def test_valid_record_has_no_errors():
    assert check_member(make_input(), today=TODAY) == {}


def test_name_is_required():
    assert "name" in check_member(make_input(name="  "), today=TODAY)


def test_invalid_id_number_reports_its_cause():
    bad = idnumber.make("110101", dt.date(2005, 3, 15), 123)[:-1] + "0"
    if bad == make_input().id_number:
        bad = bad[:-1] + "1"
    errors = check_member(make_input(id_number=bad), today=TODAY)
    assert "check digit" in errors["id_number"]


def test_short_id_number_reports_length():
    assert "18 characters" in check_member(make_input(id_number="1234"), today=TODAY)["id_number"]


def test_ethnicity_must_be_one_of_the_56():
    errors = check_member(make_input(ethnicity="火星族"), today=TODAY)
    assert "56" in errors["ethnicity"]


def test_political_status_must_be_a_choice():
    errors = check_member(make_input(political_status="群众"), today=TODAY)
    assert "共青团员" in errors["political_status"]


def test_join_date_is_required():
    assert "joined_on" in check_member(make_input(joined_on=None, development_number=None), today=TODAY)


def test_join_date_in_the_future_is_refused():
    errors = check_member(make_input(joined_on=dt.date(2027, 1, 1), development_number="202701000001"), today=TODAY)
    assert "future" in errors["joined_on"]


def test_join_in_current_month_is_accepted():
    errors = check_member(make_input(joined_on=dt.date(2026, 11, 1), development_number="202611000001"), today=TODAY)
    assert "joined_on" not in errors


def test_joining_at_13_after_2017_is_refused():
    birth = dt.date(2006, 6, 10)
    data = make_input(id_number=idnumber.make("110101", birth, 5), joined_on=dt.date(2020, 5, 1),
                      development_number="202005000001")
    errors = check_member(data, today=TODAY)
    assert "Too young" in errors["joined_on"]
    assert "2020-06" in errors["joined_on"]  # the earliest month they could join


def test_joining_in_the_month_one_turns_14_is_accepted():
    birth = dt.date(2006, 5, 31)
    data = make_input(id_number=idnumber.make("110101", birth, 5), joined_on=dt.date(2020, 5, 1),
                      development_number="202005000001")
    assert "joined_on" not in check_member(data, today=TODAY)


def test_joining_at_12_before_2017_is_accepted():
    birth = dt.date(2000, 1, 1)
    data = make_input(id_number=idnumber.make("110101", birth, 5), joined_on=dt.date(2012, 9, 1),
                      development_number=None)
    assert check_member(data, today=dt.date(2020, 1, 1)) == {}


def test_joining_at_11_before_2017_is_refused():
    birth = dt.date(2001, 10, 1)
    data = make_input(id_number=idnumber.make("110101", birth, 5), joined_on=dt.date(2012, 9, 1),
                      development_number=None)
    errors = check_member(data, today=dt.date(2020, 1, 1))
    assert "at least 12" in errors["joined_on"]


def test_development_number_required_from_2017():
    errors = check_member(make_input(development_number=None), today=TODAY)
    assert "2017" in errors["development_number"]


def test_development_number_not_required_before_2017():
    data = make_input(joined_on=dt.date(2016, 12, 1), development_number=None,
                      id_number=idnumber.make("110101", dt.date(2000, 1, 1), 7))
    assert "development_number" not in check_member(data, today=dt.date(2020, 1, 1))


@pytest.mark.parametrize("devno", ["20200500001", "2020050000011", "2020O5000001", "２０２００５０００００１x"])
def test_development_number_must_be_12_digits(devno):
    errors = check_member(make_input(development_number=devno), today=TODAY)
    assert "12 digits" in errors["development_number"]


def test_development_number_starts_with_join_year():
    errors = check_member(make_input(development_number="201905000001"), today=TODAY)
    assert "2020" in errors["development_number"] and "2019" in errors["development_number"]


@pytest.mark.parametrize("joined,devno", [(2017, "201801000001"), (2018, "201701000001")])
def test_2017_and_2018_prefixes_are_interchangeable(joined, devno):
    data = make_input(joined_on=dt.date(joined, 5, 1), development_number=devno,
                      id_number=idnumber.make("110101", dt.date(2000, 1, 1), 9))
    assert "development_number" not in check_member(data, today=dt.date(2020, 1, 1))


@pytest.mark.parametrize("phone", ["", "1380013800", "23800138000", "12800138000", "138001380001"])
def test_phone_must_be_a_mainland_mobile(phone):
    assert "phone" in check_member(make_input(phone=phone), today=TODAY)


def test_email_must_be_valid_when_given():
    assert "email" in check_member(make_input(email="not-an-email"), today=TODAY)
    assert "email" not in check_member(make_input(email=""), today=TODAY)


def test_education_must_be_a_choice_when_given():
    assert "education" in check_member(make_input(education="幼儿园"), today=TODAY)
    assert "education" not in check_member(make_input(education=""), today=TODAY)


def test_person_aged_28_without_cadre_post_is_over_age_with_the_date():
    birth = dt.date(1998, 3, 15)
    data = make_input(id_number=idnumber.make("110101", birth, 5), joined_on=dt.date(2012, 5, 1),
                      development_number=None)
    errors = check_member(data, today=TODAY)
    assert "超龄" in errors["id_number"]
    assert "2026-03-15" in errors["id_number"]


def test_person_one_day_before_28_is_not_over_age():
    birth = dt.date(1998, 11, 27)
    data = make_input(id_number=idnumber.make("110101", birth, 5), joined_on=dt.date(2012, 5, 1),
                      development_number=None)
    assert check_member(data, today=TODAY) == {}


def test_cadre_aged_28_may_be_active_member():
    birth = dt.date(1990, 3, 15)
    data = make_input(id_number=idnumber.make("110101", birth, 5), joined_on=dt.date(2005, 5, 1),
                      development_number=None)
    assert check_member(data, today=TODAY, has_cadre_post=True) == {}


def test_leap_day_birthday_turns_28_on_first_of_march():
    assert turned_on(dt.date(1999, 2, 28), 28) == dt.date(2027, 2, 28)
    assert turned_on(dt.date(2000, 2, 29), 27) == dt.date(2027, 3, 1)


@pytest.mark.parametrize(
    "value",
    [
        "2015-05", "2015.05", "2015/5", "201505", "2015年5月", "2015年05月01日", "２０１５－０５", " 2015-5 ",
        dt.date(2015, 5, 20), dt.datetime(2015, 5, 20, 10, 0), 42125, 42125.5, 201505, 2015.05, 2015.5,
        "2015-05-01",
    ],
)
def test_parse_year_month_accepts_common_spellings(value):
    assert parse_year_month(value) == dt.date(2015, 5, 1)


@pytest.mark.parametrize("value", [None, "", "  "])
def test_parse_year_month_empty_is_none(value):
    assert parse_year_month(value) is None


@pytest.mark.parametrize("value", ["abc", "2015-13", "15-05", 2015, "2015年13月", True])
def test_parse_year_month_refuses_with_clear_message(value):
    with pytest.raises(ValidationError) as exc:
        parse_year_month(value)
    assert "year and month" in exc.value.messages[0]


def test_parse_year_month_refuses_ambiguous_decimal():
    with pytest.raises(ValidationError) as exc:
        parse_year_month(2015.1)
    assert "ambiguous" in exc.value.messages[0]


@pytest.mark.parametrize(
    "value", ["13800138000", 13800138000, 13800138000.0, "+86 138 0013 8000", "+8613800138000",
              "８６１３８００１３８０００", "138-0013-8000", "008613800138000", " 13800138000 "],
)
def test_normalize_phone(value):
    assert normalize_phone(value) == "13800138000"


def test_normalize_phone_empty():
    assert normalize_phone(None) == ""


def test_normalize_ethnicity_adds_suffix():
    assert normalize_ethnicity("汉") == "汉族"
    assert normalize_ethnicity("回族") == "回族"
    assert normalize_ethnicity("火星") == "火星"


def test_normalize_development_number_from_excel_float():
    assert normalize_development_number(201705000001.0) == "201705000001"
    assert normalize_development_number("  ") is None
    assert normalize_development_number(None) is None
