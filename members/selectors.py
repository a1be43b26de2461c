"""Read-only queries for member and cadre pages: the member list (search, filters, sort, pagination), the
cadre list, the export rows and the personal-info request history of a member.

Built to stay fast at 10,000+ members per branch: a fixed number of queries per page (one count, one page
with its person joined), filtering and sorting on indexed columns, never a query per row.
"""

import datetime as dt
import re
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.utils import timezone

from orgs.models import Org

from . import idnumber
from .choices import MemberStatus, PoliticalStatus
from .in_transfer import members_in_transfer_ids
from .models import Cadre, Member

PAGE_SIZE = 50
# sort key → ORDER BY; the primary key breaks ties so pages never overlap.
SORTS = {
    "name": ("person__name", "pk"),
    "-name": ("-person__name", "-pk"),
    "joined": ("joined_on", "pk"),
    "-joined": ("-joined_on", "-pk"),
    # age ascending = youngest first = latest birth date first
    "age": ("-person__birth_date", "pk"),
    "-age": ("person__birth_date", "-pk"),
}
DEFAULT_SORT = "name"
_DIGITS = re.compile(r"^\d{3,}[\dX]?$")
# What the list shows, pasted back: 110101********1171 and 139****5678 (any run of * or full-width ＊).
_MASKED_ID = re.compile(r"^(\d{6})\*+(\d{3}[\dX])$")
_MASKED_PHONE = re.compile(r"^(\d{3})\*+(\d{4})$")


@dataclass
class MemberQuery:
    """What the member list shows: parsed from the query string by the view (unknown values are ignored)."""

    q: str = ""
    status: str = MemberStatus.ACTIVE  # "" = every status
    political_status: str = ""
    gender: str = ""
    sort: str = DEFAULT_SORT
    page: int = 1

    @classmethod
    def from_params(cls, params) -> "MemberQuery":
        status = params.get("status", MemberStatus.ACTIVE)
        if status not in MemberStatus.values and status != "all":
            status = MemberStatus.ACTIVE
        political = params.get("political_status", "")
        gender = params.get("gender", "")
        sort = params.get("sort", DEFAULT_SORT)
        try:
            page = max(1, int(params.get("page", 1)))
        except (TypeError, ValueError):
            page = 1
        return cls(
            q=(params.get("q") or "").strip()[:50],
            status="" if status == "all" else status,
            political_status=political if political in PoliticalStatus.values else "",
            gender=gender if gender in ("M", "F") else "",
            sort=sort if sort in SORTS else DEFAULT_SORT,
            page=page,
        )

    def as_params(self, **overrides) -> dict:
        values = {"q": self.q, "status": self.status or "all", "political_status": self.political_status,
                  "gender": self.gender, "sort": self.sort}
        values.update(overrides)
        return {k: v for k, v in values.items() if v not in ("", None)}


def members_of(org: Org) -> QuerySet[Member]:
    """Members of a branch, or of every branch in a higher org's subtree (MPTT range: one indexed filter)."""
    if org.is_branch:
        return Member.objects.filter(branch=org)
    return Member.objects.filter(
        branch__tree_id=org.tree_id, branch__lft__gte=org.lft, branch__rght__lte=org.rght
    )


def search_filter(q: str) -> Q:
    """Name (contains), ID number (whole, its last 4–6 characters, or as the list masks it) or phone (whole, a
    part of 4+ digits, or as the list masks it)."""
    q = q.strip()
    if not q:
        return Q()
    number = idnumber.normalize(q)
    masked = _MASKED_ID.match(number)
    if masked:
        return Q(person__id_number__startswith=masked[1], person__id_number__endswith=masked[2])
    masked = _MASKED_PHONE.match(number)
    if masked:
        return Q(person__phone__startswith=masked[1], person__phone__endswith=masked[2])
    condition = Q(person__name__icontains=q)
    if len(number) == 18:
        condition |= Q(person__id_number=number)
    elif _DIGITS.match(number) and 4 <= len(number) <= 6:
        condition |= Q(person__id_number__endswith=number)
    digits = re.sub(r"\D", "", number)
    if len(digits) == 11:
        condition |= Q(person__phone=digits)
    elif len(digits) >= 4 and digits == number:
        condition |= Q(person__phone__contains=digits)
    return condition


def member_queryset(org: Org, query: MemberQuery) -> QuerySet[Member]:
    qs = members_of(org).select_related("person", "branch")
    if query.status:
        qs = qs.filter(status=query.status)
    if query.political_status:
        qs = qs.filter(political_status=query.political_status)
    if query.gender:
        qs = qs.filter(person__gender=query.gender)
    if query.q:
        qs = qs.filter(search_filter(query.q))
    return qs.order_by(*SORTS.get(query.sort, SORTS[DEFAULT_SORT]))


def member_page(org: Org, query: MemberQuery, *, per_page: int = PAGE_SIZE) -> Page:
    """One page of the member list: three queries (count, rows, open transfers), whatever the branch's size."""
    qs = member_queryset(org, query).only(
        "pk", "status", "political_status", "joined_on", "ethnicity", "development_number", "branch_id",
        "person__id", "person__name", "person__id_number", "person__gender", "person__birth_date",
        "person__phone", "branch__id", "branch__short_name",
    )
    paginator = Paginator(qs, per_page)
    page = paginator.get_page(query.page)
    # One more query for the page, not per row: which of these members are in a transfer right now.
    rows = list(page.object_list)
    moving = members_in_transfer_ids(m.pk for m in rows)
    for member in rows:
        member.in_transfer = member.pk in moving
    page.object_list = rows
    return page


def member_for_detail(pk: object) -> Member | None:
    try:
        return Member.objects.select_related("person", "branch__type", "branch__parent").get(pk=int(pk))
    except (Member.DoesNotExist, TypeError, ValueError):
        return None


def cadres_of(org: Org) -> QuerySet[Cadre]:
    return Cadre.objects.filter(org=org).select_related("person").order_by("position", "since", "pk")


def cadre_posts_of(person) -> QuerySet[Cadre]:
    return Cadre.objects.filter(person=person).select_related("org").order_by("org__tree_id", "org__lft")


def age_on(birth: dt.date, day: dt.date | None = None) -> int:
    return idnumber.age_on(birth, day or timezone.localdate())


def personal_info_requests(member: Member, *, limit: int = 5):
    """The member's personal-info requests, newest first (the pending one, and the outcome of the last)."""
    from approvals.models import ApprovalRequest

    return list(
        ApprovalRequest.objects.filter(kind="personal_info", target_type="members.member", target_id=member.pk)
        .select_related("decided_by")
        .order_by("-created_at", "-id")[:limit]
    )


def describe_changes(request) -> list[tuple[str, str, str]]:
    """(field label, old, new) rows of a request, for the member's own pages."""
    from approvals.kinds import KINDS

    kind = KINDS.get(request.kind)
    rows = []
    for name, (old, new) in (request.changes or {}).items():
        label = str(kind.field_label(name)) if kind else name
        rows.append((label, "" if old is None else str(old), "" if new is None else str(new)))
    return rows
