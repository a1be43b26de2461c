"""Password rules beyond Django's: a password may not contain the person's ID number digits."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from . import idnumber


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
