"""Every state change of a transfer: submit (in or out), the decision hooks the approvals engine calls,
allocation, and the wrappers views use to approve, reject and withdraw through the engine.

The member moves only by an UPDATE of Member.branch (one FK) under a row lock, in the same transaction as
the step that moves them: a member is never in two branches and never in none.
See docs/transfers.md.
"""

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from approvals import services as approvals
from approvals.kinds import ApprovalError
from approvals.models import ApprovalRequest
from audit.services import record
from members import throttle
from members.choices import MemberStatus
from members.models import Member
from notifications.services import MessageKind, notify
from orgs.models import Category, Org
from orgs.permissions import Actor, manages

from . import selectors
from .models import Direction, Reason, Status, Transfer

# The engine's kinds: a transfer decided by a branch (its direct superior admin may decide too), and one
# to a committee, work committee or general branch, decided by that org's own admin only.
KIND_TO_BRANCH = "transfer"
KIND_TO_ORG = "transfer_to_org"
KINDS = (KIND_TO_BRANCH, KIND_TO_ORG)

LOOKUP_SCOPE = "transfer_lookup"

_CLOSED_BY_REQUEST = {"rejected": Status.REJECTED, "withdrawn": Status.WITHDRAWN, "expired": Status.EXPIRED}


class TransferError(ApprovalError):
    """A refused transfer step; the message is translated and safe to show."""


def _check_reason(reason: str, reason_text: str) -> str:
    reason_text = " ".join((reason_text or "").split())
    if reason not in Reason.values:
        raise TransferError(_("Choose a reason for the transfer."))
    if reason == Reason.OTHER and not reason_text:
        raise TransferError(_("Describe the reason when you choose “Other”."))
    if len(reason_text) > 200:
        raise TransferError(_("The reason may be at most 200 characters."))
    return reason_text


def _audit(action: str, transfer: Transfer, actor: Actor | None, *, before: dict | None = None,
           after: dict | None = None, reason: str = "") -> None:
    """Readable by both sides: admins read entries of orgs in their subtree, so one entry on the lower org
    when one side contains the other, else one in each side's trail."""
    source, target = transfer.source_branch, transfer.target_org
    if target.contains(source):
        orgs = [source]
    elif source.contains(target):
        orgs = [target]
    else:
        orgs = [source, target]
    for org in orgs:
        record(action=action, actor=actor, org=org, target=transfer, before=before, after=after, reason=reason)


def _state(transfer: Transfer) -> dict[str, Any]:
    return {
        "status": transfer.status,
        "member": transfer.member_id,
        "source_branch": transfer.source_branch.code,
        "target_org": transfer.target_org.code,
        "allocated_branch": transfer.allocated_branch.code if transfer.allocated_branch_id else None,
    }


def _org_label(org: Org) -> str:
    return f"{org.short_name}（{org.code}）"


def _tell_member(transfer: Transfer, text: str, **params: Any) -> None:
    """A personal message to the member the transfer moves (their own record is where they follow it)."""
    person = transfer.member.person
    notify(recipient=person, kind=MessageKind.TRANSFER, text=text, link=reverse("my_record"), params={
        "source": transfer.source_branch.short_name, "target": transfer.target_org.short_name, **params,
    })


def _tell_org(org: Org, transfer: Transfer, text: str, *, kind: str = MessageKind.TRANSFER, **params: Any) -> None:
    notify(org=org, kind=kind, text=text, link=reverse("transfer_detail", args=[transfer.pk]), params={
        "member": str(transfer.member.person), "source": transfer.source_branch.short_name,
        "target": transfer.target_org.short_name, **params,
    })


def _lock_member(member_id: int) -> Member:
    try:
        return Member.objects.select_for_update().select_related("person").get(pk=member_id)
    except Member.DoesNotExist:
        raise TransferError(_("This member no longer exists.")) from None


def _create(*, actor: Actor, member_id: int, target: Org, direction: str, reason: str, reason_text: str,
            expected_branch_id: int | None = None) -> Transfer:
    """Shared by both paths: lock the member, check every rule, create the transfer and its request."""
    member = _lock_member(member_id)
    # The form saw the member in one branch; if they moved meanwhile, the admin must look again.
    if expected_branch_id is not None and member.branch_id != expected_branch_id:
        raise TransferError(_("This member has moved to another branch since you opened the form."))
    source = Org.objects.select_related("type").get(pk=member.branch_id)
    if direction == Direction.OUT and not actor.administers(source):
        raise TransferError(_("You can only transfer out members of branches you administer."))
    if direction == Direction.IN and not actor.administers(target):
        raise TransferError(_("You can only transfer members into a branch you administer."))
    if member.status != MemberStatus.ACTIVE:
        raise TransferError(_("Only active members can be transferred."))
    if target.pk == source.pk:
        raise TransferError(_("The member already belongs to %(org)s.") % {"org": target.short_name})
    if direction == Direction.IN and target.type.category != Category.BRANCH:
        raise TransferError(_("A member can only be transferred into a branch."))
    if selectors.member_in_transfer(member):
        raise TransferError(_("This member already has a transfer in progress."))
    now = timezone.now()
    transfer = Transfer(
        member=member, direction=direction, source_branch=source, target_org=target, reason=reason,
        reason_text=reason_text, status=Status.PENDING, submitted_at=now, submitted_by=actor.person,
        submitted_for=actor.org,
    )
    try:
        with transaction.atomic():
            transfer.save()
    except IntegrityError:
        # The partial unique index caught a concurrent submission for the same member.
        raise TransferError(_("This member already has a transfer in progress.")) from None
    if direction == Direction.IN or target.type.category == Category.BRANCH:
        kind, deciding_org = KIND_TO_BRANCH, (source if direction == Direction.IN else target)
    else:
        kind, deciding_org = KIND_TO_ORG, target
    request = approvals.request_submit(
        kind=kind, target=transfer, changes={"branch": [source.pk, target.pk]}, actor=actor,
        deciding_org=deciding_org, reason=transfer.reason_display,
        payload={"names": {str(source.pk): _org_label(source), str(target.pk): _org_label(target)}},
    )
    transfer.request = request
    transfer.save(update_fields=["request"])
    _audit(f"transfer.submit_{direction}", transfer, actor, after=_state(transfer), reason=transfer.reason_display)
    _tell_member(transfer, gettext_noop(
        "A transfer of your league relationship from %(source)s to %(target)s was submitted and waits for approval."
    ))
    return transfer


@transaction.atomic
def transfer_in_submit(*, actor: Actor, target_branch: Org, name: str, id_number: str, reason: str,
                       reason_text: str = "") -> Transfer:
    """办理转入: the receiving branch's admin names a member by name AND ID number; their branch decides."""
    reason_text = _check_reason(reason, reason_text)
    target = Org.objects.select_related("type").filter(pk=getattr(target_branch, "pk", None)).first()
    if target is None:
        raise TransferError(_("That organization does not exist."))
    if not actor.administers(target):
        raise TransferError(_("You can only transfer members into a branch you administer."))
    # Name + ID number is the only key: throttle misses per admin so it cannot be brute-forced.
    account = f"person:{actor.person.pk}"
    lock = throttle.current_lock(LOOKUP_SCOPE, account=account, ip=None)
    if lock is not None:
        raise TransferError(_("Too many unsuccessful searches. Try again in %(minutes)d minutes.")
                            % {"minutes": lock.minutes_left()})
    member = selectors.find_member(name=name, id_number=id_number)
    if member is None:
        throttle.register_failure(LOOKUP_SCOPE, account=account, ip=None)
        # The same words whether the ID number exists, the name differs, or neither: nothing leaks.
        raise TransferError(_("No member matches this name and ID number. Check both and try again."))
    throttle.register_success(LOOKUP_SCOPE, account=account)
    return _create(actor=actor, member_id=member.pk, target=target, direction=Direction.IN, reason=reason,
                   reason_text=reason_text)


@transaction.atomic
def transfer_out_submit(*, actor: Actor, member_id: int, target_org_id: int | None, reason: str,
                        reason_text: str = "", expected_branch_id: int | None = None) -> Transfer:
    """办理转出: the current branch's admin sends a member to any org of the whole tree."""
    reason_text = _check_reason(reason, reason_text)
    target = Org.objects.select_related("type").filter(pk=target_org_id).first() if target_org_id else None
    if target is None:
        raise TransferError(_("That organization does not exist."))
    member = Member.objects.filter(pk=member_id).select_related("branch").first()
    if member is None or not actor.administers(member.branch):
        raise TransferError(_("You can only transfer out members of branches you administer."))
    return _create(actor=actor, member_id=member.pk, target=target, direction=Direction.OUT, reason=reason,
                   reason_text=reason_text, expected_branch_id=expected_branch_id)


def _check_still_movable(member: Member, transfer: Transfer) -> None:
    """Re-checked under the member's lock at the moment of the move: where they are, and still active."""
    if member.branch_id != transfer.source_branch_id:
        raise TransferError(_("The member is no longer in the branch this transfer started from."))
    if member.status != MemberStatus.ACTIVE:
        raise TransferError(_("Only active members can be transferred."))


def _move(member: Member, branch: Org) -> None:
    member.branch = branch
    member.save(update_fields=["branch", "updated_at"])


def apply_decision(request: ApprovalRequest, actor: Actor) -> None:
    """The engine's apply hook: runs in the decision transaction with the transfer already locked."""
    transfer: Transfer = request.target
    if transfer.status != Status.PENDING:
        raise TransferError(_("This transfer is no longer waiting for a decision."))
    member = _lock_member(transfer.member_id)
    _check_still_movable(member, transfer)
    before = _state(transfer)
    now = timezone.now()
    transfer.decided_at, transfer.decided_by = now, actor.person
    target = Org.objects.select_related("type").get(pk=transfer.target_org_id)
    if target.type.category == Category.BRANCH:
        _move(member, target)
        transfer.status, transfer.completed_at = Status.COMPLETED, now
    else:
        transfer.status = Status.APPROVED
    transfer.save(update_fields=["status", "decided_at", "decided_by", "completed_at"])
    _audit("transfer.approve", transfer, actor, before=before, after=_state(transfer))
    transfer.member = member
    if transfer.status == Status.COMPLETED:
        _tell_member(transfer, gettext_noop(
            "Your league relationship was transferred from %(source)s to %(target)s."
        ))
    else:
        _tell_member(transfer, gettext_noop(
            "Your transfer to %(target)s was approved; %(target)s will now place you in one of its branches."
        ))
        # 分配团支部: the approving org's admin has one more step; it is a task in their inbox and a message.
        _tell_org(target, transfer, gettext_noop(
            "%(member)s's transfer from %(source)s to %(target)s was approved: allocate a branch."
        ), kind=MessageKind.ALLOCATION_WAITING)


def close_by_request(request: ApprovalRequest, actor: Actor | None) -> None:
    """The engine's on_close hook: rejected, withdrawn or expired. Only the transfer's status changes."""
    transfer = Transfer.objects.select_for_update().filter(pk=request.target_id).first()
    if transfer is None or transfer.status != Status.PENDING:
        return
    before = _state(transfer)
    transfer.status = _CLOSED_BY_REQUEST[request.status]
    transfer.closed_at = timezone.now()
    transfer.closed_by = actor.person if actor is not None else None
    transfer.decision_note = request.decision_reason or ""
    if transfer.status == Status.REJECTED:
        transfer.decided_at, transfer.decided_by = transfer.closed_at, transfer.closed_by
    transfer.save(update_fields=["status", "closed_at", "closed_by", "decision_note", "decided_at", "decided_by"])
    _audit(f"transfer.{transfer.status}", transfer, actor, before=before, after=_state(transfer),
           reason=transfer.decision_note)
    if transfer.status == Status.REJECTED:
        _tell_member(transfer, gettext_noop(
            "Your transfer from %(source)s to %(target)s was rejected. Reason: %(reason)s"
        ), reason=transfer.decision_note)
    elif transfer.status == Status.WITHDRAWN:
        _tell_member(transfer, gettext_noop("Your transfer from %(source)s to %(target)s was withdrawn."))
    else:
        _tell_member(transfer, gettext_noop(
            "Your transfer from %(source)s to %(target)s expired without a decision."
        ))


def is_side_admin(actor: Actor, transfer: Transfer) -> bool:
    """Either side: the admin of the source branch or of the target org, or either one's direct superior."""
    return any(manages(actor, org) for org in (transfer.source_branch, transfer.target_org))


def may_withdraw_transfer(actor: Actor, transfer: Transfer) -> bool:
    """The submitting side withdraws: whoever submitted it, the admin now acting for the org it was submitted
    for, or that org's direct superior admin. The deciding side rejects instead (with a reason)."""
    if transfer.submitted_by_id == getattr(actor.person, "pk", None):
        return True
    submitted_for = transfer.submitted_for
    return actor.is_admin_of(submitted_for) or actor.is_direct_superior_admin_of(submitted_for)


def may_withdraw(request: ApprovalRequest, actor: Actor) -> bool:
    """The engine's may_withdraw hook: the submitting side only (may_withdraw_transfer)."""
    transfer = Transfer.objects.select_related("submitted_for").filter(pk=request.target_id).first()
    return transfer is not None and may_withdraw_transfer(actor, transfer)


def _request_id(transfer_id: int) -> int:
    request_id = Transfer.objects.filter(pk=transfer_id).values_list("request_id", flat=True).first()
    if request_id is None:
        raise TransferError(_("This transfer does not exist."))
    return request_id


def transfer_approve(*, transfer_id: int, actor: Actor, note: str = "") -> Transfer:
    """Approve through the engine (the same decision the inbox makes)."""
    approvals.request_approve(request_id=_request_id(transfer_id), actor=actor, note=note)
    return Transfer.objects.get(pk=transfer_id)


def transfer_reject(*, transfer_id: int, actor: Actor, reason: str) -> Transfer:
    if not (reason or "").strip():
        raise TransferError(_("Give a reason for the rejection."))
    approvals.request_reject(request_id=_request_id(transfer_id), actor=actor, reason=reason.strip())
    return Transfer.objects.get(pk=transfer_id)


def transfer_withdraw(*, transfer_id: int, actor: Actor) -> Transfer:
    approvals.request_withdraw(request_id=_request_id(transfer_id), actor=actor)
    return Transfer.objects.get(pk=transfer_id)


@transaction.atomic
def transfer_allocate(*, transfer_id: int, actor: Actor, branch_id: object) -> Transfer:
    """分配团支部: the target org's admin places an approved member in a branch of their subtree."""
    transfer = (
        Transfer.objects.select_for_update().select_related("target_org__type", "source_branch")
        .filter(pk=transfer_id).first()
    )
    if transfer is None:
        raise TransferError(_("This transfer does not exist."))
    if transfer.status != Status.APPROVED:
        raise TransferError(_("This transfer is not waiting for a branch to be allocated."))
    if not actor.is_admin_of(transfer.target_org):
        raise TransferError(
            _("Only the admin of %(org)s can allocate this member.") % {"org": transfer.target_org.short_name}
        )
    try:
        branch_pk = int(branch_id)
    except (TypeError, ValueError):
        branch_pk = None
    branch = selectors.allocatable_branches(transfer.target_org).filter(pk=branch_pk).first() if branch_pk else None
    if branch is None:
        raise TransferError(
            _("Choose a branch within %(org)s.") % {"org": transfer.target_org.short_name}
        )
    member = _lock_member(transfer.member_id)
    _check_still_movable(member, transfer)
    if branch.pk == member.branch_id:
        raise TransferError(_("The member already belongs to %(org)s.") % {"org": branch.short_name})
    before = _state(transfer)
    now = timezone.now()
    _move(member, branch)
    transfer.allocated_branch = branch
    transfer.allocated_at, transfer.allocated_by = now, actor.person
    transfer.status, transfer.completed_at = Status.COMPLETED, now
    transfer.save(update_fields=["allocated_branch", "allocated_at", "allocated_by", "status", "completed_at"])
    _audit("transfer.allocate", transfer, actor, before=before, after=_state(transfer))
    transfer.member = member
    _tell_member(transfer, gettext_noop("Your transfer is complete: you now belong to %(branch)s."),
                 branch=branch.short_name)
    _tell_org(branch, transfer, gettext_noop(
        "%(member)s joined your branch by transfer from %(source)s (allocated by %(target)s)."
    ))
    return transfer


def transfers_expire_allocations(*, now: dt.datetime | None = None) -> int:
    """Approved transfers whose allocation has waited ZHTJ_REQUEST_EXPIRY_DAYS expire: the member stays in
    their branch and is free to be transferred again. Only the status changes (audited); one row per
    transaction, re-checked under its lock, so running twice or beside an allocation is safe."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.ZHTJ_REQUEST_EXPIRY_DAYS)
    candidates = list(
        Transfer.objects.filter(status=Status.APPROVED, decided_at__lt=cutoff).values_list("pk", flat=True)
    )
    expired = 0
    for pk in candidates:
        with transaction.atomic():
            transfer = (
                Transfer.objects.select_for_update().select_related("source_branch", "target_org")
                .filter(pk=pk, status=Status.APPROVED, decided_at__lt=cutoff).first()
            )
            if transfer is None:  # allocated meanwhile
                continue
            before = _state(transfer)
            transfer.status, transfer.closed_at, transfer.closed_by = Status.EXPIRED, now, None
            transfer.save(update_fields=["status", "closed_at", "closed_by"])
            _audit("transfer.allocation_expired", transfer, None, before=before, after=_state(transfer))
            _tell_member(transfer, gettext_noop(
                "Your transfer to %(target)s expired before a branch was allocated: you stay in %(source)s."
            ))
            _tell_org(transfer.source_branch, transfer, gettext_noop(
                "The transfer of %(member)s to %(target)s expired before a branch was allocated: they stay in"
                " %(source)s."
            ))
            expired += 1
    return expired
