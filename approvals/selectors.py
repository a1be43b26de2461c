"""Read-only queries of the approvals app: the inbox, a requester's own requests, one request for
display, and the audit trail of a subtree. Each takes the Actor and returns only what they may see.

See docs/approvals.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import F, Func, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from audit.models import AuditEntry
from audit.personal_data import is_personal, mask_value
from orgs import permissions
from orgs.models import Org
from orgs.permissions import Actor

from .kinds import KINDS, default_render_value
from .kinds import stale_fields as kind_stale_fields
from .models import ApprovalRequest, RequestStatus
from .worklist import TASK_SOURCES

_REQUEST_RELATED = ("requested_by", "requested_for_org", "deciding_org__parent", "decided_by", "org")


def is_own_request(actor: Actor, request: ApprovalRequest) -> bool:
    """Did the actor's person file this request (whichever org they act for now)?"""
    person_pk = getattr(actor.person, "pk", None)
    return person_pk is not None and person_pk == request.requested_by_id


def may_decide(actor: Actor, request: ApprovalRequest) -> bool:
    """May the actor approve or reject this request: orgs.permissions decides, told whether the request's
    kind lets the deciding org's direct superior admin decide too. Never the requester: nobody decides their
    own request, so a superior who submitted one waits for another eligible decider (the deciding org's own
    admin)."""
    if is_own_request(actor, request):
        return False
    kind = KINDS.get(request.kind)
    return permissions.may_decide(
        actor, request.deciding_org, superior_may_decide=kind is not None and kind.superior_may_decide,
    )


def _decidable_q(actor: Actor) -> Q:
    """Requests the actor's org decides, plus (for kinds that allow it) those of its direct children."""
    superior_kinds = [code for code, kind in KINDS.items() if kind.superior_may_decide]
    q = Q(deciding_org_id=actor.org.pk)
    if superior_kinds:
        q |= Q(kind__in=superior_kinds, deciding_org__parent_id=actor.org.pk)
    return q


def inbox_requests(actor: Actor, *, decided: bool = False) -> QuerySet[ApprovalRequest]:
    """Pending requests the actor may decide, newest first; with decided=True, the decided ones."""
    if actor.org is None:
        return ApprovalRequest.objects.none()
    qs = ApprovalRequest.objects.filter(_decidable_q(actor)).select_related(*_REQUEST_RELATED)
    if decided:
        return qs.exclude(status=RequestStatus.PENDING).order_by("-decided_at", "-id")
    return qs.filter(status=RequestStatus.PENDING).order_by("-created_at", "-id")


def decidable_ids(actor: Actor, ids: list[str]) -> list[int]:
    """Of these ids, the requests in the actor's inbox whatever their status (a request decided a moment
    ago by someone else still gets its own "already decided by …" answer from the service)."""
    if actor.org is None:
        return []
    clean = [int(i) for i in ids if str(i).isdigit()]
    return list(ApprovalRequest.objects.filter(_decidable_q(actor), pk__in=clean).values_list("pk", flat=True))


def _count_of(qs: QuerySet) -> Subquery:
    # COUNT as a plain function, not an aggregate: no GROUP BY, one scalar row whatever the filter.
    return Subquery(qs.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")[:1])


def inbox_count(actor: Actor) -> int:
    """The header badge: pending requests plus waiting tasks (allocations), in one query."""
    if actor.org is None:
        return 0
    # The actor's own requests wait for someone else: they are listed (marked) but not counted.
    requests = ApprovalRequest.objects.filter(_decidable_q(actor), status=RequestStatus.PENDING).exclude(
        requested_by_id=getattr(actor.person, "pk", None)
    )
    if not TASK_SOURCES:
        return requests.count()
    parts = [requests, *(source.pending(actor) for source in TASK_SOURCES.values())]
    counts = {f"n{i}": Coalesce(_count_of(qs), 0) for i, qs in enumerate(parts)}
    row = Org.objects.filter(pk=actor.org.pk).annotate(**counts).values_list(*counts).first()
    return sum(row) if row else 0


def my_requests(person: Any) -> QuerySet[ApprovalRequest]:
    if not getattr(person, "pk", None):
        return ApprovalRequest.objects.none()
    return ApprovalRequest.objects.filter(requested_by=person).select_related(*_REQUEST_RELATED).order_by(
        "-created_at", "-id"
    )


def may_view_request(actor: Actor, request: ApprovalRequest) -> bool:
    """The requester, whoever may decide it, and admins above the org the request concerns."""
    if getattr(actor.person, "pk", None) == request.requested_by_id:
        return True
    if actor.org is None:
        return False
    if may_decide(actor, request) or actor.administers(request.deciding_org):
        return True
    return request.org is not None and actor.administers(request.org)


def get_request_for(actor: Actor, pk: Any) -> ApprovalRequest:
    """The request if the actor may see it; 404 otherwise (strangers learn nothing)."""
    try:
        request = ApprovalRequest.objects.select_related(*_REQUEST_RELATED).get(pk=int(pk))
    except (ApprovalRequest.DoesNotExist, TypeError, ValueError):
        raise Http404 from None
    if not may_view_request(actor, request):
        raise Http404
    return request


def may_withdraw(actor: Actor, request: ApprovalRequest) -> bool:
    """The requester, or whoever the kind also allows (transfers: either side)."""
    if getattr(actor.person, "pk", None) == request.requested_by_id:
        return True
    kind = KINDS.get(request.kind)
    return bool(kind is not None and kind.may_withdraw is not None and kind.may_withdraw(request, actor))


def pending_request(kind: str, obj: Any) -> ApprovalRequest | None:
    """The pending request of this kind for obj, if any."""
    return ApprovalRequest.objects.filter(
        kind=kind, target_type=obj._meta.label_lower, target_id=obj.pk, status=RequestStatus.PENDING
    ).select_related("requested_by").first()


@dataclass
class ChangeRow:
    field: str
    label: Any
    old: str
    new: str
    stale: bool


@dataclass
class RequestRow:
    """A request ready to display: its change rows in people's words and whether it is stale."""

    request: ApprovalRequest
    changes: list[ChangeRow]
    stale: bool
    target_missing: bool
    may_decide: bool
    # The actor filed this pending request: someone else decides it, the admin of one of these orgs.
    own: bool = False
    waits_for: str = ""


def _render(request: ApprovalRequest, field: str, value: Any, *, mask: bool = False) -> str:
    if mask and is_personal(field) and isinstance(value, str) and value:
        return mask_value(field, value)
    kind = KINDS.get(request.kind)
    if kind is None:
        return "—" if value is None else str(value)
    if kind.render_value is not None:
        return kind.render_value(request, field, value)
    return default_render_value(kind, field, value)


def request_rows(
    actor: Actor, requests: list[ApprovalRequest], *, check_stale: bool = True, mask: bool = True,
) -> list[RequestRow]:
    """Decorate requests for display. Stale detection loads the targets with one query per kind shown.
    With mask, phone numbers and ID numbers in the change are masked (lists; detail pages for onlookers)."""
    targets: dict[tuple[str, int], Any] = {}
    if check_stale:
        by_kind: dict[str, set[int]] = {}
        for r in requests:
            if r.is_pending and r.kind in KINDS and KINDS[r.kind].stale_check:
                by_kind.setdefault(r.kind, set()).add(r.target_id)
        for code, ids in by_kind.items():
            kind = KINDS[code]
            manager = kind.model._default_manager.select_related(*kind.select_related)
            for pk, obj in manager.in_bulk(list(ids)).items():
                targets[(code, pk)] = obj
    rows = []
    for r in requests:
        kind = KINDS.get(r.kind)
        stale: set[str] = set()
        missing = False
        if check_stale and r.is_pending and kind is not None and kind.stale_check:
            target = targets.get((r.kind, r.target_id))
            if target is None:
                missing = True
            else:
                stale = set(kind_stale_fields(kind, r, target))
        changes = [
            ChangeRow(
                field=name, label=kind.field_label(name) if kind else name,
                old=_render(r, name, pair[0], mask=mask), new=_render(r, name, pair[1], mask=mask),
                stale=name in stale,
            )
            for name, pair in r.changes.items()
        ]
        own = r.is_pending and is_own_request(actor, r)
        rows.append(RequestRow(
            request=r, changes=changes, stale=bool(stale), target_missing=missing,
            may_decide=r.is_pending and actor.org is not None and may_decide(actor, r),
            own=own, waits_for=other_deciders(actor, r) if own else "",
        ))
    return rows


def other_deciders(actor: Actor, request: ApprovalRequest) -> str:
    """The orgs whose admin decides a request the actor filed: the deciding org, and its direct superior for
    kinds that allow it, except the org the actor acts for (no query: the deciding org is joined)."""
    kind = KINDS.get(request.kind)
    org = request.deciding_org
    orgs = [org]
    if kind is not None and kind.superior_may_decide and org.parent_id is not None:
        orgs.append(org.parent)
    acting = getattr(actor.org, "pk", None)
    return "、".join(o.short_name for o in orgs if o.pk != acting)


def audit_actions() -> list[str]:
    """The action names recorded so far (for the filter). A DISTINCT over the whole trail reads the whole
    action index, so the list is cached for a few minutes: a new kind of action appears a little late."""
    def load() -> list[str]:
        return list(AuditEntry.objects.order_by("action").values_list("action", flat=True).distinct())

    return cache.get_or_set("approvals:audit_actions", load, 300)


def audit_entries(
    actor: Actor, *, action: str = "", date_from: dt.date | None = None, date_to: dt.date | None = None,
) -> QuerySet[AuditEntry]:
    """Entries whose org lies in the actor's subtree, newest first; nothing for non-admins."""
    if actor.org is None:
        return AuditEntry.objects.none()
    org = actor.org
    qs = AuditEntry.objects.filter(
        org__tree_id=org.tree_id, org__lft__gte=org.lft, org__lft__lte=org.rght
    ).select_related("actor", "acting_org", "org")
    if action:
        qs = qs.filter(action__startswith=action)
    tz = timezone.get_current_timezone()
    if date_from:
        qs = qs.filter(at__gte=dt.datetime.combine(date_from, dt.time.min, tzinfo=tz))
    if date_to:
        qs = qs.filter(at__lt=dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz))
    return qs.order_by("-at", "-id")
