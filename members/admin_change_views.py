"""The admin change page: the org's admin or its direct superior admin picks the new admin among its cadres."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from approvals.kinds import ApprovalError
from approvals.models import ApprovalRequest
from approvals.selectors import pending_request
from orgs.models import OrgAdmin
from orgs.permissions import get_org_for, require

from . import admin_change as service
from .models import Person


class AdminChangeForm(forms.Form):
    """Choose the new admin among the org's cadres (other than the current admin) and say why."""

    new_admin = forms.ModelChoiceField(
        label=gettext_lazy("New admin"), queryset=Person.objects.none(), empty_label=None,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={"invalid_choice": gettext_lazy("The new admin must be a cadre of this organization.")},
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, candidates: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["new_admin"]
        field.queryset = candidates
        field.label_from_instance = lambda p: f"{p.name}（{p.masked_id_number}）"


@login_required
def admin_change(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    org = get_org_for(actor, pk)
    require(actor.is_admin_of(org) or actor.is_direct_superior_admin_of(org))
    current = OrgAdmin.objects.select_related("person").filter(org=org).first()
    candidates = service.admin_change_candidates(org)
    pending = pending_request(service.KIND, org)
    form = AdminChangeForm(request.POST or None, candidates=candidates)
    if request.method == "POST" and form.is_valid():
        try:
            outcome = service.admin_change(
                actor=actor, org=org, new_admin=form.cleaned_data["new_admin"], reason=form.cleaned_data["reason"],
            )
        except ApprovalError as exc:
            form.add_error(None, str(exc))
        else:
            if isinstance(outcome, ApprovalRequest):
                messages.success(request, _("The admin change waits for the approval of %(org)s.")
                                 % {"org": org.parent.short_name})
                return redirect("request_detail", pk=outcome.pk)
            messages.success(request, _("%(person)s is now the admin of %(org)s.")
                             % {"person": outcome.person.name, "org": org.short_name})
            if outcome.person.needs_password:
                # An admin never logs in with the initial password: they need a reset code from this admin.
                messages.warning(request, format_html(
                    _("{person} has never set a password and cannot log in as admin until they do: <a href=\"{url}\">"
                      "issue a reset code</a> and hand it to them."),
                    person=outcome.person.name, url=reverse("reset_code_issue", args=[outcome.person.pk])))
            return redirect("org_detail", pk=org.pk)
    return render(request, "members/admin_change.html", {
        "org": org, "form": form, "current": current, "pending": pending,
        "at_once": actor.is_direct_superior_admin_of(org),
    })
