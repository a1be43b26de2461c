"""Forms of the org pages: create a child, import children from a sheet, edit an org's info."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Org, OrgType, may_contain


class BootstrapForm(forms.Form):
    """Gives every widget Bootstrap's class so templates can render fields plainly."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for bound in self.visible_fields():
            widget = bound.field.widget
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


class OrgCreateForm(BootstrapForm):
    type = forms.ModelChoiceField(label=_("Type"), queryset=OrgType.objects.all(), empty_label=None)
    short_name = forms.CharField(label=_("Short name"), max_length=64)
    full_name = forms.CharField(label=_("Full name"), max_length=128)
    code = forms.CharField(
        label=_("Organization code"), max_length=32, required=False,
        help_text=_("Leave empty to have one assigned (the superior's code followed by a number)."),
    )
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=20, required=False)
    contact_email = forms.EmailField(label=_("Contact email"), required=False)

    def __init__(self, *args, parent: Org, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Every type validates, so a tampered choice reaches the service and gets its containment message;
        # the drop-down offers only the types this parent may hold.
        types = list(OrgType.objects.all())
        self.fields["type"].widget.choices = [
            (t.pk, t.name) for t in types if may_contain(parent.type.category, t.category)
        ]
        self.allowed_types = [t for t in types if may_contain(parent.type.category, t.category)]
        # Most new orgs are branches: preselect that type when the parent may hold one.
        branch = next((t for t in self.allowed_types if t.category == "branch"), None)
        if branch is not None:
            self.fields["type"].initial = branch.pk


class OrgBulkCreateForm(BootstrapForm):
    file = forms.FileField(
        label=_("Excel file"),
        help_text=_("An .xlsx or .xls sheet with the columns 简称, 类别 and 全称 (use the template)."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls"}),
    )


class OrgEditForm(BootstrapForm):
    short_name = forms.CharField(label=_("Short name"), max_length=64)
    full_name = forms.CharField(label=_("Full name"), max_length=128)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=20, required=False)
    contact_email = forms.EmailField(label=_("Contact email"), required=False)


class OrgMoveForm(BootstrapForm):
    parent_code = forms.CharField(
        label=_("New superior organization's code"), max_length=32,
        help_text=_("The code of the organization to move it under (search the tree to find it)."),
    )
