"""Read-only queries of the org tree: children with subtree member counts, search, an org's page data.

Member counts per subtree come from one correlated subquery on the MPTT fields (members whose branch's
lft lies inside the org's lft..rght range of the same tree), so a level of the tree costs one query
however many children it has.
"""

from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from members.choices import MemberStatus, Position
from members.models import Cadre, Member

from .models import Org
from .permissions import Actor

SEARCH_LIMIT = 50


def _subtree_member_count() -> Coalesce:
    members = (
        Member.objects.filter(
            status=MemberStatus.ACTIVE,
            branch__tree_id=OuterRef("tree_id"),
            branch__lft__gte=OuterRef("lft"),
            branch__rght__lte=OuterRef("rght"),
        )
        .order_by()
        .values("branch__tree_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(members, output_field=IntegerField()), Value(0))


def with_member_counts(qs: QuerySet[Org]) -> QuerySet[Org]:
    """Annotate member_count: active members anywhere in each org's subtree."""
    return qs.annotate(member_count=_subtree_member_count())


def children_with_counts(parent: Org) -> list[Org]:
    """The direct children of parent in tree order, each with member_count (one query)."""
    return list(with_member_counts(Org.objects.filter(parent=parent).select_related("type")).order_by("lft"))


def org_with_count(pk: int) -> Org:
    """One org with its subtree member_count."""
    return with_member_counts(Org.objects.select_related("type", "parent")).get(pk=pk)


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
    ancestors = list(
        Org.objects.get_queryset_ancestors(Org.objects.filter(pk__in=[h.pk for h in hits]), include_self=False)
        .filter(tree_id=root.tree_id, lft__gte=root.lft, rght__lte=root.rght)
        .order_by("lft")
    )
    return [
        SearchHit(org=hit, path=[a for a in ancestors if a.lft < hit.lft and hit.rght < a.rght])
        for hit in hits
    ]


@dataclass
class OrgDetail:
    org: Org
    cadres: list[Cadre]
    children: list[Org]
    member_count: int  # active members in the whole subtree
    ancestors: list[Org]  # visible to the actor, top first


def org_detail(actor: Actor, org: Org) -> OrgDetail:
    """What the org page shows: info (with the subtree member count), cadres, children with counts."""
    counted = org_with_count(org.pk)
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
    return OrgDetail(
        org=counted, cadres=cadres, children=children_with_counts(org), member_count=counted.member_count,
        ancestors=ancestors,
    )
