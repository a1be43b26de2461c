"""The member-record rules, pure (no database): every path that creates or changes a member — the add form,
the admin edit, the personal-info approval and the Excel import — checks its input here, so all paths agree.

The cross-row rules (a development number is unique, a person is an active member of one branch only) need
the database and live in members.services.
See docs/members.md.
"""

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass, fields

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from . import idnumber
from .choices import ETHNICITIES, Education, PoliticalStatus

# League rule (2016 从严治团 reform, enforced by 智慧团建): from 1 January 2017 a new member is at least 14;
# records of people who joined before then may show 12 or 13, as the rules of the time allowed.
JOIN_AGE_CUTOFF = dt.date(2017, 1, 1)
MIN_JOIN_AGE = 14
MIN_JOIN_AGE_BEFORE_CUTOFF = 12
# Members leave the league at 28 unless they hold a cadre post (团章: 28 岁以下; 团干部 may stay on).
AGE_LIMIT = 28
# Development numbers (发展团员编号) were introduced for members joining from 2017 on.
DEVELOPMENT_NUMBER_FROM_YEAR = 2017
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
DEVNO_RE = re.compile(r"^\d{12}$")
# The Excel 1900 date system counts days from 1899-12-30 (it believes 1900 was a leap year).
EXCEL_EPOCH = dt.date(1899, 12, 30)
# Membership tests run once per imported row: Django's TextChoices.values rebuilds its list on every access
# and ETHNICITIES is a tuple, so the sets are built once here (the messages still list the choices in order).
_ETHNICITY_SET = frozenset(ETHNICITIES)
_POLITICAL_SET = frozenset(PoliticalStatus.values)
_EDUCATION_SET = frozenset(Education.values)
_PHONE_SEPARATORS = re.compile(r"[\s\-()（）]")


@dataclass
class MemberInput:
    """One member record as entered (form, import row or approved change), before the rules are checked."""

    name: str
    id_number: str
    ethnicity: str
    political_status: str
    joined_on: dt.date | None
    development_number: str | None
    phone: str
    email: str
    education: str
    occupation: str

    @classmethod
    def from_member(cls, member) -> "MemberInput":
        """The current values of a saved Member (with its person)."""
        person = member.person
        return cls(
            name=person.name, id_number=person.id_number, ethnicity=member.ethnicity,
            political_status=member.political_status, joined_on=member.joined_on,
            development_number=member.development_number, phone=person.phone, email=person.email,
            education=member.education, occupation=member.occupation,
        )

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


def _nfkc(value: object) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip()


def mask_email(email: str) -> str:
    """z***@example.org: the first character and the domain stay (PIPL, like the phone)."""
    local, at, domain = (email or "").partition("@")
    return (local[:1] + "***" + at + domain) if at else ("***" if email else "")


def mask_phone(phone: str) -> str:
    """138****5678: the first three and last four digits stay (PIPL: shown to viewers with no business with it)."""
    phone = phone or ""
    return phone[:3] + "****" + phone[7:] if len(phone) >= 11 else ("*" * len(phone))


def normalize_phone(value: object) -> str:
    """Full-width digits, spaces, dashes, a +86/0086/86 prefix and Excel numbers (13800138000.0) → '13800138000'.

    Returns the cleaned text even when it is not a valid mobile number: check_member says what is wrong.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if type(value) is str and value.isdigit() and value.isascii():
        text = value  # the common case: NFKC, strip and the separators change nothing here
    else:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = _nfkc(value)
        text = _PHONE_SEPARATORS.sub("", text)
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086") and len(text) == 15:
        text = text[4:]
    elif text.startswith("86") and len(text) == 13:
        text = text[2:]
    return text


def normalize_ethnicity(value: object) -> str:
    """'汉' → '汉族': forms and spreadsheets often drop the 族 suffix."""
    if type(value) is str and value in _ETHNICITY_SET:
        return value  # already one of the 56 (each is NFKC-stable and unpadded)
    text = _nfkc(value or "")
    if text and text not in _ETHNICITY_SET and f"{text}族" in _ETHNICITY_SET:
        return f"{text}族"
    return text


def normalize_development_number(value: object) -> str | None:
    """Excel numbers (201705000001.0) and full-width digits → text; empty → None."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    # NFKC changes no ASCII; split() drops the same characters as the \s the rule used to strip.
    text = "".join((value if type(value) is str and value.isascii() else _nfkc(value)).split())
    return text or None


def _year_month(year: int, month: int, original: object) -> dt.date:
    if not (1900 <= year <= 2100) or not (1 <= month <= 12):
        raise ValidationError(
            _("%(value)s is not a valid year and month (expected e.g. 2015-05)."),
            code="year_month", params={"value": original},
        )
    return dt.date(year, month, 1)


_YM_PATTERNS = (
    # 2015-05, 2015.05, 2015/5, 2015-05-01, 2015/5/1, 2015.5.1
    re.compile(r"^(\d{4})[-./](\d{1,2})(?:[-./]\d{1,2})?$"),
    # 2015年5月, 2015年5月1日
    re.compile(r"^(\d{4})年(\d{1,2})月(?:\d{1,2}日?)?$"),
    # 201505, 20150501
    re.compile(r"^(\d{4})(\d{2})(?:\d{2})?$"),
)


def parse_year_month(value: object) -> dt.date | None:
    """A join date (入团年月) as the first day of its month; None for an empty cell.

    Accepts date/datetime cells, Excel serial numbers, numbers like 201505, and the texts '2015-05',
    '2015.05', '2015/5', '201505', '2015年5月' (a day, if given, is dropped). Raises ValidationError otherwise.
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return dt.date(value.year, value.month, 1)
    if isinstance(value, dt.date):
        return dt.date(value.year, value.month, 1)
    if isinstance(value, bool):
        raise ValidationError(_("%(value)s is not a year and month."), code="year_month", params={"value": value})
    if isinstance(value, int | float):
        return _parse_number(value)
    if type(value) is str:
        return _parse_year_month_text(value)
    return _parse_year_month_text(str(value))


# An import column holds a few hundred distinct months in 100,000 rows. A refusal raises, and is not cached.
@functools.lru_cache(maxsize=4096)
def _parse_year_month_text(value: str) -> dt.date | None:
    # NFKC changes no ASCII; split() drops the same characters as the \s the rule used to strip.
    text = "".join((value if value.isascii() else _nfkc(value)).split())
    if not text:
        return None
    for pattern in _YM_PATTERNS:
        match = pattern.match(text)
        if match:
            return _year_month(int(match.group(1)), int(match.group(2)), value)
    raise ValidationError(
        _("%(value)s is not a year and month (expected e.g. 2015-05, 2015.05 or 2015年5月)."),
        code="year_month", params={"value": value},
    )


def _parse_number(value: int | float) -> dt.date:
    number = float(value)
    if number.is_integer():
        n = int(number)
        if 190001 <= n <= 210012:  # typed as 201505
            return _year_month(n // 100, n % 100, value)
        if 19000101 <= n <= 21001231:  # typed as 20150501
            return _year_month(n // 10000, n // 100 % 100, value)
        if 10000 <= n <= 80000:  # an Excel date serial (1927–2119; a bare year such as 2015 is not one)
            day = EXCEL_EPOCH + dt.timedelta(days=n)
            return dt.date(day.year, day.month, 1)
    else:
        year = int(number)
        hundredths = round((number - year) * 100)
        if 1900 <= year <= 2100:
            # A cell typed 2015.05 arrives as the number 2015.05; but 2015.1 may have been typed as 2015.10
            # (October) or 2015.1 (January): refuse to guess.
            if hundredths == 10:
                raise ValidationError(
                    _("%(value)s is ambiguous (is it month %(a)d or %(b)d?): enter the join date as text,"
                      " e.g. %(year)d-%(b)02d."),
                    code="year_month_ambiguous",
                    params={"value": value, "a": 1, "b": 10, "year": year},
                )
            if hundredths % 10 == 0:  # 2015.5 is May (2015.50 cannot be a month)
                hundredths //= 10
            return _year_month(year, hundredths, value)
        if 10000 <= number <= 80000:  # a datetime serial with a time of day
            day = EXCEL_EPOCH + dt.timedelta(days=int(number))
            return dt.date(day.year, day.month, 1)
    raise ValidationError(_("%(value)s is not a year and month."), code="year_month", params={"value": value})


@functools.lru_cache(maxsize=4096)
def _end_of_month(day: dt.date) -> dt.date:
    following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def turned_on(birth: dt.date, age: int) -> dt.date:
    """The day a person born on `birth` reaches `age` (29 February birthdays count from 1 March)."""
    try:
        return birth.replace(year=birth.year + age)
    except ValueError:
        return dt.date(birth.year + age, 3, 1)


def joining_age_error(birth: dt.date, joined_on: dt.date) -> str | None:
    """The message when a person was too young on joining, else None.

    joined_on has month precision, so the age is taken at the end of the join month: joining in the month one
    turns 14 is accepted (the league dates such joins to "the month one turns 14").
    """
    minimum = MIN_JOIN_AGE if joined_on >= JOIN_AGE_CUTOFF else MIN_JOIN_AGE_BEFORE_CUTOFF
    age = idnumber.age_on(birth, _end_of_month(joined_on))
    if age >= minimum:
        return None
    if joined_on >= JOIN_AGE_CUTOFF:
        return _(
            "Too young on joining: this person was %(age)d in %(month)s; members joining from 2017 on must be"
            " at least %(min)d (the month they turn %(min)d at the earliest: %(earliest)s)."
        ) % {"age": age, "month": f"{joined_on:%Y-%m}", "min": minimum,
             "earliest": f"{turned_on(birth, minimum):%Y-%m}"}
    return _(
        "Too young on joining: this person was %(age)d in %(month)s; even before 2017 a member had to be at"
        " least %(min)d."
    ) % {"age": age, "month": f"{joined_on:%Y-%m}", "min": minimum}


def check_member(data: MemberInput, *, today: dt.date | None = None, has_cadre_post: bool = False) -> dict[str, str]:
    """Check one member record against the league's rules: {field name: message}; empty means valid.

    Pure: no database access. `today` fixes the date the age limit is measured on; `has_cadre_post` exempts
    cadres from the 28-year age limit. The steps below each add their field's message to `errors`, in the
    order of the form.
    """
    today = today or dt.date.today()
    errors: dict[str, str] = {}
    _check_name(data.name, errors)
    birth = _check_id_number(data.id_number, today, errors)
    _check_ethnicity_and_political_status(data, errors)
    joined_on = _check_joined_on(data.joined_on, birth, today, errors)
    _check_development_number(data.development_number or None, joined_on, errors)
    _check_contacts_and_background(data, errors)
    if birth is not None and not has_cadre_post and idnumber.age_on(birth, today) >= AGE_LIMIT:
        errors.setdefault("id_number", _(
            "Over age (超龄): this person turned %(limit)d on %(date)s and holds no cadre post, so they cannot"
            " be an active member."
        ) % {"limit": AGE_LIMIT, "date": f"{turned_on(birth, AGE_LIMIT):%Y-%m-%d}"})
    return errors


def _check_name(value: str | None, errors: dict[str, str]) -> None:
    name = (value or "").strip()
    if not name:
        errors["name"] = _("Enter the name.")
    elif len(name) > 64:
        errors["name"] = _("A name has at most 64 characters.")


def _check_id_number(value: str | None, today: dt.date, errors: dict[str, str]) -> dt.date | None:
    """The birth date the ID number carries, or None (with the message) when it is missing or invalid."""
    if not (value or "").strip():
        errors["id_number"] = _("Enter the ID number.")
        return None
    try:
        return idnumber.parse(value, today=today).birth_date
    except ValidationError as exc:
        errors["id_number"] = " ".join(exc.messages)
        return None


def _check_ethnicity_and_political_status(data: MemberInput, errors: dict[str, str]) -> None:
    if not data.ethnicity:
        errors["ethnicity"] = _("Choose the ethnicity.")
    elif data.ethnicity not in _ETHNICITY_SET:
        errors["ethnicity"] = _("%(value)s is not one of the 56 ethnic groups.") % {"value": data.ethnicity}
    if data.political_status not in _POLITICAL_SET:
        errors["political_status"] = _("Political status must be one of: %(choices)s.") % {
            "choices": "、".join(PoliticalStatus.values)
        }


def _check_joined_on(
    value: object, birth: dt.date | None, today: dt.date, errors: dict[str, str]
) -> dt.date | None:
    """The join month (first of the month) when the value is a date at all, even a refused one; else None.

    An import row may carry anything here (MemberInput is typed dt.date, the sheet is not)."""
    if value is None:
        errors["joined_on"] = _("Enter the year and month of joining the league.")
        return None
    if not isinstance(value, dt.date):
        errors["joined_on"] = _("The join date is not a year and month.")
        return None
    joined_on = (value.date() if isinstance(value, dt.datetime) else value).replace(day=1)
    if joined_on > today:
        errors["joined_on"] = _("The join date %(month)s is in the future.") % {"month": f"{joined_on:%Y-%m}"}
    elif birth is not None:
        message = joining_age_error(birth, joined_on)
        if message:
            errors["joined_on"] = message
    return joined_on


def _check_development_number(devno: str | None, joined_on: dt.date | None, errors: dict[str, str]) -> None:
    """Required from 2017 on; 12 digits starting with the join year (2017 or 2018 in the rollout years)."""
    if devno is None:
        if joined_on is not None and joined_on.year >= DEVELOPMENT_NUMBER_FROM_YEAR:
            errors["development_number"] = _(
                "Members who joined in 2017 or later need their 12-digit development number."
            )
    elif not DEVNO_RE.match(devno):
        errors["development_number"] = _("A development number is 12 digits.")
    elif joined_on is not None and "joined_on" not in errors:
        prefix = int(devno[:4])
        allowed = {joined_on.year}
        # Numbers issued in the 2017–2018 rollout start with either year.
        if joined_on.year in (2017, 2018):
            allowed = {2017, 2018}
        if prefix not in allowed:
            errors["development_number"] = _(
                "A development number starts with the join year: expected %(expected)s…, got %(got)s…."
            ) % {"expected": "/".join(str(y) for y in sorted(allowed)), "got": devno[:4]}


def _check_contacts_and_background(data: MemberInput, errors: dict[str, str]) -> None:
    """Phone (required), email, education and occupation."""
    phone = data.phone or ""
    if not phone:
        errors["phone"] = _("Enter the mobile phone number.")
    elif not PHONE_RE.match(phone):
        errors["phone"] = _("%(value)s is not an 11-digit mainland mobile number.") % {"value": phone}
    if data.email:
        try:
            validate_email(data.email)
        except ValidationError:
            errors["email"] = _("%(value)s is not a valid email address.") % {"value": data.email}
    if data.education and data.education not in _EDUCATION_SET:
        errors["education"] = _("Education must be one of: %(choices)s.") % {"choices": "、".join(Education.values)}
    if data.occupation and len(data.occupation) > 64:
        errors["occupation"] = _("An occupation has at most 64 characters.")
