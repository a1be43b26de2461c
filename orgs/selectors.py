"""Read-only queries of the org tree: children with subtree member counts, search, an org's page data.

Member counts per subtree are read from orgs_subtreecount, which database triggers keep current on every
member write (zhtj/dbrules.py; orgs.counts): one primary-key join per org, whatever the subtree's size. (They
were counted per view before, with a subquery visiting every branch of the subtree: 100,000 loops at a
province's root, 300–400 ms a page; docs/performance.md.)
"""

import copy
from dataclasses import dataclass

from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from members.choices import MemberStatus, Position
from members.models import Cadre, Member

from .models import Org
from .permissions import Actor
from .tree import ancestor_paths

SEARCH_LIMIT = 50


def with_member_counts(qs: QuerySet[Org]) -> QuerySet[Org]:
    """Annotate member_count: active members anywhere in each org's subtree (the kept count)."""
    return qs.annotate(member_count=Coalesce(F("subtree_count__active_members"), Value(0)))


def children_with_counts(parent: Org) -> list[Org]:
    """The direct children of parent in tree order, each with member_count (one query)."""
    return list(with_member_counts(Org.objects.filter(parent=parent).select_related("type")).order_by("lft"))


def org_with_count(pk: int) -> Org:
    """One org with its subtree member_count."""
    return with_member_counts(Org.objects.select_related("type", "parent")).get(pk=pk)


def org_and_children(org: Org) -> tuple[Org, list[Org]]:
    """The org's children with counts, and the org's own member_count as their sum (members are only in
    branches, which have no children), so the org's subtree is not counted twice."""
    children = children_with_counts(org)
    if org.is_branch:
        return org_with_count(org.pk), children
    counted = copy.copy(org)  # the caller's object (e.g. the actor's org) stays as it was
    counted.member_count = sum(child.member_count for child in children)
    return counted, children


@dataclass
class SearchHit:
    org: Org
    path: list[Org]  # from the actor's org down to the hit's parent


def search_orgs(actor: Actor, query: str, limit: int = SEARCH_LIMIT) -> list[SearchHit]:
    """Orgs in the actor's subtree whose short/full name contains query or whose code starts with it.

    Each hit carries its path from the actor's org (two queries in all).
    """
    query = " ".join((query or "").split())
    if actor.org is None or not query:
        return []
    root = actor.org
    hits = list(
        root.get_descendants(include_self=True)
        .filter(Q(short_name__icontains=query) | Q(full_name__icontains=query) | Q(code__istartswith=query))
        .select_related("type")
        .order_by("tree_id", "lft")[:limit]
    )
    if not hits:
        return []
    paths = ancestor_paths(hits, within=root)
    return [SearchHit(org=hit, path=paths[hit.pk]) for hit in hits]


# A branch's page lists its first members by name; the member list (members app) pages through the rest.
BRANCH_PAGE_MEMBERS = 20


@dataclass
class OrgDetail:
    org: Org
    cadres: list[Cadre]
    children: list[Org]
    member_count: int  # active members in the whole subtree
    ancestors: list[Org]  # visible to the actor, top first
    members: list[Member]  # a branch's first active members by name (empty for other orgs)


def org_detail(actor: Actor, org: Org) -> OrgDetail:
    """What the org page shows: info (with the subtree member count), cadres, children with counts, and for
    a branch its first members."""
    counted, children = org_and_children(org)
    rank = {value: i for i, value in enumerate(Position.values)}
    cadres = sorted(
        Cadre.objects.filter(org=org).select_related("person"),
        key=lambda c: (rank.get(c.position, len(rank)), c.since, c.pk),
    )
    ancestors = []
    if actor.org is not None and actor.org.pk != org.pk:
        ancestors = list(
            org.get_ancestors().filter(lft__gte=actor.org.lft, rght__lte=actor.org.rght)
        )
    members = []
    if org.is_branch:
        members = list(
            Member.objects.filter(branch=org, status=MemberStatus.ACTIVE).select_related("person")
            .order_by("person__name", "pk")[:BRANCH_PAGE_MEMBERS]
        )
    return OrgDetail(
        org=counted, cadres=cadres, children=children, member_count=counted.member_count,
        ancestors=ancestors, members=members,
    )


@dataclass
class NextSteps:
    """What the org's own admin still has to do (a newly registered admin's first tasks)."""

    complete_info: bool  # no verified secretary, or no contact
    add_members: bool  # no member anywhere in the subtree yet
    create_children: bool  # a higher org with no subordinate org
    children_without_admin: int  # direct subordinates nobody administers: codes to issue

    @property
    def any(self) -> bool:
        return self.complete_info or self.add_members or self.create_children or self.children_without_admin > 0


def admin_next_steps(detail: OrgDetail) -> NextSteps:
    """Read from what the org page already loaded, plus one count for subordinates without an admin."""
    org = detail.org
    without_admin = 0
    if not org.is_branch and detail.children:
        without_admin = Org.objects.filter(parent=org, admin_assignment__isnull=True).count()
    return NextSteps(
        complete_info=org.secretary_id is None or org.secretary_is_deputy or not org.contact_phone,
        add_members=detail.member_count == 0,
        create_children=not org.is_branch and not detail.children,
        children_without_admin=without_admin,
    )
