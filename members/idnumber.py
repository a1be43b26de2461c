"""Resident ID numbers (GB 11643-1999): normalising, validating, masking, deriving gender and birth date."""

import datetime as dt
import operator
import unicodedata
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
# First two digits: the province-level regions of GB/T 2260 (plus 71 Taiwan, 81 Hong Kong, 82 Macao,
# and 83 used on residence permits).
PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65"
    " 71 81 82 83".split()
)


# The weighted sum over the ASCII codes of 17 digits exceeds the one over the digits by 48 x the weights' sum.
_ASCII_ZERO_OFFSET = ord("0") * sum(WEIGHTS)


def normalize(raw: object) -> str:
    """Full-width digits to ASCII, spaces (also non-breaking) dropped, x upper-cased."""
    if type(raw) is str and raw.isascii() and raw.isalnum():
        return raw.upper()  # already clean (NFKC and split() change no ASCII letters or digits): imports
    text = unicodedata.normalize("NFKC", str(raw or ""))
    return "".join(text.split()).upper()


def check_char(first17: str) -> str:
    """The check character for 17 ASCII digits."""
    if len(first17) != len(WEIGHTS) or not (first17.isascii() and first17.isdigit()):
        raise ValueError("check_char needs the first 17 characters of an ID number, all digits")
    # Byte values and map() keep the weighted sum in C: an import checks 100,000 numbers.
    return CHECK_CHARS[(sum(map(operator.mul, first17.encode(), WEIGHTS)) - _ASCII_ZERO_OFFSET) % 11]


class IdInfo(NamedTuple):
    number: str
    birth_date: dt.date
    gender: str  # "M" or "F"


def parse(raw: object, *, today: dt.date | None = None) -> IdInfo:
    """Validate an ID number and return what it tells; raise ValidationError with the cause.

    `today` (default: the real today) bounds the birth date; callers checking many numbers pass it once.
    """
    number = normalize(raw)
    if len(number) != 18:
        raise ValidationError(
            _("An ID number has 18 characters; this one has %(n)d."), code="length", params={"n": len(number)}
        )
    # isascii(): other scripts' digits (Arabic-Indic, Devanagari...) pass isdigit() but are not ID digits.
    if not (number.isascii() and number[:17].isdigit()) or not (number[17].isdigit() or number[17] == "X"):
        raise ValidationError(
            _("An ID number is 17 digits followed by a digit or X."), code="characters"
        )
    if number[:2] not in PROVINCES:
        raise ValidationError(_("The ID number's region code %(code)s does not exist."), code="region",
                              params={"code": number[:6]})
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(_("The ID number's birth date %(d)s is not a real date."), code="birth_date",
                              params={"d": number[6:14]}) from None
    if birth.year < 1900 or birth > (today or dt.date.today()):
        raise ValidationError(_("The ID number's birth date %(d)s is out of range."), code="birth_date",
                              params={"d": number[6:14]})
    if check_char(number[:17]) != number[17]:
        raise ValidationError(
            _("The ID number's check digit is wrong: please check it for a mistyped digit."), code="checksum"
        )
    return IdInfo(number=number, birth_date=birth, gender="M" if int(number[16]) % 2 else "F")


def validate_id_number(value: object) -> None:
    """A model/form field validator."""
    parse(value)


def mask(number: str) -> str:
    """110101********123X: region and the last four stay, birth date and sequence are hidden."""
    if not number:
        return ""
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def make(region: str, birth: dt.date, sequence: int) -> str:
    """A valid number for the given region, birth date and 3-digit sequence (for demo data and tests)."""
    first17 = f"{region}{birth:%Y%m%d}{sequence % 1000:03d}"
    return first17 + check_char(first17)


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
