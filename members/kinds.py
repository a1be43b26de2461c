"""The request kinds of the people layer on the approvals engine, registered from MembersConfig.ready():
personal info (a member asks to change their own record) and admin change (an org's admin hands the role on).
See docs/approvals.md."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from approvals.kinds import ApprovalError, Kind, register
from orgs.models import Org, OrgAdmin

from . import admin_change, services
from .models import Member, Person

if TYPE_CHECKING:
    from approvals.models import ApprovalRequest
    from orgs.permissions import Actor


def _member_org(member: Member) -> Org:
    return member.branch


def _org_of_org(org: Org) -> Org:
    return org


def _person_name(pk: Any) -> str:
    if pk in (None, ""):
        return "—"
    person = Person.objects.filter(pk=pk).only("name", "id_number").first()
    return f"{person.name}（{person.masked_id_number}）" if person else f"#{pk}"


def _admin_change_current(org: Org) -> dict:
    assignment = OrgAdmin.objects.filter(org=org).values_list("person_id", flat=True).first()
    return {"admin": assignment}


def _admin_change_apply(request: ApprovalRequest, actor: Actor) -> None:
    # The deciding org was the direct superior when the request was filed; the org may have moved since.
    if not actor.is_direct_superior_admin_of(request.target):
        raise ApprovalError(_("The organization is no longer directly under yours; reject the request."))
    new_pk = request.changes["admin"][1]
    admin_change.admin_assign(org=request.target, new_admin_id=new_pk, actor=actor)


def _admin_change_render(request: ApprovalRequest, field: str, value: Any) -> str:
    # Names were captured at submission (payload) so the inbox needs no query per row.
    names = (request.payload or {}).get("names", {})
    if value is None:
        return "—"
    return names.get(str(value)) or _person_name(value)


def register_kinds() -> None:
    register(Kind(
        code=services.PERSONAL_INFO_KIND, label=_("Personal info change"), model=Member,
        apply=services._personal_info_apply, current_values=services._personal_info_current,
        superior_may_decide=True, org_of=_member_org, allowed_fields=frozenset(services.SELF_EDITABLE_FIELDS),
        select_related=("person", "branch"), field_labels={"phone": _("mobile phone"), "email": _("email")},
    ))
    register(Kind(
        code=admin_change.KIND, label=_("Admin change"), model=Org,
        apply=_admin_change_apply, current_values=_admin_change_current,
        org_of=_org_of_org, allowed_fields=frozenset({"admin"}), render_value=_admin_change_render,
        field_labels={"admin": _("Admin")},
    ))
