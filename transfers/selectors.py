"""Read-only transfer queries: who is in transfer, what an admin may see, and the target-org search.

See docs/transfers.md.
"""

from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.http import Http404

from members import idnumber
from members.models import Member
from orgs.models import Category, Org
from orgs.permissions import Actor
from orgs.tree import ancestor_paths

from .models import Transfer

ORG_SEARCH_LIMIT = 20
ORG_SEARCH_MAX_QUERY = 100


def member_in_transfer(member: Member | int) -> bool:
    """True while the member has an open transfer (pending or awaiting allocation).

    Members and imports call this: a member in transfer may not be moved, deleted or imported elsewhere.
    """
    member_id = getattr(member, "pk", member)
    return Transfer.objects.open().filter(member_id=member_id).exists()


def members_in_transfer_ids(ids: Iterable[int]) -> set[int]:
    """The subset of these member ids that have an open transfer (one query, for lists and imports)."""
    ids = list(ids)
    if not ids:
        return set()
    return set(Transfer.objects.open().filter(member_id__in=ids).values_list("member_id", flat=True))


def without_open_transfer(members: QuerySet[Member]) -> QuerySet[Member]:
    """These members less those already in a transfer (one subquery): lists that offer members to transfer."""
    return members.exclude(pk__in=Transfer.objects.open().values("member_id"))


def find_member(*, name: str, id_number: str) -> Member | None:
    """The member whose name AND ID number both match, else None (no hint about who exists)."""
    name = " ".join((name or "").split())
    number = idnumber.normalize(id_number)
    if not name or not number:
        return None
    return (
        Member.objects.select_related("person", "branch__type", "branch__parent")
        .filter(person__id_number=number, person__name=name)
        .first()
    )


def _with_related(qs: QuerySet[Transfer]) -> QuerySet[Transfer]:
    return qs.select_related(
        "member__person", "source_branch__type", "target_org__type", "allocated_branch__type",
        "submitted_by", "submitted_for", "decided_by", "allocated_by", "closed_by",
    )


def _in_subtree(prefix: str, org: Org) -> Q:
    # A range of lft alone (the same orgs): the planner estimates one column's range right (docs/performance.md).
    return Q(**{f"{prefix}__tree_id": org.tree_id, f"{prefix}__lft__gte": org.lft, f"{prefix}__lft__lte": org.rght})


def transfers_visible_to(actor: Actor) -> QuerySet[Transfer]:
    """Transfers with either end (or the allocated branch) in the actor's subtree."""
    if actor.org is None:
        return Transfer.objects.none()
    org = actor.org
    return _with_related(
        Transfer.objects.filter(
            _in_subtree("source_branch", org) | _in_subtree("target_org", org) | _in_subtree("allocated_branch", org)
        )
    )


def incoming_transfers(actor: Actor) -> QuerySet[Transfer]:
    """Transfers coming into the actor's subtree (target or allocated branch inside it)."""
    if actor.org is None:
        return Transfer.objects.none()
    org = actor.org
    return _with_related(
        Transfer.objects.filter(_in_subtree("target_org", org) | _in_subtree("allocated_branch", org))
    )


def outgoing_transfers(actor: Actor) -> QuerySet[Transfer]:
    """Transfers leaving a branch of the actor's subtree."""
    if actor.org is None:
        return Transfer.objects.none()
    return _with_related(Transfer.objects.filter(_in_subtree("source_branch", actor.org)))


def allocation_tasks(actor: Actor) -> QuerySet[Transfer]:
    """Approved transfers waiting for the actor (admin of the target org) to choose a branch."""
    if actor.org is None:
        return Transfer.objects.none()
    return _with_related(Transfer.objects.filter(status="approved", target_org=actor.org))


def get_transfer_for(actor: Actor, pk: object) -> Transfer:
    """The transfer if the actor may see it; 404 otherwise (strangers learn nothing)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    transfer = transfers_visible_to(actor).filter(pk=pk).first()
    if transfer is None:
        raise Http404
    return transfer


def member_transfer_history(member: Member | int) -> list[Transfer]:
    """Every transfer of one member, newest first (for the member's own page)."""
    member_id = getattr(member, "pk", member)
    return list(_with_related(Transfer.objects.filter(member_id=member_id)))


def search_orgs(query: str, *, limit: int = ORG_SEARCH_LIMIT) -> list[dict]:
    """Orgs across the whole tree whose name or code contains query: names, codes and paths only."""
    # No org name or code is longer than this cap: cut what is posted so a pasted essay costs nothing.
    query = " ".join((query or "").split())[:ORG_SEARCH_MAX_QUERY]
    if len(query) < 1:
        return []
    orgs = list(
        Org.objects.select_related("type")
        .filter(Q(code__icontains=query) | Q(short_name__icontains=query) | Q(full_name__icontains=query))
        .order_by("tree_id", "lft")[:limit]
    )
    # One query for every ancestor of every hit, to build the "root / … / org" paths.
    paths = ancestor_paths(orgs, fields=("short_name",))
    results = []
    for org in orgs:
        names = [a.short_name for a in paths[org.pk]]
        results.append({
            "id": org.pk,
            "code": org.code,
            "name": org.short_name,
            "full_name": org.full_name,
            "type": str(org.type.name),
            "is_branch": org.type.category == Category.BRANCH,
            "path": " / ".join([*names, org.short_name]),
        })
    return results


def allocatable_branches(target_org: Org) -> QuerySet[Org]:
    """The branches in the target org's subtree (where an allocation may place the member)."""
    return (
        target_org.get_descendants(include_self=True)
        .filter(type__category=Category.BRANCH)
        .select_related("type", "parent")
        .order_by("lft")
    )
