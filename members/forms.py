"""Forms of the member and cadre pages. They parse and normalise input only; the rules live in members.rules
and are applied by members.services (whose errors the views put back on these forms)."""

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import ETHNICITY_CHOICES, CadreNature, Education, MemberStatus, PoliticalStatus, Position
from .rules import MemberInput, check_member, normalize_development_number, normalize_phone, parse_year_month
from .services import EDITABLE_FIELDS, SELF_EDITABLE_FIELDS


class YearMonthField(forms.CharField):
    """入团年月: a month picker, but typed text such as 2015.05 or 2015年5月 is accepted too."""

    widget = forms.TextInput(attrs={"type": "month", "placeholder": "2015-05"})

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        return parse_year_month(value)

    def prepare_value(self, value):
        if isinstance(value, dt.date):
            return f"{value:%Y-%m}"
        return value


class PhoneField(forms.CharField):
    def to_python(self, value):
        return normalize_phone(super().to_python(value))


def _bootstrap(form: forms.Form) -> None:
    for f in form.fields.values():
        css = "form-select" if isinstance(f.widget, forms.Select) else "form-control"
        f.widget.attrs.setdefault("class", css)


class MemberForm(forms.Form):
    """Every field of a member record (add and admin edit)."""

    name = forms.CharField(label=_("Name"), max_length=64)
    id_number = forms.CharField(label=_("ID number"), max_length=24)
    ethnicity = forms.ChoiceField(label=_("Ethnicity"), choices=ETHNICITY_CHOICES, initial="汉族")
    political_status = forms.ChoiceField(
        label=_("Political status"), choices=PoliticalStatus.choices, initial=PoliticalStatus.LEAGUE_MEMBER
    )
    joined_on = YearMonthField(label=_("Joined the league (year and month)"))
    development_number = forms.CharField(
        label=_("Development number"), required=False, max_length=20,
        help_text=_("12 digits; required for members who joined in 2017 or later."),
    )
    phone = PhoneField(label=_("Mobile phone"), max_length=24)
    email = forms.EmailField(label=_("Email"), required=False)
    education = forms.ChoiceField(label=_("Education"), choices=[("", "—"), *Education.choices], required=False)
    occupation = forms.CharField(label=_("Occupation"), max_length=64, required=False)

    field_order = list(EDITABLE_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _bootstrap(self)

    def clean_development_number(self):
        return normalize_development_number(self.cleaned_data.get("development_number"))

    def to_input(self) -> MemberInput:
        data = self.cleaned_data
        return MemberInput(
            name=data.get("name", ""), id_number=data.get("id_number", ""), ethnicity=data.get("ethnicity", ""),
            political_status=data.get("political_status", ""), joined_on=data.get("joined_on"),
            development_number=data.get("development_number"), phone=data.get("phone", ""),
            email=data.get("email", ""), education=data.get("education", ""), occupation=data.get("occupation", ""),
        )

    def add_rule_errors(self, *, has_cadre_post: bool = False) -> None:
        """On a form that failed to parse, also report what the member rules say about the fields that did
        parse, so the admin sees every problem at once (the service re-checks everything on submit)."""
        errors = check_member(self.to_input(), today=timezone.localdate(), has_cadre_post=has_cadre_post)
        for name, message in errors.items():
            if name in self.fields and name not in self.errors and name in self.cleaned_data:
                self.add_error(name, message)

    def apply_errors(self, errors: dict[str, str]) -> None:
        """Put a service's {field: message} on the form (unknown fields become form-wide errors)."""
        for name, message in errors.items():
            self.add_error(name if name in self.fields else None, message)


def _changes(cleaned_data: dict, fields: tuple[str, ...], initial: dict) -> dict:
    """{field: new value} for those of `fields` whose value differs from `initial`."""
    out = {}
    for name in fields:
        new = cleaned_data.get(name)
        if name == "development_number":
            new = new or None
        if new != initial.get(name):
            out[name] = new
    return out


class MemberEditForm(MemberForm):
    """The admin edit: a reason is required when the name or the ID number is corrected."""

    reason = forms.CharField(
        label=_("Reason for correcting the name or ID number"), required=False, max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def changes(self, initial: dict) -> dict:
        return _changes(self.cleaned_data, EDITABLE_FIELDS, initial)


class SelfEditForm(MemberForm):
    """What a member may ask to change on their own record (not the name nor the ID number)."""

    field_order = list(SELF_EDITABLE_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["name"]
        del self.fields["id_number"]

    def changes(self, initial: dict) -> dict:
        return _changes(self.cleaned_data, SELF_EDITABLE_FIELDS, initial)


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=MemberStatus.choices)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500,
                             widget=forms.TextInput(attrs={"placeholder": _("Reason (recorded)")}))
    confirm = forms.BooleanField(label=_("I confirm this change (required to record leaving the league)"),
                                 required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _bootstrap(self)
        self.fields["confirm"].widget.attrs["class"] = "form-check-input"


class CadreForm(MemberForm):
    """A cadre post; the member fields are needed only when a branch's cadre is not yet its member."""

    position = forms.ChoiceField(label=_("Position"), choices=Position.choices)
    since = forms.DateField(label=_("In post since"), widget=forms.DateInput(attrs={"type": "date"}))
    nature = forms.ChoiceField(label=_("Nature"), choices=CadreNature.choices, initial=CadreNature.PART_TIME)

    field_order = ["name", "id_number", "position", "since", "nature", "phone", "email", "ethnicity",
                   "political_status", "joined_on", "development_number", "education", "occupation"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("joined_on", "phone", "ethnicity", "political_status"):
            self.fields[name].required = False
        _bootstrap(self)

    def clean_since(self):
        since = self.cleaned_data.get("since")
        if since and since > dt.date.today():
            raise ValidationError(_("The post cannot begin in the future."))
        return since


class CadreRemoveForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)
