"""Password rules beyond Django's: a password may not contain the person's ID number digits."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext_lazy

from . import idnumber

# Django 5.2 reworded MinimumLengthValidator's message and its own zh_Hans catalog still has the old wording,
# so the short-password error showed in English. Naming the new wording here keeps its translation in our
# catalog (makemessages drops entries no source names).
TOO_SHORT = ngettext_lazy(
    "This password is too short. It must contain at least %d character.",
    "This password is too short. It must contain at least %d characters.",
    "min_length",
)


class IdNumberDigitsValidator:
    """Refuses any six consecutive characters of the ID number (the initial password, the birth date...).

    Six, not fewer: shorter runs (a birth year, a month and day) would refuse too many honest passwords.
    """

    run = 6

    def validate(self, password: str, user=None) -> None:
        number = getattr(user, "id_number", "") or ""
        # Upper-cased and NFKC-normalised like the ID number itself: "x" and full-width digits count too.
        candidate = idnumber.normalize(password)
        for start in range(0, max(len(number) - self.run + 1, 0)):
            if number[start : start + self.run] in candidate:
                raise ValidationError(
                    _("The password may not contain digits of your ID number."), code="password_has_id_digits"
                )

    def get_help_text(self) -> str:
        return _("Your password may not contain digits of your ID number.")
