"""Forms of the account pages: login, set/change/reset password. They check shape only (required fields,
the captcha, the two new passwords agreeing); the rules themselves live in members.accounts."""

from captcha.fields import CaptchaField, CaptchaTextInput
from django import forms
from django.utils.translation import gettext_lazy as _

PASSWORD_MAX_LENGTH = 256  # long passphrases are welcome; the bound only stops absurd posts


def _password_field(label: str, *, autocomplete: str, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        max_length=PASSWORD_MAX_LENGTH,
        help_text=help_text,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete, "class": "form-control"}),
    )


class CaptchaWidget(CaptchaTextInput):
    """The captcha as an input group: answer, image, and a link to another image (audio needs flite)."""

    # In the app (not templates/): widgets render with the form renderer, which looks in apps only.
    template_name = "accounts/captcha_widget.html"


class LoginForm(forms.Form):
    # Not validated as an ID number here: a malformed one must fail exactly like a wrong password.
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "class": "form-control", "autofocus": True,
                   "placeholder": _("18-character resident ID number"), "spellcheck": "false"}
        ),
    )
    password = _password_field(_("Password"), autocomplete="current-password")
    captcha = CaptchaField(
        label=_("Captcha"),
        error_messages={"invalid": _("The captcha is incorrect. Type the characters in the new image.")},
        widget=CaptchaWidget(attrs={"class": "form-control", "placeholder": _("Characters in the image")}),
    )


class NewPasswordForm(forms.Form):
    """Two copies of a new password that must agree."""

    new_password1 = _password_field(_("New password"), autocomplete="new-password")
    new_password2 = _password_field(_("New password again"), autocomplete="new-password")

    def clean(self) -> dict:
        data = super().clean()
        one, two = data.get("new_password1"), data.get("new_password2")
        if one and two and one != two:
            self.add_error("new_password2", _("The two new passwords differ."))
        return data


class PasswordChangeForm(NewPasswordForm):
    old_password = _password_field(_("Current password"), autocomplete="current-password")
    field_order = ["old_password", "new_password1", "new_password2"]


class PasswordResetForm(NewPasswordForm):
    id_number = forms.CharField(
        label=_("ID number"), max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "username", "class": "form-control", "spellcheck": "false"}),
    )
    code = forms.CharField(
        label=_("Reset code"), max_length=40,
        help_text=_("The one-time code your organization's admin gave you, e.g. ABCD-EFGH-JKMN."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "class": "form-control", "spellcheck": "false"}),
    )
    field_order = ["id_number", "code", "new_password1", "new_password2"]
