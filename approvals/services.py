"""The approvals engine: submit, approve, reject, withdraw and expire requests (of any registered kind).

Every function here is one use case: keyword-only arguments, the acting Actor passed explicitly, one
transaction, the request row locked before its status is re-checked, an audit entry beside each change.
Who may submit is the calling service's business (it knows its domain rules); who may decide is
approvals.selectors.may_decide, which asks orgs.permissions.may_decide, and nothing else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.services import record
from notifications.services import MessageKind, notify
from orgs.models import Org
from orgs.permissions import Actor

from .kinds import ApprovalError, get_kind, stale_fields, to_json
from .models import ApprovalRequest, RequestStatus
from .selectors import is_own_request, may_decide

__all__ = [
    "ApprovalError", "DecisionResult", "request_approve", "request_reject",
    "request_submit", "request_withdraw", "requests_decide_many", "requests_expire", "stale_fields",
]


def _person(actor: Any) -> Any:
    return getattr(actor, "person", actor)


def _status_message(request: ApprovalRequest) -> str:
    """Why a request can no longer be decided: who got there first, or what happened to it."""
    if request.status in (RequestStatus.APPROVED, RequestStatus.REJECTED) and request.decided_by_id:
        return _("This request has already been %(status)s by %(who)s.") % {
            "status": request.get_status_display(), "who": request.decided_by,
        }
    return _("This request is no longer pending (%(status)s).") % {"status": request.get_status_display()}


def _lock_request(request_id: int) -> ApprovalRequest:
    try:
        return (
            # Only the request row is locked and joined rows are not fetched with it: after waiting for a
            # concurrent decider, PostgreSQL re-reads the locked row but not rows joined to it.
            ApprovalRequest.objects.select_for_update(of=("self",)).get(pk=request_id)
        )
    except (ApprovalRequest.DoesNotExist, TypeError, ValueError):
        raise ApprovalError(_("No such request.")) from None


def _audit_org(request: ApprovalRequest) -> Any:
    return request.org if request.org_id else request.deciding_org


def _request_params(request: ApprovalRequest, **extra: Any) -> dict[str, Any]:
    return {"kind": str(request.kind_label), "object": request.target_repr, **extra}


def _notify_requester(request: ApprovalRequest, text: str, **extra: Any) -> None:
    """The outcome goes where the request came from: the org the requester acted for (whoever is its admin
    now reads it), or the member who asked for themselves."""
    addressee = {"org": request.requested_for_org} if request.requested_for_org_id else {
        "recipient": request.requested_by}
    notify(**addressee, kind=MessageKind.REQUEST_DECIDED, text=text, params=_request_params(request, **extra),
           link=reverse("request_detail", args=[request.pk]))


@transaction.atomic
def request_submit(
    *, kind: str, target: Any, changes: dict[str, list], actor: Actor, deciding_org: Org | None,
    reason: str = "", payload: dict | None = None,
) -> ApprovalRequest:
    """File a pending request; one pending request per (kind, target), enforced by the database too."""
    k = get_kind(kind)
    if not isinstance(target, k.model) or target.pk is None:
        raise ApprovalError(_("This request does not apply to that object."))
    if deciding_org is None:
        raise ApprovalError(_("There is no organization above to approve this change."))
    changes = {name: [to_json(pair[0]), to_json(pair[1])] for name, pair in (changes or {}).items()}
    changes = {name: pair for name, pair in changes.items() if pair[0] != pair[1]}
    if not changes and not payload:
        raise ApprovalError(_("Nothing would change."))
    if k.allowed_fields is not None and not set(changes) <= k.allowed_fields:
        raise ApprovalError(_("These fields cannot be changed: %(fields)s") % {
            "fields": ", ".join(str(k.field_label(n)) for n in sorted(set(changes) - k.allowed_fields)),
        })
    # Lock the target so the old values we check are the ones a concurrent edit cannot slip past.
    locked = k.model._default_manager.select_for_update().filter(pk=target.pk).first()
    if locked is None:
        raise ApprovalError(_("The object no longer exists."))
    request = ApprovalRequest(
        kind=kind, target_type=k.model._meta.label_lower, target_id=locked.pk, target_repr=str(locked)[:200],
        org=k.org_of(locked) if k.org_of else deciding_org, changes=changes, payload=payload or {},
        reason=reason.strip(), requested_by=_person(actor), requested_for_org=getattr(actor, "org", None),
        deciding_org=deciding_org,
    )
    if stale_fields(k, request, locked):
        raise ApprovalError(_("The record has changed since you opened it; reload and try again."))
    if ApprovalRequest.objects.filter(
        kind=kind, target_type=request.target_type, target_id=locked.pk, status=RequestStatus.PENDING
    ).exists():
        raise ApprovalError(_("A request of this kind for this object is already waiting for a decision."))
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError:
        # The partial unique index caught a request filed at the same moment.
        raise ApprovalError(
            _("A request of this kind for this object is already waiting for a decision.")
        ) from None
    record(
        action=f"request.submitted.{kind}", actor=actor, org=_audit_org(request), target=locked,
        before={n: p[0] for n, p in changes.items()}, after={n: p[1] for n, p in changes.items()},
        reason=request.reason,
    )
    notify(
        org=deciding_org, kind=MessageKind.REQUEST_WAITING,
        text=gettext_noop("%(who)s submitted a request for your decision: %(kind)s, %(object)s."),
        params=_request_params(request, who=str(request.requested_by)),
        link=reverse("request_detail", args=[request.pk]),
    )
    return request


def _check_decider(actor: Actor, request: ApprovalRequest) -> None:
    # Asked with the request row locked; the requester never changes, so no concurrent step can slip past.
    if is_own_request(actor, request):
        raise ApprovalError(_("You cannot decide a request you made yourself; it waits for another admin."))
    if not may_decide(actor, request):
        raise ApprovalError(_("You may not decide this request."))


@transaction.atomic
def request_approve(*, request_id: int, actor: Actor, note: str = "") -> ApprovalRequest:
    """Approve and apply in one transaction; refuses when someone decided first or the record moved on."""
    request = _lock_request(request_id)
    _check_decider(actor, request)
    if not request.is_pending:
        raise ApprovalError(_status_message(request))
    kind = get_kind(request.kind)
    target = request.load_target(lock=True)
    if target is None:
        raise ApprovalError(_("The object of this request no longer exists; reject the request."))
    stale = stale_fields(kind, request, target)
    if stale:
        raise ApprovalError(
            _("%(fields)s changed since the request was made; reject it or ask for a new request.")
            % {"fields": ", ".join(str(kind.field_label(n)) for n in stale)}
        )
    request.target = target
    try:
        with transaction.atomic():  # a savepoint, so a constraint the change breaks becomes a clear refusal
            kind.apply(request, actor)
    except IntegrityError:
        raise ApprovalError(
            _("The change conflicts with another record (a value that must be unique is taken); reject it.")
        ) from None
    request.status = RequestStatus.APPROVED
    request.decided_by = _person(actor)
    request.decided_at = timezone.now()
    request.decision_reason = note.strip()
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_reason", "updated_at"])
    record(
        action=f"request.approved.{request.kind}", actor=actor, org=_audit_org(request), target=target,
        before={n: p[0] for n, p in request.changes.items()}, after={n: p[1] for n, p in request.changes.items()},
        reason=request.decision_reason,
    )
    decider = actor.org.short_name if getattr(actor, "org", None) is not None else str(request.decided_by)
    if request.decision_reason:
        _notify_requester(request, gettext_noop(
            "Your request (%(kind)s, %(object)s) was approved by %(org)s. Note: %(note)s"
        ), org=decider, note=request.decision_reason)
    else:
        _notify_requester(request, gettext_noop("Your request (%(kind)s, %(object)s) was approved by %(org)s."),
                          org=decider)
    return request


def _close(request: ApprovalRequest, *, status: str, actor: Actor | None, reason: str) -> None:
    request.status = status
    request.decided_at = timezone.now()
    request.decided_by = _person(actor) if actor is not None and status == RequestStatus.REJECTED else None
    request.decision_reason = reason
    # After the fields are set, so the hook can tell rejected from withdrawn from expired and read the reason.
    kind = request.kind_obj
    if kind is not None and kind.on_close is not None:
        kind.on_close(request, actor)
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_reason", "updated_at"])
    record(
        action=f"request.{status}.{request.kind}", actor=actor, org=_audit_org(request), target=request,
        before={"status": RequestStatus.PENDING}, after={"status": status}, reason=reason,
    )
    if status == RequestStatus.REJECTED:
        decider = actor.org.short_name if getattr(actor, "org", None) is not None else str(request.decided_by)
        _notify_requester(request, gettext_noop(
            "Your request (%(kind)s, %(object)s) was rejected by %(org)s. Reason: %(reason)s"
        ), org=decider, reason=reason)
    elif status == RequestStatus.EXPIRED:
        _notify_requester(request, gettext_noop("Your request (%(kind)s, %(object)s) expired without a decision."))
    elif status == RequestStatus.WITHDRAWN and getattr(_person(actor), "pk", None) != request.requested_by_id:
        # The other side of a transfer took it back: the requester did not, so they are told.
        _notify_requester(request, gettext_noop("Your request (%(kind)s, %(object)s) was withdrawn by %(who)s."),
                          who=str(_person(actor)))


@transaction.atomic
def request_reject(*, request_id: int, actor: Actor, reason: str) -> ApprovalRequest:
    """Reject with a reason (required); nothing but the request changes."""
    reason = (reason or "").strip()
    if not reason:
        raise ApprovalError(_("Give a reason for the rejection."))
    request = _lock_request(request_id)
    _check_decider(actor, request)
    if not request.is_pending:
        raise ApprovalError(_status_message(request))
    _close(request, status=RequestStatus.REJECTED, actor=actor, reason=reason)
    return request


@transaction.atomic
def request_withdraw(*, request_id: int, actor: Actor) -> ApprovalRequest:
    """The requester (or whoever the kind allows) takes back a pending request."""
    request = _lock_request(request_id)
    kind = request.kind_obj
    person = _person(actor)
    allowed = request.requested_by_id == getattr(person, "pk", None) or (
        kind is not None and kind.may_withdraw is not None and kind.may_withdraw(request, actor)
    )
    if not allowed:
        raise ApprovalError(_("Only the person who made the request may withdraw it."))
    if not request.is_pending:
        raise ApprovalError(_status_message(request))
    _close(request, status=RequestStatus.WITHDRAWN, actor=actor, reason="")
    return request


@dataclass(frozen=True)
class DecisionResult:
    """The outcome of one request in a bulk decision."""

    request_id: int
    ok: bool
    message: str
    request: ApprovalRequest | None = None


def requests_decide_many(
    *, request_ids: list[int], actor: Actor, approve: bool, reason: str
) -> list[DecisionResult]:
    """Approve or reject several requests; each in its own transaction so one refusal spoils nothing else."""
    results: list[DecisionResult] = []
    if not approve and not (reason or "").strip():
        return [DecisionResult(int(i), False, _("Give a reason for the rejection.")) for i in request_ids]
    for request_id in dict.fromkeys(int(i) for i in request_ids):
        try:
            if approve:
                request = request_approve(request_id=request_id, actor=actor, note=reason)
            else:
                request = request_reject(request_id=request_id, actor=actor, reason=reason)
        except ApprovalError as exc:
            results.append(DecisionResult(request_id, False, str(exc)))
        else:
            results.append(DecisionResult(request_id, True, "", request))
    return results


def requests_expire(*, now: dt.datetime | None = None) -> int:
    """Mark pending requests older than ZHTJ_REQUEST_EXPIRY_DAYS as expired; nothing else changes."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.ZHTJ_REQUEST_EXPIRY_DAYS)
    candidates = list(
        ApprovalRequest.objects.filter(status=RequestStatus.PENDING, created_at__lt=cutoff).values_list("pk", flat=True)
    )
    expired = 0
    for pk in candidates:
        with transaction.atomic():
            request = ApprovalRequest.objects.select_for_update(of=("self",)).filter(
                pk=pk, status=RequestStatus.PENDING, created_at__lt=cutoff
            ).select_related("deciding_org").first()
            if request is None:  # decided meanwhile
                continue
            _close(request, status=RequestStatus.EXPIRED, actor=None, reason="")
            expired += 1
    return expired
