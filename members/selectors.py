"""Read-only queries for member and cadre pages: the member list (search, filters, sort, pagination), the
cadre list, the export rows and the personal-info request history of a member.

Built to stay fast at a province's root (1,000,000 members): a fixed number of queries per page, never a
query per row, and none that grows with the members in the subtree:
- pages continue from the last row shown (keyset: `after`/`before` carry a member's primary key, never a
  name or a date, which would be personal data in URLs and logs), not with OFFSET; a bare `page=N` still
  works through OFFSET but only up to MAX_OFFSET_ROWS;
- the total is the kept subtree count (orgs_subtreecount) for the unfiltered list of active members, and a
  count capped at COUNT_CAP ("10,000+") for anything filtered;
- every sort's keys are one index ending in a unique column (see SORTS);
- search uses indexes that fit its shape on PostgreSQL: trigram GIN on UPPER(name) and on phone, and
  reverse(id_number) for ID tails (members/migrations/0005_search_and_sort_indexes.py).
"""

import datetime as dt
import math
import re
from dataclasses import dataclass

from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce, Reverse
from django.utils import timezone

from approvals.kinds import KINDS
from approvals.models import ApprovalRequest
from orgs.models import Org, SubtreeCount
from orgs.permissions import Actor, personal_data_whole_q

from . import idnumber
from .choices import MemberStatus, PoliticalStatus
from .in_transfer import members_in_transfer_ids
from .models import Cadre, Member

PAGE_SIZE = 50
COUNT_CAP = 10_000  # filtered lists count at most this many rows and then say "10,000+"
MAX_OFFSET_ROWS = 10_000  # a bare page number reaches this far; links go on with keyset cursors
# Below this many rows in the list, find the rows first and sort them rather than walk the sort's index.
INDEX_WALK_MIN_ROWS = 10_000
# sort key → (key columns, descending). Every column of a sort runs in one direction and the last is unique, so
# one composite index serves the sort at any depth and pages never overlap: members_person (name, id) and
# (birth_date, id), members_member (joined_on, id). A pinyin order is one more entry over an indexed person
# column, e.g. ("person__name_pinyin", "person__id").
SORTS = {
    "name": (("person__name", "person__id"), False),
    "-name": (("person__name", "person__id"), True),
    "joined": (("joined_on", "pk"), False),
    "-joined": (("joined_on", "pk"), True),
    # age ascending = youngest first = latest birth date first
    "age": (("person__birth_date", "person__id"), True),
    "-age": (("person__birth_date", "person__id"), False),
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
    after: int | None = None  # continue after this member (the next page's link)
    before: int | None = None  # the page ending just before this member (the previous page's link)

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
            after=_positive_int(params.get("after")), before=_positive_int(params.get("before")),
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


def _positive_int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def members_of(org: Org) -> QuerySet[Member]:
    """Members of a branch, or of every branch in a higher org's subtree (MPTT range: one indexed filter)."""
    if org.is_branch:
        return Member.objects.filter(branch=org)
    # lft within the org's lft..rght is the same set as the nested range, but one column's range: PostgreSQL
    # estimates it right (lft >= a AND rght <= b it guessed at 4,510 rows for 27, and hash-joined every
    # member: 263 ms for a 204-member work committee in a 100,000-org tree, against a few ms now).
    return Member.objects.filter(
        branch__tree_id=org.tree_id, branch__lft__gte=org.lft, branch__lft__lte=org.rght
    )


def search_filter(q: str, *, partial_scope: Q | None = None) -> Q:
    """Name (contains), ID number (whole, its last 4–6 characters, or as the list masks it) or phone (whole, a
    part of 4+ digits, or as the list masks it).

    Parts of an ID number or phone match only the rows in partial_scope — those whose values the viewer sees
    whole (orgs.permissions.personal_data_whole_q; None: every row). Elsewhere the viewer sees them masked, and
    a part would confirm the hidden digits one guess at a time, so only the whole value (or the masked form,
    which holds only the digits shown) matches."""
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
    partial: list[Q] = []
    if len(number) == 18:
        condition |= Q(person__id_number=number)
    elif _DIGITS.match(number) and 4 <= len(number) <= 6:
        # The tail as a prefix of the reversed number: an index range (PostgreSQL), not a scan of every person.
        partial.append(Q(id_tail__startswith=number[::-1]))
    digits = re.sub(r"\D", "", number)
    if len(digits) == 11:
        condition |= Q(person__phone=digits)
    elif len(digits) >= 4 and digits == number:
        partial.append(Q(person__phone__contains=digits))
    for part in partial:
        condition |= part if partial_scope is None else (part & partial_scope)
    return condition


def member_queryset(org: Org, query: MemberQuery, *, actor: Actor | None = None) -> QuerySet[Member]:
    """The list's rows; with an actor, the search matches parts of ID numbers and phones only in the rows the
    actor sees whole (without one, in none)."""
    # id_tail: search_filter's ID-tail lookup (an alias: computed only where a filter uses it).
    qs = members_of(org).select_related("person", "branch").alias(id_tail=Reverse("person__id_number"))
    if query.status:
        qs = qs.filter(status=query.status)
    if query.political_status:
        qs = qs.filter(political_status=query.political_status)
    if query.gender:
        qs = qs.filter(person__gender=query.gender)
    if query.q:
        scope = personal_data_whole_q(actor) if actor is not None else Q(pk__in=[])
        qs = qs.filter(search_filter(query.q, partial_scope=scope))
    return qs.order_by(*_ordering(query.sort))


def _ordering(sort: str, *, reverse: bool = False, walk_index: bool = True) -> list:
    """ORDER BY for the sort. walk_index=False hides the columns from the planner (COALESCE(x, x) sorts the same),
    so it finds the rows first — through the subtree or a search index — and sorts those few, instead of walking
    the sort's index through a million people until a page of the subtree's members turns up (measured: 3.8 s
    for a work committee's first page, 1.3 s for a rare name at the root)."""
    columns, descending = SORTS.get(sort, SORTS[DEFAULT_SORT])
    desc = descending != reverse
    if walk_index:
        return [("-" if desc else "") + c for c in columns]
    return [Coalesce(F(c), F(c)).desc() if desc else Coalesce(F(c), F(c)).asc() for c in columns]


def _walks_index(query: MemberQuery, total: "Total") -> bool:
    """Walk the sort's index only where most rows qualify: a large subtree and no search."""
    return not query.q and (not total.exact or total.count >= INDEX_WALK_MIN_ROWS)


@dataclass
class Total:
    """How many members the list holds: exact, or at least COUNT_CAP (then shown as "10,000+")."""

    count: int
    exact: bool
    per_page: int

    @property
    def num_pages(self) -> int | None:
        return max(1, math.ceil(self.count / self.per_page)) if self.exact else None

    def __str__(self) -> str:
        return f"{self.count}" if self.exact else f"{self.count:,}+"


@dataclass
class MemberPage:
    """One page of the member list; `paginator` is its Total (the name templates and tests have used)."""

    object_list: list
    number: int
    paginator: Total
    more_after: bool
    more_before: bool

    def has_next(self) -> bool:
        return self.more_after

    def has_previous(self) -> bool:
        return self.more_before

    def has_other_pages(self) -> bool:
        return self.more_after or self.more_before

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1

    def next_params(self) -> dict:
        return {"page": self.number + 1, "after": self.object_list[-1].pk} if self.object_list else {}

    def previous_params(self) -> dict:
        if self.number <= 2 or not self.object_list:
            return {}  # page 1 needs no cursor
        return {"page": self.number - 1, "before": self.object_list[0].pk}


def _total(org: Org, query: MemberQuery, qs: QuerySet[Member], per_page: int) -> Total:
    """The kept subtree count when it answers the question, else a count that stops at COUNT_CAP + 1."""
    if query.status == MemberStatus.ACTIVE and not (query.q or query.political_status or query.gender):
        kept = SubtreeCount.objects.filter(org_id=org.pk).values_list("active_members", flat=True).first()
        return Total(count=kept or 0, exact=True, per_page=per_page)
    n = qs.order_by().values("pk")[: COUNT_CAP + 1].count()
    return Total(count=min(n, COUNT_CAP), exact=n <= COUNT_CAP, per_page=per_page)


def _beyond(sort: str, values: tuple, *, greater: bool) -> Q:
    """Rows after (greater) or before the key values in the sort's column order. The first column's own bound
    comes first, so an index on the key columns starts its range there."""
    columns, _descending = SORTS.get(sort, SORTS[DEFAULT_SORT])
    first, rest = columns[0], columns[1:]
    strict, loose = ("gt", "gte") if greater else ("lt", "lte")
    ties = Q(**{first: values[0]}) & _beyond_columns(rest, values[1:], strict)
    return Q(**{f"{first}__{loose}": values[0]}) & (Q(**{f"{first}__{strict}": values[0]}) | ties)


def _beyond_columns(columns: tuple, values: tuple, strict: str) -> Q:
    if len(columns) == 1:
        return Q(**{f"{columns[0]}__{strict}": values[0]})
    return Q(**{f"{columns[0]}__{strict}": values[0]}) | (
        Q(**{columns[0]: values[0]}) & _beyond_columns(columns[1:], values[1:], strict))


def member_page(
    org: Org, query: MemberQuery, *, actor: Actor | None = None, per_page: int | None = None,
) -> MemberPage:
    """One page of the member list: four queries at most (total, cursor row, rows, open transfers), whatever
    the subtree's size."""
    per_page = per_page or PAGE_SIZE
    qs = member_queryset(org, query, actor=actor).only(
        "pk", "status", "political_status", "joined_on", "ethnicity", "development_number", "branch_id",
        "person__id", "person__name", "person__id_number", "person__gender", "person__birth_date",
        "person__phone", "branch__id", "branch__short_name",
    )
    if query.q and query.page == 1 and cursor_free(query):
        # A search's first page: fetch it first; when it holds every match, that is the exact total and the
        # count query (which would scan the same rows again) is not needed.
        rows = list(qs.order_by(*_ordering(query.sort, walk_index=False))[: per_page + 1])
        if len(rows) <= per_page:
            return _finish(rows, number=1, total=Total(count=len(rows), exact=True, per_page=per_page),
                           more_after=False, more_before=False)
    total = _total(org, query, qs, per_page)
    if not _walks_index(query, total):
        qs = qs.order_by(*_ordering(query.sort, walk_index=False))
    number = query.page
    cursor = query.after or query.before
    backwards = query.after is None and query.before is not None
    rows: list[Member] | None = None
    more_after = more_before = False
    if cursor is not None:
        columns, descending = SORTS.get(query.sort, SORTS[DEFAULT_SORT])
        values = Member.objects.filter(pk=cursor).values_list(*columns).first()
        if values is not None:
            page_qs = qs.filter(_beyond(query.sort, values, greater=descending == backwards))
            if backwards:
                page_qs = page_qs.order_by(*_ordering(query.sort, reverse=True,
                                                      walk_index=_walks_index(query, total)))
            rows = list(page_qs[: per_page + 1])
            extra = len(rows) > per_page
            rows = rows[:per_page]
            if backwards:
                rows.reverse()
                more_after, more_before = True, extra
                number = max(2, number) if extra else 1
            else:
                more_after, more_before = extra, True
                number = max(2, number)
    if rows is None:  # no cursor, or its member is gone: by page number, through OFFSET as far as allowed
        last_page = total.num_pages or (MAX_OFFSET_ROWS // per_page + 1)
        number = min(number, last_page, MAX_OFFSET_ROWS // per_page + 1)
        offset = (number - 1) * per_page
        rows = list(qs[offset: offset + per_page + 1])
        if not rows and number > 1:
            number, offset = 1, 0
            rows = list(qs[: per_page + 1])
        more_after, more_before = len(rows) > per_page, number > 1
        rows = rows[:per_page]
    return _finish(rows, number=number, total=total, more_after=more_after, more_before=more_before)


def cursor_free(query: MemberQuery) -> bool:
    return query.after is None and query.before is None


def _finish(rows: list[Member], *, number: int, total: Total, more_after: bool, more_before: bool) -> MemberPage:
    # One more query for the page, not per row: which of these members are in a transfer right now.
    moving = members_in_transfer_ids(m.pk for m in rows)
    for member in rows:
        member.in_transfer = member.pk in moving
    return MemberPage(object_list=rows, number=number, paginator=total, more_after=more_after,
                      more_before=more_before)


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
    return list(
        ApprovalRequest.objects.filter(kind="personal_info", target_type="members.member", target_id=member.pk)
        .select_related("decided_by")
        .order_by("-created_at", "-id")[:limit]
    )


def describe_changes(request) -> list[tuple[str, str, str]]:
    """(field label, old, new) rows of a request, for the member's own pages."""
    kind = KINDS.get(request.kind)
    rows = []
    for name, (old, new) in (request.changes or {}).items():
        label = str(kind.field_label(name)) if kind else name
        rows.append((label, "" if old is None else str(old), "" if new is None else str(new)))
    return rows
