"""The admin change (管理员变更): who may become an org's admin, and handing the role over.

The org's own admin hands the role to one of its cadres through an approvals request its direct superior
admin decides (the admin_change kind, members.kinds); the direct superior admin changes it at once.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals.kinds import ApprovalError
from approvals.models import ApprovalRequest
from approvals.services import request_submit
from audit.services import record
from orgs.models import Org, OrgAdmin
from orgs.permissions import Actor, controls_person

from .models import Cadre, Person

KIND = "admin_change"


def _person(actor: Any) -> Any:
    return getattr(actor, "person", actor)


def admin_change_candidates(org: Any) -> QuerySet:
    """The people who may become the org's admin: its cadres, except the current admin."""
    current = OrgAdmin.objects.filter(org=org).values_list("person_id", flat=True)
    return (
        Person.objects.filter(cadre_posts__org=org, is_active=True).exclude(pk__in=current)
        .distinct().order_by("name", "pk")
    )


def admin_assign(*, org: Org, new_admin_id: int, actor: Actor) -> OrgAdmin:
    """Make a cadre of org its admin (org locked by the caller). The old admin's sessions lose the org at
    their next request: members.middleware re-checks OrgAdmin on every request."""
    new_admin = Person.objects.filter(pk=new_admin_id, is_active=True).first()
    if new_admin is None or not Cadre.objects.filter(org=org, person=new_admin).exists():
        raise ApprovalError(_("The new admin must be a cadre of this organization."))
    if not controls_person(actor, new_admin):
        raise ApprovalError(_not_controlled_message())
    assignment = OrgAdmin.objects.select_for_update().filter(org=org).first()
    before = {"admin": assignment.person_id if assignment else None}
    if assignment is None:
        assignment = OrgAdmin.objects.create(org=org, person=new_admin, assigned_by=_person(actor))
    else:
        if assignment.person_id == new_admin.pk:
            raise ApprovalError(_("This person is already the admin."))
        assignment.person = new_admin
        assignment.assigned_at = timezone.now()
        assignment.assigned_by = _person(actor)
        assignment.save(update_fields=["person", "assigned_at", "assigned_by"])
    record(action="org.admin_changed", actor=actor, org=org, target=org, before=before,
           after={"admin": new_admin.pk})
    return assignment


@transaction.atomic
def admin_change(*, actor: Actor, org: Org, new_admin: Any, reason: str) -> ApprovalRequest | OrgAdmin:
    """The org's own admin hands the role to a cadre → pending until the direct superior approves;
    the direct superior admin changes it → effective at once. Returns the request or the assignment."""
    reason = (reason or "").strip()
    if not reason:
        raise ApprovalError(_("Give a reason for the admin change."))
    org = Org.objects.select_for_update(of=("self",)).select_related("parent").get(pk=org.pk)
    if new_admin is None or not Cadre.objects.filter(org=org, person=new_admin).exists():
        raise ApprovalError(_("The new admin must be a cadre of this organization."))
    current = OrgAdmin.objects.filter(org=org).values_list("person_id", flat=True).first()
    if current == new_admin.pk:
        raise ApprovalError(_("This person is already the admin."))
    if not controls_person(actor, new_admin):
        raise ApprovalError(_not_controlled_message())
    if actor.is_direct_superior_admin_of(org):
        assignment = admin_assign(org=org, new_admin_id=new_admin.pk, actor=actor)
        return assignment
    if actor.is_admin_of(org):
        if org.parent is None:
            raise ApprovalError(_("A top-level organization has no superior to approve an admin change."))
        names = {str(p.pk): f"{p.name}（{p.masked_id_number}）" for p in _people(current, new_admin.pk)}
        return request_submit(
            kind=KIND, target=org, changes={"admin": [current, new_admin.pk]}, actor=actor,
            deciding_org=org.parent, reason=reason, payload={"names": names},
        )
    raise ApprovalError(_("Only the organization's admin or its direct superior admin may change its admin."))


def _not_controlled_message() -> str:
    # The role hands the org its admin's account; someone held elsewhere stays with those who hold them.
    return _("This cadre cannot become the admin: they belong to or administer an organization outside yours.")


def _people(*pks: Any) -> list:
    return list(Person.objects.filter(pk__in=[pk for pk in pks if pk is not None]).only("name", "id_number"))
