"""Forms of the transfer pages: transfer in, transfer out, decide, reject, allocate.

Forms only parse input; every rule (who may, which member, which org) is checked by transfers.services.
"""

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from members.models import Member
from orgs.models import Org

from .models import Reason

_TEXT = {"class": "form-control"}
_SELECT = {"class": "form-select"}


class ReasonFields(forms.Form):
    reason = forms.ChoiceField(
        label=_("Reason"), choices=[("", "---------"), *Reason.choices], widget=forms.Select(attrs=_SELECT)
    )
    reason_text = forms.CharField(
        label=_("Details"), required=False, max_length=200, widget=forms.TextInput(attrs=_TEXT),
        help_text=_("Required when the reason is “Other”."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("reason") == Reason.OTHER and not (data.get("reason_text") or "").strip():
            self.add_error("reason_text", _("Describe the reason when you choose “Other”."))
        return data


class TransferInForm(ReasonFields):
    """办理转入: the receiving branch, and the member's name and ID number (both must match)."""

    target_branch = forms.ModelChoiceField(
        label=_("Receiving branch"), queryset=Org.objects.none(), widget=forms.Select(attrs=_SELECT),
        empty_label=None,
        # Offered: the branches of the actor's subtree; anything else posted gets the service's own words.
        error_messages={"invalid_choice": _("You can only transfer members into a branch you administer.")},
    )
    name = forms.CharField(label=_("Name"), max_length=64, widget=forms.TextInput(attrs=_TEXT))
    id_number = forms.CharField(
        label=_("ID number"), max_length=32, widget=forms.TextInput(attrs={**_TEXT, "autocomplete": "off"})
    )

    field_order = ["target_branch", "name", "id_number", "reason", "reason_text"]

    def __init__(self, *args: Any, branches: QuerySet[Org], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target_branch"].queryset = branches


class TransferOutForm(ReasonFields):
    """办理转出: a member of the actor's branches, and any org of the whole tree (chosen by search)."""

    member = forms.ModelChoiceField(
        label=_("Member"), queryset=Member.objects.none(), widget=forms.Select(attrs=_SELECT),
        error_messages={"invalid_choice": _("You can only transfer out members of branches you administer.")},
    )
    # The org's id, filled in by the search box; the service refuses ids that do not exist.
    target_org = forms.IntegerField(
        label=_("Target organization"), widget=forms.HiddenInput,
        error_messages={"required": _("Search for the target organization and choose it."),
                        "invalid": _("That organization does not exist.")},
    )

    field_order = ["member", "target_org", "reason", "reason_text"]

    def __init__(self, *args: Any, members: QuerySet[Member], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members
        self.fields["member"].label_from_instance = _member_label


def _member_label(m: Member) -> str:
    # Masked: the choice list is a list page, and the PIPL rule for lists applies.
    return f"{m.person.name}（{m.person.masked_id_number}）· {m.branch.short_name}"


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the rejection"), max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        error_messages={"required": _("Give a reason for the rejection.")},
    )


class ApproveForm(forms.Form):
    note = forms.CharField(
        label=_("Note"), required=False, max_length=500, widget=forms.TextInput(attrs=_TEXT),
    )


class AllocateForm(forms.Form):
    """The branch is offered from the target org's subtree; the service re-checks the posted id."""

    branch = forms.ModelChoiceField(
        label=_("Branch"), queryset=Org.objects.none(), widget=forms.Select(attrs=_SELECT),
        error_messages={"invalid_choice": _("Choose one of the branches offered.")},
    )

    def __init__(self, *args: Any, branches: QuerySet[Org], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches
        self.fields["branch"].label_from_instance = _branch_label


def _branch_label(org: Org) -> str:
    # Branch names repeat from one school or unit to the next ("2025级1班团支部"): name the parent too.
    label = f"{org.short_name}（{org.code}）"
    parent = org.parent if org.parent_id else None
    return f"{parent.short_name} / {label}" if parent is not None else label
