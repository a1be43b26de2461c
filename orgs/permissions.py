"""Who may act: the only words the code uses to decide are "admin of X", "direct superior admin of X" and
"admin of an ancestor of X". Every view and service asks this module and nothing else.

An Actor is a person acting for one org they administer (chosen after login). A member without an admin
role has an Actor with org None and may only see themselves.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Q, QuerySet, Value
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
    """Every org where the person currently is a member, a cadre or an admin, in tree order (one query)."""
    if not getattr(person, "pk", None):
        return []
    held = Q(members__person=person) | Q(cadres__person=person) | Q(admin_assignment__person=person)
    return list(Org.objects.filter(held).select_related("type").distinct().order_by("tree_id", "lft"))


# What a person holds, as the rule needs it: (person id, tree_id, lft, rght, held as admin).
_Holding = tuple[int, int, int, int, bool]


def _holdings(person_ids: Iterable[int]) -> list[_Holding]:
    """Every membership, cadre post and admin role of these people, with the org's tree range: one query."""
    ids = [pk for pk in person_ids if pk is not None]
    if not ids:
        return []
    tree = ("tree_id", "lft", "rght")
    no, yes = Value(False, output_field=BooleanField()), Value(True, output_field=BooleanField())
    members = Org.objects.filter(members__person__in=ids).values_list("members__person", *tree, no)
    cadres = Org.objects.filter(cadres__person__in=ids).values_list("cadres__person", *tree, no)
    admins = Org.objects.filter(admin_assignment__person__in=ids).values_list("admin_assignment__person", *tree, yes)
    return list(members.order_by().union(cadres.order_by(), admins.order_by(), all=True))


def _holds_within(org: Org, tree_id: int, lft: int, rght: int, as_admin: bool) -> bool:
    """Does a holding lie in org's subtree — strictly below org when it is an admin role?"""
    if tree_id != org.tree_id or lft < org.lft or rght > org.rght:
        return False
    return not (as_admin and lft == org.lft)


def people_not_controlled(actor: Actor, person_ids: Iterable[int]) -> set[int]:
    """Of these people, those the actor does not control (see controls_person): one query for any number."""
    ids = {pk for pk in person_ids if pk is not None}
    if actor.org is None:
        return ids
    return {pid for pid, *holding in _holdings(ids) if not _holds_within(actor.org, *holding)}


def controls_person(actor: Actor, person) -> bool:
    """THE rule for a person's account (reset codes, password, name and ID number corrections, becoming an
    org's 书记 or a branch's member or cadre): the actor controls it only when their subtree contains every
    org where the person currently is a member, a cadre or an admin, and lies strictly above (the direct
    superior or higher) every org the person administers.

    So a post somewhere never hands its org's admin a person who is held elsewhere too (a cadre post left
    behind after a transfer, a membership of someone who administers a higher org, a stranger named 书记),
    and nobody controls their own account, nor the admin of a top-level org (an operator resets those:
    `manage.py issue_reset_code`). A person who holds nothing is held by nobody; callers that use control
    over an existing account also require that they may see the person.
    """
    if actor.org is None or not getattr(person, "pk", None):
        return False
    return not people_not_controlled(actor, [person.pk])


def may_see_person(actor: Actor, person) -> bool:
    """The read counterpart of controls_person: members see themselves; admins see (masked or whole, as each
    page decides) the people who hold a membership, cadre post or admin role in an org of their subtree."""
    if getattr(actor.person, "pk", None) == getattr(person, "pk", None):
        return True
    if actor.org is None or not getattr(person, "pk", None):
        return False
    return any(actor.org.contains(org) for org in person_orgs(person))


def may_edit_person_at_once(actor: Actor, person) -> bool:
    """Nearness, never enough alone: the actor administers one of the person's orgs or is its direct superior
    admin (higher ancestors only read). Reset codes need this AND controls_person."""
    return any(
        actor.is_admin_of(org) or actor.is_direct_superior_admin_of(org) for org in person_orgs(person)
    )


def may_reset_password(actor: Actor, person) -> bool:
    """Issue a reset code: the actor controls the person and is near one of their orgs (their admin or its
    direct superior admin)."""
    return controls_person(actor, person) and may_edit_person_at_once(actor, person)


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
