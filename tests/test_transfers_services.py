"""Transfer services: both paths, both kinds of target, allocation, rejection, withdrawal, expiry, refusals."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from approvals.kinds import ApprovalError
from approvals.models import ApprovalRequest
from approvals.services import requests_expire
from audit.models import AuditEntry
from members.models import Member
from orgs.permissions import Actor
from transfers import selectors, services
from transfers.models import Status, Transfer

from . import factories as f


@pytest.fixture(autouse=True)
def _english():
    # Messages are asserted in their English source form, whatever the catalog holds.
    with translation.override("en"):
        yield


def act(person, org) -> Actor:
    return Actor(person=person, org=org, ip="127.0.0.1")


def out(tree, target, *, actor=None, member=None, reason="工作调动", reason_text=""):
    member = member or tree.member
    return services.transfer_out_submit(
        actor=actor or act(tree.branch_admin, tree.branch), member_id=member.pk,
        target_org_id=target.pk if target is not None else 999999, reason=reason, reason_text=reason_text,
    )


def transfer_in(tree, *, actor=None, target=None, name=None, id_number=None, reason="升学", reason_text=""):
    person = tree.member.person
    return services.transfer_in_submit(
        actor=actor or act(tree.branch2_admin, tree.branch2), target_branch=target or tree.branch2,
        name=person.name if name is None else name, id_number=person.id_number if id_number is None else id_number,
        reason=reason, reason_text=reason_text,
    )


def branch_of(member) -> int:
    return Member.objects.get(pk=member.pk).branch_id


def snapshot() -> tuple:
    return (
        list(Member.objects.order_by("pk").values_list("pk", "branch_id")),
        list(Transfer.objects.order_by("pk").values_list("pk", "status", "allocated_branch_id")),
        ApprovalRequest.objects.count(),
    )


# --- transfer out to a branch ----------------------------------------------------------------------------

@pytest.mark.django_db
def test_transfer_out_to_branch_waits_for_target_branch(tree):
    transfer = out(tree, tree.sibling)
    assert transfer.status == Status.PENDING
    assert transfer.request.deciding_org_id == tree.sibling.pk
    assert transfer.request.kind == services.KIND_TO_BRANCH
    assert branch_of(tree.member) == tree.branch.pk
    assert selectors.member_in_transfer(tree.member)


@pytest.mark.django_db
def test_target_branch_admin_approval_moves_member_at_once(tree):
    transfer = out(tree, tree.sibling)
    services.transfer_approve(transfer_id=transfer.pk, actor=act(tree.sibling_admin, tree.sibling))
    transfer.refresh_from_db()
    assert transfer.status == Status.COMPLETED
    assert transfer.decided_by == tree.sibling_admin and transfer.completed_at is not None
    assert branch_of(tree.member) == tree.sibling.pk
    assert not selectors.member_in_transfer(tree.member)
    assert transfer.request.__class__.objects.get(pk=transfer.request_id).status == "approved"


@pytest.mark.django_db
def test_target_branch_direct_superior_may_approve(tree):
    transfer = out(tree, tree.branch2)
    services.transfer_approve(transfer_id=transfer.pk, actor=act(tree.gb_admin, tree.gb))
    assert branch_of(tree.member) == tree.branch2.pk


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["root_admin", "branch_admin", "wc_admin", "outsider", "branch2_admin"])
def test_others_may_not_approve_transfer_to_branch(tree, who):
    transfer = out(tree, tree.sibling)  # sibling's direct superior is wc: wc_admin MAY; test it separately
    orgs = {"root_admin": tree.root, "branch_admin": tree.branch, "wc_admin": tree.wc, "outsider": tree.other_root,
            "branch2_admin": tree.branch2}
    if who == "wc_admin":
        transfer = Transfer.objects.get(pk=transfer.pk)
        services.transfer_withdraw(transfer_id=transfer.pk, actor=act(tree.branch_admin, tree.branch))
        transfer = out(tree, tree.branch2)  # branch2's direct superior is gb, so wc is a higher ancestor
    before = snapshot()
    with pytest.raises(ApprovalError):
        services.transfer_approve(transfer_id=transfer.pk, actor=act(getattr(tree, who), orgs[who]))
    assert snapshot() == before


# --- transfer out to a committee: approval, then allocation ----------------------------------------------

@pytest.mark.django_db
def test_transfer_to_committee_awaits_allocation_and_member_stays(tree):
    transfer = out(tree, tree.wc)
    assert transfer.request.kind == services.KIND_TO_ORG
    services.transfer_approve(transfer_id=transfer.pk, actor=act(tree.wc_admin, tree.wc))
    transfer.refresh_from_db()
    assert transfer.status == Status.APPROVED
    assert branch_of(tree.member) == tree.branch.pk
    assert selectors.member_in_transfer(tree.member)
    assert list(selectors.allocation_tasks(act(tree.wc_admin, tree.wc))) == [transfer]


@pytest.mark.django_db
def test_committee_superior_may_not_decide(tree):
    transfer = out(tree, tree.wc)
    before = snapshot()
    with pytest.raises(ApprovalError):
        services.transfer_approve(transfer_id=transfer.pk, actor=act(tree.root_admin, tree.root))
    assert snapshot() == before


@pytest.mark.django_db
def test_allocation_moves_member_into_chosen_branch(tree):
    transfer = out(tree, tree.wc)
    wc = act(tree.wc_admin, tree.wc)
    services.transfer_approve(transfer_id=transfer.pk, actor=wc)
    services.transfer_allocate(transfer_id=transfer.pk, actor=wc, branch_id=tree.sibling.pk)
    transfer.refresh_from_db()
    assert transfer.status == Status.COMPLETED
    assert transfer.allocated_branch == tree.sibling and transfer.allocated_by == tree.wc_admin
    assert transfer.allocated_at is not None and transfer.completed_at is not None
    assert branch_of(tree.member) == tree.sibling.pk
    assert not selectors.member_in_transfer(tree.member)


@pytest.mark.django_db
def test_allocation_offers_only_branches_of_target_subtree(tree):
    assert set(selectors.allocatable_branches(tree.gb)) == {tree.branch, tree.branch2}
    assert set(selectors.allocatable_branches(tree.wc)) == {tree.branch, tree.branch2, tree.sibling}


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["outside", "non_branch", "garbage", "missing", "current"])
def test_allocation_refuses_tampered_branch(tree, bad):
    other_branch = f.make_org("branch", parent=tree.other_root)
    transfer = out(tree, tree.gb)
    gb = act(tree.gb_admin, tree.gb)
    services.transfer_approve(transfer_id=transfer.pk, actor=gb)
    branch_id = {"outside": other_branch.pk, "non_branch": tree.gb.pk, "garbage": "1 OR 1=1", "missing": 999999,
                 "current": tree.branch.pk}[bad]
    before = snapshot()
    with pytest.raises(services.TransferError) as exc:
        services.transfer_allocate(transfer_id=transfer.pk, actor=gb, branch_id=branch_id)
    assert "学院团总支" in str(exc.value) or "一班团支部" in str(exc.value)
    assert snapshot() == before


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["root_admin", "wc_admin", "branch_admin", "branch2_admin", "outsider"])
def test_only_target_admin_may_allocate(tree, who):
    transfer = out(tree, tree.gb)
    services.transfer_approve(transfer_id=transfer.pk, actor=act(tree.gb_admin, tree.gb))
    orgs = {"root_admin": tree.root, "wc_admin": tree.wc, "branch_admin": tree.branch,
            "branch2_admin": tree.branch2, "outsider": tree.other_root}
    before = snapshot()
    with pytest.raises(services.TransferError, match="学院团总支"):
        services.transfer_allocate(transfer_id=transfer.pk, actor=act(getattr(tree, who), orgs[who]),
                                   branch_id=tree.branch2.pk)
    assert snapshot() == before


@pytest.mark.django_db
def test_allocation_refused_before_approval(tree):
    transfer = out(tree, tree.gb)
    before = snapshot()
    with pytest.raises(services.TransferError):
        services.transfer_allocate(transfer_id=transfer.pk, actor=act(tree.gb_admin, tree.gb),
                                   branch_id=tree.branch2.pk)
    assert snapshot() == before


# --- transfer in ------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_transfer_in_is_decided_by_current_branch(tree):
    transfer = transfer_in(tree)
    assert transfer.direction == "in"
    assert transfer.request.deciding_org_id == tree.branch.pk
    assert branch_of(tree.member) == tree.branch.pk
    services.transfer_approve(transfer_id=transfer.pk, actor=act(tree.branch_admin, tree.branch))
    transfer.refresh_from_db()
    assert transfer.status == Status.COMPLETED
    assert branch_of(tree.member) == tree.branch2.pk


@pytest.mark.django_db
def test_transfer_in_may_be_approved_by_current_branchs_direct_superior(tree):
    transfer = transfer_in(tree)
    services.transfer_approve(transfer_id=transfer.pk, actor=act(tree.gb_admin, tree.gb))
    assert branch_of(tree.member) == tree.branch2.pk


@pytest.mark.django_db
def test_transfer_in_across_trees(tree):
    other_branch = f.make_org("branch", parent=tree.other_root)
    admin = f.make_admin(other_branch)
    transfer = transfer_in(tree, actor=act(admin, other_branch), target=other_branch)
    with pytest.raises(ApprovalError):  # the receiving side does not decide
        services.transfer_approve(transfer_id=transfer.pk, actor=act(admin, other_branch))
    services.transfer_approve(transfer_id=transfer.pk, actor=act(tree.branch_admin, tree.branch))
    assert branch_of(tree.member) == other_branch.pk


@pytest.mark.django_db
@pytest.mark.parametrize("mismatch", ["name", "id_number", "both", "invalid_id"])
def test_transfer_in_not_found_says_nothing_about_who_exists(tree, mismatch):
    other = f.make_member(tree.sibling)
    kwargs = {
        "name": {"name": other.person.name},  # a real person's name with our member's ID number
        "id_number": {"id_number": other.person.id_number},
        "both": {"name": "不存在", "id_number": f.next_id_number()},
        "invalid_id": {"id_number": "12345"},
    }[mismatch]
    before = snapshot()
    with pytest.raises(services.TransferError) as exc:
        transfer_in(tree, **kwargs)
    assert str(exc.value) == "No member matches this name and ID number. Check both and try again."
    assert snapshot() == before


@pytest.mark.django_db
def test_transfer_in_not_found_message_is_identical_for_every_mismatch(tree):
    other = f.make_member(tree.sibling)
    messages = set()
    for kwargs in ({"name": other.person.name}, {"id_number": f.next_id_number()}, {"name": "某某"}):
        with pytest.raises(services.TransferError) as exc:
            transfer_in(tree, **kwargs)
        messages.add(str(exc.value))
    assert len(messages) == 1


@pytest.mark.django_db
def test_transfer_in_lookups_are_throttled_per_admin(tree, settings):
    settings.ZHTJ_LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        with pytest.raises(services.TransferError, match="No member matches"):
            transfer_in(tree, name="某某")
    # Locked now: even the right name and ID number are not looked up, so guessing gains nothing.
    with pytest.raises(services.TransferError, match="Too many unsuccessful searches"):
        transfer_in(tree)
    assert not Transfer.objects.exists()
    # Another admin is not affected.
    transfer_in(tree, actor=act(tree.gb_admin, tree.gb), target=tree.branch2)


@pytest.mark.django_db
def test_transfer_in_accepts_lowercase_and_spaced_id_number(tree):
    spaced = " " + tree.member.person.id_number.lower() + " "
    transfer = transfer_in(tree, id_number=spaced)
    assert transfer.member == tree.member


# --- refusals: each with a clear message and nothing changed ----------------------------------------------

@pytest.mark.django_db
def test_transfer_out_to_current_branch_refused(tree):
    before = snapshot()
    with pytest.raises(services.TransferError, match="already belongs"):
        out(tree, tree.branch)
    assert snapshot() == before


@pytest.mark.django_db
def test_transfer_in_to_current_branch_refused(tree):
    before = snapshot()
    with pytest.raises(services.TransferError, match="already belongs"):
        transfer_in(tree, actor=act(tree.branch_admin, tree.branch), target=tree.branch)
    assert snapshot() == before


@pytest.mark.django_db
def test_transfer_to_missing_org_refused(tree):
    before = snapshot()
    with pytest.raises(services.TransferError, match="does not exist"):
        out(tree, None)
    assert snapshot() == before


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["sibling_admin", "branch2_admin", "outsider"])
def test_transfer_out_by_admin_not_administering_source_refused(tree, who):
    orgs = {"sibling_admin": tree.sibling, "branch2_admin": tree.branch2, "outsider": tree.other_root}
    before = snapshot()
    with pytest.raises(services.TransferError, match="administer"):
        out(tree, tree.branch2 if who != "branch2_admin" else tree.sibling, actor=act(getattr(tree, who), orgs[who]))
    assert snapshot() == before


@pytest.mark.django_db
def test_transfer_out_by_ancestor_admin_allowed(tree):
    transfer = out(tree, tree.sibling, actor=act(tree.wc_admin, tree.wc))
    assert transfer.status == Status.PENDING


@pytest.mark.django_db
def test_transfer_in_by_admin_not_administering_target_refused(tree):
    before = snapshot()
    with pytest.raises(services.TransferError, match="administer"):
        transfer_in(tree, actor=act(tree.sibling_admin, tree.sibling), target=tree.branch2)
    assert snapshot() == before


@pytest.mark.django_db
def test_transfer_in_to_non_branch_refused(tree):
    before = snapshot()
    with pytest.raises(services.TransferError, match="branch"):
        transfer_in(tree, actor=act(tree.root_admin, tree.root), target=tree.wc)
    assert snapshot() == before


@pytest.mark.django_db
def test_other_reason_needs_text(tree):
    before = snapshot()
    with pytest.raises(services.TransferError, match="Other"):
        out(tree, tree.sibling, reason="其他")
    with pytest.raises(services.TransferError):
        out(tree, tree.sibling, reason="旅游")
    assert snapshot() == before
    transfer = out(tree, tree.sibling, reason="其他", reason_text="随迁")
    assert transfer.reason_display.endswith("随迁")


@pytest.mark.django_db
def test_inactive_member_cannot_be_transferred(tree):
    Member.objects.filter(pk=tree.member.pk).update(status="aged_out")
    with pytest.raises(services.TransferError, match="active"):
        out(tree, tree.sibling)
    assert not Transfer.objects.exists()


# --- one open transfer per member -------------------------------------------------------------------------

@pytest.mark.django_db
def test_second_transfer_of_member_refused_while_one_is_open(tree):
    out(tree, tree.sibling)
    before = snapshot()
    with pytest.raises(services.TransferError, match="in progress"):
        transfer_in(tree)
    with pytest.raises(services.TransferError, match="in progress"):
        out(tree, tree.branch2)
    assert snapshot() == before


@pytest.mark.django_db
def test_member_awaiting_allocation_counts_as_in_transfer(tree):
    transfer = out(tree, tree.wc)
    services.transfer_approve(transfer_id=transfer.pk, actor=act(tree.wc_admin, tree.wc))
    with pytest.raises(services.TransferError, match="in progress"):
        out(tree, tree.sibling)


@pytest.mark.django_db
def test_database_refuses_two_open_transfers(tree):
    transfer = out(tree, tree.sibling)
    duplicate = Transfer(
        member=tree.member, direction="in", source_branch=tree.branch, target_org=tree.branch2, reason="升学",
        submitted_at=timezone.now(), submitted_by=tree.branch2_admin, submitted_for=tree.branch2,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()
    # Closed transfers are history and may repeat.
    services.transfer_withdraw(transfer_id=transfer.pk, actor=act(tree.branch_admin, tree.branch))
    duplicate.save()
    assert Transfer.objects.filter(member=tree.member).count() == 2


@pytest.mark.django_db
def test_members_in_transfer_ids_in_one_query(tree, django_assert_num_queries):
    other = f.make_member(tree.branch)
    out(tree, tree.sibling)
    with django_assert_num_queries(1):
        assert selectors.members_in_transfer_ids([tree.member.pk, other.pk]) == {tree.member.pk}
    assert selectors.members_in_transfer_ids([]) == set()


# --- rejection --------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_rejection_needs_reason(tree):
    transfer = out(tree, tree.sibling)
    before = snapshot()
    with pytest.raises(ApprovalError, match="reason"):
        services.transfer_reject(transfer_id=transfer.pk, actor=act(tree.sibling_admin, tree.sibling), reason="  ")
    assert snapshot() == before


@pytest.mark.django_db
def test_rejection_keeps_member_and_records_reason(tree):
    transfer = out(tree, tree.sibling)
    services.transfer_reject(transfer_id=transfer.pk, actor=act(tree.sibling_admin, tree.sibling), reason="不符合条件")
    transfer.refresh_from_db()
    assert transfer.status == Status.REJECTED
    assert transfer.decision_note == "不符合条件" and transfer.decided_by == tree.sibling_admin
    assert branch_of(tree.member) == tree.branch.pk
    assert not selectors.member_in_transfer(tree.member)


@pytest.mark.django_db
def test_rejection_from_the_engine_inbox_closes_transfer(tree):
    from approvals.services import request_reject

    transfer = out(tree, tree.sibling)
    request_reject(request_id=transfer.request_id, actor=act(tree.wc_admin, tree.wc), reason="材料不全")
    transfer.refresh_from_db()
    assert transfer.status == Status.REJECTED and transfer.decision_note == "材料不全"


@pytest.mark.django_db
def test_decision_on_closed_transfer_refused(tree):
    transfer = out(tree, tree.sibling)
    sibling = act(tree.sibling_admin, tree.sibling)
    services.transfer_reject(transfer_id=transfer.pk, actor=sibling, reason="不符合")
    before = snapshot()
    with pytest.raises(ApprovalError):
        services.transfer_approve(transfer_id=transfer.pk, actor=sibling)
    assert snapshot() == before


# --- withdrawal -------------------------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("side", ["source_admin", "source_superior"])
def test_the_submitting_side_may_withdraw(tree, side):
    transfer = out(tree, tree.sibling)
    actor = {"source_admin": act(tree.branch_admin, tree.branch), "source_superior": act(tree.gb_admin, tree.gb)}[side]
    services.transfer_withdraw(transfer_id=transfer.pk, actor=actor)
    transfer.refresh_from_db()
    assert transfer.status == Status.WITHDRAWN and transfer.closed_by == actor.person
    assert branch_of(tree.member) == tree.branch.pk
    out(tree, tree.branch2)  # the member may be transferred again


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["sibling_admin", "wc_admin", "root_admin", "branch2_admin", "outsider"])
def test_others_may_not_withdraw(tree, who):
    # sibling_admin and wc_admin are the deciding side: they reject, with a reason, instead.
    transfer = out(tree, tree.sibling)
    orgs = {"sibling_admin": tree.sibling, "wc_admin": tree.wc, "root_admin": tree.root, "branch2_admin": tree.branch2,
            "outsider": tree.other_root}
    before = snapshot()
    with pytest.raises(ApprovalError):
        services.transfer_withdraw(transfer_id=transfer.pk, actor=act(getattr(tree, who), orgs[who]))
    assert snapshot() == before


@pytest.mark.django_db
def test_approved_transfer_cannot_be_withdrawn(tree):
    transfer = out(tree, tree.wc)
    services.transfer_approve(transfer_id=transfer.pk, actor=act(tree.wc_admin, tree.wc))
    before = snapshot()
    with pytest.raises(ApprovalError):
        services.transfer_withdraw(transfer_id=transfer.pk, actor=act(tree.branch_admin, tree.branch))
    assert snapshot() == before


# --- expiry -----------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_unanswered_transfer_expires_and_nothing_else_changes(tree, settings):
    settings.ZHTJ_REQUEST_EXPIRY_DAYS = 30
    transfer = out(tree, tree.sibling)
    assert requests_expire(now=timezone.now() + dt.timedelta(days=29)) == 0
    assert Transfer.objects.get(pk=transfer.pk).status == Status.PENDING
    members_before = list(Member.objects.order_by("pk").values_list("pk", "branch_id"))
    assert requests_expire(now=timezone.now() + dt.timedelta(days=31)) == 1
    transfer.refresh_from_db()
    assert transfer.status == Status.EXPIRED and transfer.closed_by is None
    assert list(Member.objects.order_by("pk").values_list("pk", "branch_id")) == members_before
    assert not selectors.member_in_transfer(tree.member)


@pytest.mark.django_db
def test_expiry_runs_through_the_periodic_celery_task(tree, settings):
    from approvals.tasks import expire_requests

    settings.ZHTJ_REQUEST_EXPIRY_DAYS = 0
    transfer = out(tree, tree.sibling)
    expire_requests.apply()  # the task body as the worker runs it (in-process, whatever the broker)
    assert Transfer.objects.get(pk=transfer.pk).status == Status.EXPIRED


@pytest.mark.django_db
def test_expired_transfer_cannot_be_approved(tree, settings):
    settings.ZHTJ_REQUEST_EXPIRY_DAYS = 0
    transfer = out(tree, tree.sibling)
    requests_expire()
    before = snapshot()
    with pytest.raises(ApprovalError):
        services.transfer_approve(transfer_id=transfer.pk, actor=act(tree.sibling_admin, tree.sibling))
    assert snapshot() == before


# --- the member moved behind the transfer's back: the request is stale --------------------------------------

@pytest.mark.django_db
def test_approval_refused_when_member_no_longer_in_source(tree):
    transfer = out(tree, tree.sibling)
    Member.objects.filter(pk=tree.member.pk).update(branch=tree.branch2)
    with pytest.raises(ApprovalError):
        services.transfer_approve(transfer_id=transfer.pk, actor=act(tree.sibling_admin, tree.sibling))
    assert branch_of(tree.member) == tree.branch2.pk
    assert Transfer.objects.get(pk=transfer.pk).status == Status.PENDING


@pytest.mark.django_db
def test_member_who_left_meanwhile_is_not_moved(tree):
    transfer = out(tree, tree.sibling)
    Member.objects.filter(pk=tree.member.pk).update(status="left")
    with pytest.raises(services.TransferError, match="active"):
        services.transfer_approve(transfer_id=transfer.pk, actor=act(tree.sibling_admin, tree.sibling))
    assert branch_of(tree.member) == tree.branch.pk
    assert Transfer.objects.get(pk=transfer.pk).status == Status.PENDING


# --- audit trail ------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_every_step_is_audited(tree):
    transfer = out(tree, tree.wc)
    wc = act(tree.wc_admin, tree.wc)
    services.transfer_approve(transfer_id=transfer.pk, actor=wc)
    services.transfer_allocate(transfer_id=transfer.pk, actor=wc, branch_id=tree.sibling.pk)
    actions = list(
        AuditEntry.objects.filter(target_type="transfers.transfer", target_id=str(transfer.pk))
        .order_by("id").values_list("action", flat=True)
    )
    assert "transfer.submit_out" in actions
    assert "transfer.approve" in actions
    assert "transfer.allocate" in actions
    allocate = AuditEntry.objects.get(action="transfer.allocate")
    assert allocate.actor == tree.wc_admin and allocate.after["allocated_branch"] == "B0003"
    assert allocate.before["status"] == "approved" and allocate.after["status"] == "completed"


@pytest.mark.django_db
def test_audit_entry_for_each_side_when_apart(tree):
    other_branch = f.make_org("branch", parent=tree.other_root)
    transfer = out(tree, other_branch)
    orgs = set(AuditEntry.objects.filter(action="transfer.submit_out", target_id=str(transfer.pk))
               .values_list("org_id", flat=True))
    assert orgs == {tree.branch.pk, other_branch.pk}


# --- selectors --------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_org_search_covers_whole_tree_and_returns_only_org_facts(tree):
    f.make_org("branch", parent=tree.other_root, short_name="外市一支部", code="X0009")
    by_code = selectors.search_orgs("X0009")
    assert [r["code"] for r in by_code] == ["X0009"]
    assert by_code[0]["path"] == "外市团委 / 外市一支部"
    assert set(by_code[0]) == {"id", "code", "name", "full_name", "type", "is_branch", "path"}
    assert {r["code"] for r in selectors.search_orgs("团支部")} >= {"B0001", "B0002", "B0003"}
    assert selectors.search_orgs("  ") == []


@pytest.mark.django_db
def test_history_lists_every_transfer_of_member(tree):
    first = out(tree, tree.sibling)
    services.transfer_withdraw(transfer_id=first.pk, actor=act(tree.branch_admin, tree.branch))
    second = out(tree, tree.branch2)
    assert [t.pk for t in selectors.member_transfer_history(tree.member)] == [second.pk, first.pk]


# --- an allocation left waiting expires too ---------------------------------------------------------------

@pytest.mark.django_db
def test_allocation_left_waiting_expires_and_member_stays(tree, settings):
    settings.ZHTJ_REQUEST_EXPIRY_DAYS = 30
    transfer = out(tree, tree.wc)
    services.transfer_approve(transfer_id=transfer.pk, actor=act(tree.wc_admin, tree.wc))
    assert services.transfers_expire_allocations(now=timezone.now() + dt.timedelta(days=29)) == 0
    assert services.transfers_expire_allocations(now=timezone.now() + dt.timedelta(days=31)) == 1
    transfer.refresh_from_db()
    assert transfer.status == Status.EXPIRED and transfer.allocated_branch is None
    assert branch_of(tree.member) == tree.branch.pk
    assert AuditEntry.objects.filter(action="transfer.allocation_expired", target_id=str(transfer.pk)).exists()
    # Running again finds nothing; an expired allocation cannot be completed; the member is free again.
    assert services.transfers_expire_allocations(now=timezone.now() + dt.timedelta(days=31)) == 0
    with pytest.raises(services.TransferError):
        services.transfer_allocate(transfer_id=transfer.pk, actor=act(tree.wc_admin, tree.wc),
                                   branch_id=tree.sibling.pk)
    out(tree, tree.sibling)


@pytest.mark.django_db
def test_allocation_expiry_task_runs_the_service(tree, settings):
    from transfers.tasks import expire_allocations

    settings.ZHTJ_REQUEST_EXPIRY_DAYS = 0
    transfer = out(tree, tree.wc)
    services.transfer_approve(transfer_id=transfer.pk, actor=act(tree.wc_admin, tree.wc))
    assert expire_allocations.apply().get() == 1
    assert Transfer.objects.get(pk=transfer.pk).status == Status.EXPIRED


# --- audit trail of the closing steps (reject, withdraw, expire) -----------------------------------------

def _transfer_entries(transfer, action):
    return list(AuditEntry.objects.filter(action=action, target_type="transfers.transfer",
                                          target_id=str(transfer.pk)))


@pytest.mark.django_db
def test_rejection_is_audited_with_reason_and_decider(tree):
    transfer = out(tree, tree.sibling)
    services.transfer_reject(transfer_id=transfer.pk, actor=act(tree.sibling_admin, tree.sibling), reason="材料不全")
    entries = _transfer_entries(transfer, "transfer.rejected")
    assert entries, "a rejection must leave an audit entry"
    for entry in entries:
        assert entry.actor == tree.sibling_admin and entry.reason == "材料不全"
        assert entry.before["status"] == "pending" and entry.after["status"] == "rejected"
    # Neither branch contains the other: one entry in each side's trail, so both admins read it.
    assert {e.org_id for e in entries} == {tree.branch.pk, tree.sibling.pk}


@pytest.mark.django_db
def test_withdrawal_is_audited_with_who_withdrew(tree):
    transfer = out(tree, tree.sibling)
    services.transfer_withdraw(transfer_id=transfer.pk, actor=act(tree.gb_admin, tree.gb))
    entries = _transfer_entries(transfer, "transfer.withdrawn")
    assert entries and all(e.actor == tree.gb_admin for e in entries)
    assert all(e.before["status"] == "pending" and e.after["status"] == "withdrawn" for e in entries)


@pytest.mark.django_db
def test_expiry_is_audited_without_an_actor(tree, settings):
    settings.ZHTJ_REQUEST_EXPIRY_DAYS = 30
    transfer = out(tree, tree.sibling)
    requests_expire(now=timezone.now() + dt.timedelta(days=31))
    entries = _transfer_entries(transfer, "transfer.expired")
    assert entries and all(e.actor is None for e in entries)
    assert all(e.before["status"] == "pending" and e.after["status"] == "expired" for e in entries)


@pytest.mark.django_db
def test_transfer_in_is_audited_where_both_sides_read_it(tree):
    other_branch = f.make_org("branch", parent=tree.other_root)
    admin = f.make_admin(other_branch)
    transfer = transfer_in(tree, actor=act(admin, other_branch), target=other_branch)
    services.transfer_approve(transfer_id=transfer.pk, actor=act(tree.branch_admin, tree.branch))
    for action in ("transfer.submit_in", "transfer.approve"):
        assert {e.org_id for e in _transfer_entries(transfer, action)} == {tree.branch.pk, other_branch.pk}
    approve = _transfer_entries(transfer, "transfer.approve")[0]
    assert approve.actor == tree.branch_admin and approve.after["status"] == "completed"


def test_beat_schedule_runs_both_expiry_tasks_and_they_are_registered(settings):
    # A typo in either name would leave transfers unexpired forever, silently: beat sends, no worker knows it.
    from zhtj.celery import app

    app.loader.import_default_modules()
    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for name in ("approvals.tasks.expire_requests", "transfers.tasks.expire_allocations"):
        assert name in names and name in app.tasks
