"""Who may act: the only words the code uses to decide are "admin of X", "direct superior admin of X" and
"admin of an ancestor of X". Every view and service asks this module and nothing else.

An Actor is a person acting for one org they administer (chosen after login). A member without an admin
role has an Actor with org None and may only see themselves.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from .models import Org, OrgAdmin


@dataclass(frozen=True)
class Actor:
    person: object  # members.Person
    org: Org | None = None
    ip: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.org is not None

    def is_admin_of(self, org: Org) -> bool:
        return self.org is not None and self.org.pk == org.pk

    def is_direct_superior_admin_of(self, org: Org) -> bool:
        return self.org is not None and org.parent_id is not None and org.parent_id == self.org.pk

    def is_ancestor_admin_of(self, org: Org) -> bool:
        """Admin of a strict ancestor of org (the direct superior included)."""
        return self.org is not None and self.org.pk != org.pk and self.org.contains(org)

    def administers(self, org: Org) -> bool:
        """Admin of org or of one of its ancestors: org lies in the actor's subtree."""
        return self.org is not None and self.org.contains(org)

    def may_edit_at_once(self, org: Org) -> bool:
        """Edits by the org's own admin need approval; the direct superior's take effect at once."""
        return self.is_direct_superior_admin_of(org)

    def visible_orgs(self) -> QuerySet[Org]:
        if self.org is None:
            return Org.objects.none()
        return self.org.get_descendants(include_self=True)


def administered_orgs(person) -> QuerySet[Org]:
    """The orgs a person currently holds the admin role of (they may choose any to act for)."""
    if not getattr(person, "pk", None):
        return Org.objects.none()
    return Org.objects.filter(admin_assignment__person=person).select_related("type").order_by("tree_id", "lft")


def is_current_admin(person, org: Org) -> bool:
    return OrgAdmin.objects.filter(org=org, person=person).exists()


def require(allowed: bool) -> None:
    """Raise 403 unless allowed: for actors who may see an object but not change it."""
    if not allowed:
        raise PermissionDenied


def get_org_for(actor: Actor, pk: object, *, select_for_update: bool = False) -> Org:
    """The org with this pk if it lies in the actor's subtree; 404 otherwise (strangers learn nothing)."""
    if actor.org is None:
        raise Http404
    qs = Org.objects.select_related("type", "parent")
    if select_for_update:
        qs = qs.select_for_update()
    try:
        org = qs.get(pk=int(pk))
    except (Org.DoesNotExist, TypeError, ValueError):
        raise Http404 from None
    if not actor.administers(org):
        raise Http404
    return org


def person_orgs(person) -> list[Org]:
    """The orgs a person belongs to: their member branch and the orgs where they hold a cadre post."""
    from members.models import Cadre, Member

    orgs: dict[int, Org] = {}
    membership = Member.objects.select_related("branch__type").filter(person=person).first()
    if membership is not None:
        orgs[membership.branch_id] = membership.branch
    for cadre in Cadre.objects.select_related("org__type").filter(person=person):
        orgs.setdefault(cadre.org_id, cadre.org)
    return list(orgs.values())


def may_see_person(actor: Actor, person) -> bool:
    """Members see themselves; admins see the people of the orgs in their subtree."""
    if getattr(actor.person, "pk", None) == getattr(person, "pk", None):
        return True
    return any(actor.administers(org) for org in person_orgs(person))


def may_edit_person_at_once(actor: Actor, person) -> bool:
    """The person's org admin or that org's direct superior admin edits (and resets passwords) at once."""
    return any(
        actor.is_admin_of(org) or actor.is_direct_superior_admin_of(org) for org in person_orgs(person)
    )


def may_decide(actor: Actor, deciding_org: Org, *, superior_may_decide: bool) -> bool:
    """May the actor approve or reject a request addressed to deciding_org: that org's admin, or — when the
    request's kind allows it (superior_may_decide) — that org's direct superior admin. Nobody else.

    The approvals engine asks this with plain values (approvals.selectors.may_decide), so this module knows
    nothing of requests or kinds."""
    if actor.is_admin_of(deciding_org):
        return True
    return superior_may_decide and actor.is_direct_superior_admin_of(deciding_org)


def sees_personal_data_whole(actor: Actor, branch: Org) -> bool:
    """The masking rule (PIPL) for a member of this branch: their ID number, phone and e-mail are whole to the
    branch's admin and its direct superior admin (who edit the record at once), masked to admins above."""
    return actor.is_admin_of(branch) or actor.is_direct_superior_admin_of(branch)


def personal_data_whole_q(actor: Actor, branch_field: str = "branch") -> Q:
    """sees_personal_data_whole as a filter on rows with a branch: the rows whose values the actor sees whole."""
    if actor.org is None:
        return Q(pk__in=[])
    return Q(**{f"{branch_field}_id": actor.org.pk}) | Q(**{f"{branch_field}__parent_id": actor.org.pk})


def may_edit_info_at_once(actor: Actor, org: Org) -> bool:
    """Who edits an org's info without approval: its direct superior admin, and — since nobody is above it —
    the own admin of a top-level org (FAQ §2). Both edits are audited."""
    return actor.is_direct_superior_admin_of(org) or (org.parent_id is None and actor.is_admin_of(org))


def may_add_members_to(actor: Actor, branch: Org) -> bool:
    """Members are entered or imported into a branch by its admin or the admin of its direct superior
    (FAQ §1 and §5); nobody adds members to an org that is not a branch."""
    return branch.is_branch and (actor.is_admin_of(branch) or actor.is_direct_superior_admin_of(branch))


def may_import_into(actor: Actor, org: Org) -> bool:
    """A branch imports members (may_add_members_to); a higher org imports its own cadres, by its own admin."""
    if org.is_branch:
        return may_add_members_to(actor, org)
    return actor.is_admin_of(org)
