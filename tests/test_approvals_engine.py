"""The approvals engine: submit, approve, reject, withdraw, expire, one pending per object, staleness,
bulk decisions, the decider permission matrix, and two admins deciding at once (PostgreSQL)."""

import datetime as dt
import threading

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from approvals.models import ApprovalRequest, RequestStatus
from approvals.selectors import may_decide
from approvals.services import (
    ApprovalError,
    request_approve,
    request_reject,
    request_submit,
    request_withdraw,
    requests_decide_many,
    requests_expire,
)
from audit.models import AuditEntry
from orgs.models import Org
from orgs.permissions import Actor


def actor(person, org=None):
    return Actor(person=person, org=org, ip="10.0.0.1")


def submit_rename(tree, org=None, new="新名称", **kw):
    """The branch's own admin asks to rename the branch; the general branch (its parent) decides."""
    org = org or tree.branch
    org.refresh_from_db()
    return request_submit(
        kind="org_info", target=org, changes={"short_name": [org.short_name, new]},
        actor=actor(tree.branch_admin, tree.branch), deciding_org=org.parent, reason="更名", **kw,
    )


def test_submit_creates_pending_request_and_audit_entry(tree):
    req = submit_rename(tree)
    assert req.status == RequestStatus.PENDING
    assert req.changes == {"short_name": ["一班团支部", "新名称"]}
    assert req.deciding_org == tree.gb and req.requested_for_org == tree.branch and req.org == tree.branch
    assert req.requested_by == tree.branch_admin
    tree.branch.refresh_from_db()
    assert tree.branch.short_name == "一班团支部"  # nothing applied yet
    entry = AuditEntry.objects.get(action="request.submitted.org_info")
    assert entry.org_id == tree.branch.pk and entry.after == {"short_name": "新名称"}


def test_submit_refuses_no_op_change(tree):
    with pytest.raises(ApprovalError):
        request_submit(kind="org_info", target=tree.branch, changes={"short_name": ["一班团支部", "一班团支部"]},
                       actor=actor(tree.branch_admin, tree.branch), deciding_org=tree.gb)
    assert not ApprovalRequest.objects.exists()


def test_submit_refuses_fixed_fields(tree):
    with pytest.raises(ApprovalError):
        request_submit(kind="org_info", target=tree.branch, changes={"code": ["B0001", "B9999"]},
                       actor=actor(tree.branch_admin, tree.branch), deciding_org=tree.gb)
    assert not ApprovalRequest.objects.exists()


def test_submit_refuses_old_values_that_do_not_match(tree):
    with pytest.raises(ApprovalError):
        request_submit(kind="org_info", target=tree.branch, changes={"short_name": ["别的名字", "新名称"]},
                       actor=actor(tree.branch_admin, tree.branch), deciding_org=tree.gb)
    assert not ApprovalRequest.objects.exists()


def test_only_one_pending_request_per_object_and_kind(tree):
    submit_rename(tree)
    with pytest.raises(ApprovalError):
        submit_rename(tree, new="另一个名称")
    assert ApprovalRequest.objects.count() == 1


def test_one_pending_request_per_object_and_kind_is_enforced_by_the_database(tree):
    req = submit_rename(tree)
    dup = ApprovalRequest(
        kind=req.kind, target_type=req.target_type, target_id=req.target_id, changes=req.changes,
        requested_by=req.requested_by, deciding_org=req.deciding_org,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        dup.save()


def test_a_new_request_may_follow_a_decided_one(tree):
    req = submit_rename(tree)
    request_reject(request_id=req.pk, actor=actor(tree.gb_admin, tree.gb), reason="不规范")
    second = submit_rename(tree, new="另一个名称")
    assert second.is_pending


def test_status_check_constraint(tree):
    req = submit_rename(tree)
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.filter(pk=req.pk).update(status="bogus")


def test_approve_applies_change_and_records_decision(tree):
    req = submit_rename(tree)
    done = request_approve(request_id=req.pk, actor=actor(tree.gb_admin, tree.gb), note="同意")
    assert done.status == RequestStatus.APPROVED and done.decided_by == tree.gb_admin
    assert done.decided_at is not None and done.decision_reason == "同意"
    tree.branch.refresh_from_db()
    assert tree.branch.short_name == "新名称"
    entry = AuditEntry.objects.get(action="request.approved.org_info")
    assert entry.actor_id == tree.gb_admin.pk and entry.acting_org_id == tree.gb.pk
    assert entry.before == {"short_name": "一班团支部"} and entry.after == {"short_name": "新名称"}
    assert entry.ip == "10.0.0.1"


def test_approving_twice_is_refused_with_who_decided(tree):
    req = submit_rename(tree)
    request_approve(request_id=req.pk, actor=actor(tree.gb_admin, tree.gb))
    with pytest.raises(ApprovalError) as exc:
        request_approve(request_id=req.pk, actor=actor(tree.gb_admin, tree.gb))
    assert tree.gb_admin.name in str(exc.value)


def test_reject_requires_reason_and_changes_nothing(tree):
    req = submit_rename(tree)
    with pytest.raises(ApprovalError):
        request_reject(request_id=req.pk, actor=actor(tree.gb_admin, tree.gb), reason="   ")
    req.refresh_from_db()
    assert req.is_pending


def test_reject_keeps_the_record_and_stores_the_reason(tree):
    req = submit_rename(tree)
    done = request_reject(request_id=req.pk, actor=actor(tree.gb_admin, tree.gb), reason="名称不规范")
    assert done.status == RequestStatus.REJECTED and done.decision_reason == "名称不规范"
    tree.branch.refresh_from_db()
    assert tree.branch.short_name == "一班团支部"
    assert AuditEntry.objects.filter(action="request.rejected.org_info", reason="名称不规范").exists()


def test_requester_may_withdraw_pending_request(tree):
    req = submit_rename(tree)
    done = request_withdraw(request_id=req.pk, actor=actor(tree.branch_admin, tree.branch))
    assert done.status == RequestStatus.WITHDRAWN
    assert AuditEntry.objects.filter(action="request.withdrawn.org_info").exists()


@pytest.mark.parametrize("who", ["gb_admin", "branch2_admin", "member"])
def test_only_requester_may_withdraw(tree, who):
    req = submit_rename(tree)
    person = tree.member.person if who == "member" else getattr(tree, who)
    with pytest.raises(ApprovalError):
        request_withdraw(request_id=req.pk, actor=actor(person))
    req.refresh_from_db()
    assert req.is_pending


def test_withdraw_only_while_pending(tree):
    req = submit_rename(tree)
    request_approve(request_id=req.pk, actor=actor(tree.gb_admin, tree.gb))
    with pytest.raises(ApprovalError):
        request_withdraw(request_id=req.pk, actor=actor(tree.branch_admin, tree.branch))
    req.refresh_from_db()
    assert req.status == RequestStatus.APPROVED


def test_expire_marks_old_pending_requests_only(tree, settings):
    settings.ZHTJ_REQUEST_EXPIRY_DAYS = 30
    old = submit_rename(tree)
    fresh = submit_rename(tree, org=tree.branch2)
    decided = submit_rename(tree, org=tree.sibling)
    request_reject(request_id=decided.pk, actor=actor(tree.wc_admin, tree.wc), reason="否")
    ApprovalRequest.objects.filter(pk__in=[old.pk, decided.pk]).update(
        created_at=timezone.now() - dt.timedelta(days=31)
    )
    assert requests_expire() == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    decided.refresh_from_db()
    assert old.status == RequestStatus.EXPIRED and old.decided_by is None
    assert fresh.is_pending and decided.status == RequestStatus.REJECTED
    tree.branch.refresh_from_db()
    assert tree.branch.short_name == "一班团支部"  # expiry changes nothing but the request
    assert AuditEntry.objects.filter(action="request.expired.org_info").count() == 1
    assert requests_expire() == 0  # safe to run twice


def test_expire_task_calls_service(tree, settings):
    from approvals.tasks import expire_requests

    req = submit_rename(tree)
    ApprovalRequest.objects.filter(pk=req.pk).update(created_at=timezone.now() - dt.timedelta(days=400))
    assert expire_requests() == 1
    req.refresh_from_db()
    assert req.status == RequestStatus.EXPIRED


def test_beat_schedule_names_the_registered_expiry_task(settings):
    from zhtj.celery import app

    app.loader.import_default_modules()
    names = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    assert "approvals.tasks.expire_requests" in names
    assert "approvals.tasks.expire_requests" in app.tasks


def test_stale_request_cannot_be_approved(tree):
    req = submit_rename(tree)
    Org.objects.filter(pk=tree.branch.pk).update(short_name="被别人改了")
    with pytest.raises(ApprovalError) as exc:
        request_approve(request_id=req.pk, actor=actor(tree.gb_admin, tree.gb))
    assert "reject" in str(exc.value).lower() or "驳回" in str(exc.value)
    req.refresh_from_db()
    tree.branch.refresh_from_db()
    assert req.is_pending and tree.branch.short_name == "被别人改了"
    # It can still be rejected.
    request_reject(request_id=req.pk, actor=actor(tree.gb_admin, tree.gb), reason="已过时")


def test_bulk_decide_reports_each_outcome(tree):
    a = submit_rename(tree)
    b = submit_rename(tree, org=tree.branch2, new="二班新名")
    foreign = submit_rename(tree, org=tree.sibling)  # decided by wc, not gb
    Org.objects.filter(pk=tree.branch2.pk).update(short_name="被改")
    results = requests_decide_many(request_ids=[a.pk, b.pk, foreign.pk], actor=actor(tree.gb_admin, tree.gb),
                                   approve=True, reason="")
    outcome = {r.request_id: r.ok for r in results}
    assert outcome == {a.pk: True, b.pk: False, foreign.pk: False}
    assert all(r.message for r in results if not r.ok)
    tree.branch.refresh_from_db()
    tree.sibling.refresh_from_db()
    assert tree.branch.short_name == "新名称" and tree.sibling.short_name == "机关团支部"


def test_bulk_reject_requires_reason(tree):
    a = submit_rename(tree)
    results = requests_decide_many(request_ids=[a.pk], actor=actor(tree.gb_admin, tree.gb), approve=False, reason="")
    assert not results[0].ok
    a.refresh_from_db()
    assert a.is_pending


def test_bulk_reject_with_reason(tree):
    a = submit_rename(tree)
    b = submit_rename(tree, org=tree.branch2)
    results = requests_decide_many(request_ids=[a.pk, b.pk], actor=actor(tree.gb_admin, tree.gb), approve=False,
                                   reason="统一驳回")
    assert all(r.ok for r in results)
    assert set(ApprovalRequest.objects.values_list("status", flat=True)) == {RequestStatus.REJECTED}


# --- who may decide ---------------------------------------------------------------------------------------

DECIDERS = {
    # (who, acting org) -> may decide an org_info request whose deciding org is gb
    "gb_admin": True,       # admin of the deciding org
    "wc_admin": False,      # direct superior of the deciding org: org_info does not allow it
    "root_admin": False,    # ancestor above
    "branch_admin": False,  # descendant (and the requester)
    "branch2_admin": False,  # descendant
    "sibling_admin": False,  # sibling subtree
    "outsider": False,      # other tree
}


@pytest.mark.parametrize("who,allowed", DECIDERS.items())
def test_decider_permission_matrix(tree, who, allowed):
    req = submit_rename(tree)
    person = getattr(tree, who)
    org = {"gb_admin": tree.gb, "wc_admin": tree.wc, "root_admin": tree.root, "branch_admin": tree.branch,
           "branch2_admin": tree.branch2, "sibling_admin": tree.sibling, "outsider": tree.other_root}[who]
    a = actor(person, org)
    assert may_decide(a, req) is allowed
    if allowed:
        request_approve(request_id=req.pk, actor=a)
        req.refresh_from_db()
        assert req.status == RequestStatus.APPROVED
    else:
        for call in (lambda: request_approve(request_id=req.pk, actor=a),
                     lambda: request_reject(request_id=req.pk, actor=a, reason="否")):
            with pytest.raises(ApprovalError):
                call()
        req.refresh_from_db()
        tree.branch.refresh_from_db()
        assert req.is_pending and tree.branch.short_name == "一班团支部"


@pytest.mark.parametrize("who", ["member", "anonymous"])
def test_members_and_anonymous_may_not_decide(tree, who):
    from django.contrib.auth.models import AnonymousUser

    req = submit_rename(tree)
    a = actor(tree.member.person) if who == "member" else actor(AnonymousUser())
    assert not may_decide(a, req)
    with pytest.raises(ApprovalError):
        request_approve(request_id=req.pk, actor=a)
    req.refresh_from_db()
    assert req.is_pending


def test_direct_superior_may_decide_when_kind_allows(tree):
    from approvals.kinds import KINDS, Kind, field_values, register

    register(Kind(code="test_superior", label="t", model=Org,
                  apply=lambda r, a: None, current_values=lambda o: field_values(o, ["short_name"]),
                  superior_may_decide=True))
    try:
        # Filed by someone else: nobody decides their own request (tests/test_self_decisions.py).
        req = request_submit(kind="test_superior", target=tree.branch, changes={"short_name": ["一班团支部", "x"]},
                             actor=actor(tree.member.person, None), deciding_org=tree.branch)
        assert may_decide(actor(tree.branch_admin, tree.branch), req)
        assert may_decide(actor(tree.gb_admin, tree.gb), req)  # direct superior
        assert not may_decide(actor(tree.wc_admin, tree.wc), req)  # above the direct superior
        assert not may_decide(actor(tree.branch2_admin, tree.branch2), req)
    finally:
        KINDS.pop("test_superior")



# --- two admins at once -----------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_admins_deciding_at_once_exactly_one_wins(org_types, tree):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    req = submit_rename(tree)
    # Two sessions acting for the deciding org (the same admin in two browsers, or two people in turn).
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(approve: bool) -> None:
        try:
            barrier.wait()
            if approve:
                request_approve(request_id=req.pk, actor=actor(tree.gb_admin, tree.gb))
            else:
                request_reject(request_id=req.pk, actor=actor(tree.gb_admin, tree.gb), reason="否")
            outcomes.append("ok")
        except ApprovalError as exc:
            outcomes.append(f"refused: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(flag,)) for flag in (True, False)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o == "ok" for o in outcomes) == [False, True]
    refused = next(o for o in outcomes if o != "ok")
    assert tree.gb_admin.name in refused
    req.refresh_from_db()
    tree.branch.refresh_from_db()
    assert req.status in (RequestStatus.APPROVED, RequestStatus.REJECTED)
    assert (tree.branch.short_name == "新名称") == (req.status == RequestStatus.APPROVED)
    assert AuditEntry.objects.filter(action__startswith="request.", action__contains="ed.org_info").exclude(
        action__startswith="request.submitted").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_submissions_at_once_leave_one_pending_request(org_types, tree):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def submit(new: str) -> None:
        try:
            barrier.wait()
            request_submit(kind="org_info", target=tree.branch, changes={"short_name": ["一班团支部", new]},
                           actor=actor(tree.branch_admin, tree.branch), deciding_org=tree.gb)
            outcomes.append("ok")
        except ApprovalError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(name,)) for name in ("甲", "乙")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert ApprovalRequest.objects.filter(status=RequestStatus.PENDING).count() == 1


# --- hooks other apps' kinds rely on (transfers) ---------------------------------------------------------


@pytest.fixture
def hook_kind():
    """A kind decided by a branch or its direct superior, recording its on_close calls."""
    from approvals.kinds import KINDS, Kind, field_values, register

    closed: list[tuple[int, str, object]] = []
    kind = Kind(
        code="test_hooks", label="t", model=Org, apply=lambda r, a: None,
        current_values=lambda o: field_values(o, ["short_name"]), superior_may_decide=True,
        may_withdraw=lambda r, a: getattr(a.org, "pk", None) == r.deciding_org_id,
        on_close=lambda r, a: closed.append((r.pk, r.status, a)),
    )
    register(kind)
    yield closed
    KINDS.pop("test_hooks")


def submit_hook(tree, org):
    return request_submit(kind="test_hooks", target=org, changes={"short_name": [org.short_name, "x"]},
                          actor=actor(tree.branch_admin, tree.branch), deciding_org=org)


def test_on_close_runs_for_reject_withdraw_and_expire_but_not_approve(tree, hook_kind, settings):
    a = submit_hook(tree, tree.branch)
    b = submit_hook(tree, tree.branch2)
    c = submit_hook(tree, tree.gb)
    d = submit_hook(tree, tree.sibling)
    # branch's admin filed them all, so the direct superior (the kind allows it) approves branch's own.
    request_approve(request_id=a.pk, actor=actor(tree.gb_admin, tree.gb))
    request_reject(request_id=b.pk, actor=actor(tree.branch2_admin, tree.branch2), reason="否")
    request_withdraw(request_id=c.pk, actor=actor(tree.branch_admin, tree.branch))
    ApprovalRequest.objects.filter(pk=d.pk).update(created_at=timezone.now() - dt.timedelta(days=400))
    requests_expire()
    # on_close sees the closing status (so it can tell rejected from withdrawn from expired).
    assert [(pk, status) for pk, status, _a in hook_kind] == [
        (b.pk, RequestStatus.REJECTED), (c.pk, RequestStatus.WITHDRAWN), (d.pk, RequestStatus.EXPIRED)
    ]
    assert hook_kind[-1][2] is None  # expiry has no actor


def test_kind_may_let_the_other_side_withdraw(tree, hook_kind):
    req = submit_hook(tree, tree.branch2)  # filed by branch's admin, decided by branch2
    done = request_withdraw(request_id=req.pk, actor=actor(tree.branch2_admin, tree.branch2))
    assert done.status == RequestStatus.WITHDRAWN
    other = submit_hook(tree, tree.branch2)
    with pytest.raises(ApprovalError):
        request_withdraw(request_id=other.pk, actor=actor(tree.sibling_admin, tree.sibling))


def test_inbox_of_direct_superior_lists_childrens_requests_for_kinds_that_allow_it(tree, hook_kind):
    from approvals.selectors import inbox_count, inbox_requests

    req = submit_hook(tree, tree.branch)
    rename = request_submit(kind="org_info", target=tree.branch2, changes={"short_name": ["二班团支部", "y"]},
                            actor=actor(tree.gb_admin, tree.gb), deciding_org=tree.branch2)
    gb = actor(tree.gb_admin, tree.gb)
    # test_hooks allows the direct superior (gb); org_info decided by branch2 does not.
    assert list(inbox_requests(gb)) == [req] and inbox_count(gb) == 1
    assert list(inbox_requests(actor(tree.branch_admin, tree.branch))) == [req]
    assert list(inbox_requests(actor(tree.branch2_admin, tree.branch2))) == [rename]
    assert inbox_count(actor(tree.wc_admin, tree.wc)) == 0  # above the direct superior
    assert inbox_count(actor(tree.branch2_admin, tree.branch2)) == 1


def test_apply_breaking_a_database_constraint_is_a_clear_refusal(tree):
    from approvals.kinds import KINDS, Kind, field_values, register

    def apply(request, actor):
        Org.objects.filter(pk=request.target.pk).update(code="B0002")  # another org's code: unique

    register(Kind(code="test_integrity", label="t", model=Org, apply=apply,
                  current_values=lambda o: field_values(o, ["short_name"])))
    try:
        req = request_submit(kind="test_integrity", target=tree.branch, changes={"short_name": ["一班团支部", "x"]},
                             actor=actor(tree.branch_admin, tree.branch), deciding_org=tree.gb)
        with pytest.raises(ApprovalError):
            request_approve(request_id=req.pk, actor=actor(tree.gb_admin, tree.gb))
        req.refresh_from_db()
        assert req.is_pending and Org.objects.get(pk=tree.branch.pk).code == "B0001"
    finally:
        KINDS.pop("test_integrity")
