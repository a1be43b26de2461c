"""Forms of the registration-code pages: admin registration and completing the org info after it.

The forms only parse and shape input; the rules (code validity, ID numbers, password strength, the
verifier) are enforced by the services in orgs.admin_registration and orgs.secretary, whose CodeError the
views put on the named field.
"""

import re
import unicodedata

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Org

LANDLINE_RE = re.compile(r"^[0-9+\-() ]{5,20}$")
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


class BootstrapMixin:
    """Bootstrap classes on every widget."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-check-input" if isinstance(field.widget, forms.CheckboxInput) else "form-control"
            existing = field.widget.attrs.get("class", "")
            field.widget.attrs["class"] = f"{css} {existing}".strip()


def _mobile(value: str) -> str:
    # Spaces and dashes people type inside a number are dropped; full-width digits become ASCII.
    phone = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", value or ""))
    if phone.startswith("+86"):
        phone = phone[3:]
    if not PHONE_RE.match(phone):
        raise forms.ValidationError(_("%(value)s is not an 11-digit mainland mobile number."), params={"value": value})
    return phone


class RegisterAdminForm(BootstrapMixin, forms.Form):
    """The public registration form. `org` carries the chosen org's code (unique and human-readable, so a
    person without JavaScript can type it; a tampered or unknown one gets a clear error)."""

    org = forms.CharField(label=_("Organization"), max_length=32, error_messages={
        "required": _("Choose your organization: search for it by name or code."),
    })
    code = forms.CharField(
        label=_("Registration code"), max_length=64, strip=True,
        help_text=_("The code your superior organization gave you. It is case-sensitive."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "off",
                                      "class": "font-monospace"}),
    )
    name = forms.CharField(label=_("Your name"), max_length=64)
    id_number = forms.CharField(label=_("Your ID number"), max_length=32,
                                widget=forms.TextInput(attrs={"autocomplete": "username"}))
    phone = forms.CharField(label=_("Mobile phone"), max_length=20,
                            widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}))
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters, not all digits, not a common password, without digits of your ID"
                    " number. If you already have an account, enter its password."),
    )
    password2 = forms.CharField(label=_("Password again"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean_org(self) -> Org:
        value = self.cleaned_data["org"].strip()
        org = Org.objects.select_related("type", "parent").filter(code=value).first()
        if org is None:
            raise forms.ValidationError(
                _("No organization %(value)s exists: search for your organization again and choose it from the"
                  " list."), params={"value": value},
            )
        return org

    def clean_phone(self) -> str:
        return _mobile(self.cleaned_data["phone"])

    def clean(self) -> dict:
        data = super().clean()
        if data.get("password") and data.get("password2") is not None and data["password"] != data["password2"]:
            self.add_error("password2", _("The two passwords differ."))
        return data


class OrgCompleteForm(BootstrapMixin, forms.Form):
    """Contacts and secretary of an org; `as_deputy` records the person given as a deputy standing in."""

    contact_phone = forms.CharField(label=_("Contact phone"), max_length=20)
    contact_email = forms.EmailField(label=_("Contact email"), required=False)
    secretary_name = forms.CharField(label=_("Secretary's name"), max_length=64)
    secretary_id_number = forms.CharField(label=_("Secretary's ID number"), max_length=32)
    secretary_phone = forms.CharField(label=_("Secretary's mobile phone"), max_length=20)
    as_deputy = forms.BooleanField(
        label=_("The secretary could not be verified: record this person as a deputy standing in for now"),
        required=False,
    )

    def clean_contact_phone(self) -> str:
        value = self.cleaned_data["contact_phone"].strip()
        if not LANDLINE_RE.match(value):
            raise forms.ValidationError(_("Enter a phone number (digits, with an area code if a landline)."))
        return value

    def clean_secretary_phone(self) -> str:
        return _mobile(self.cleaned_data["secretary_phone"])
