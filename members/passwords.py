"""Password rules beyond Django's: a password may not contain the person's ID number digits."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class IdNumberDigitsValidator:
    """Refuses any six consecutive characters of the ID number (the initial password, the birth date...)."""

    run = 6

    def validate(self, password: str, user=None) -> None:
        number = getattr(user, "id_number", "") or ""
        lowered = password.upper()
        for start in range(0, max(len(number) - self.run + 1, 0)):
            if number[start : start + self.run] in lowered:
                raise ValidationError(
                    _("The password may not contain digits of your ID number."), code="password_has_id_digits"
                )

    def get_help_text(self) -> str:
        return _("Your password may not contain digits of your ID number.")
