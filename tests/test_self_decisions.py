"""Nobody decides their own request: through the real pages (transfer page, request page, inbox, bulk), the
requester who is also an eligible decider is refused and the request waits for another decider."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from approvals import services as approvals
from approvals.kinds import ApprovalError
from approvals.models import ApprovalRequest
from audit.models import AuditEntry
from members.models import Member
from orgs.permissions import Actor
from transfers.models import Status, Transfer

from . import factories as f
from .conftest import login_as


@pytest.fixture(autouse=True)
def _english(english):
    yield


def _client(person, org=None) -> Client:
    return login_as(Client(), person, org)


def _gb_transfers_out_to_branch2(tree) -> Transfer:
    """The issue's case: the general branch's admin sends a member of `branch` to its other branch, where it
    is an eligible decider as the target's direct superior."""
    client = _client(tree.gb_admin, tree.gb)
    response = client.post(reverse("transfer_out"), {
        "member": tree.member.pk, "target_org": tree.branch2.pk, "reason": "就业", "reason_text": "",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    transfer = Transfer.objects.get()
    assert transfer.request.deciding_org_id == tree.branch2.pk
    return transfer


def _assert_not_moved(tree, transfer) -> None:
    transfer.refresh_from_db()
    assert transfer.status == Status.PENDING
    assert transfer.request.status == "pending" and transfer.request.decided_by_id is None
    assert Member.objects.get(pk=tree.member.pk).branch_id == tree.branch.pk
    assert not AuditEntry.objects.filter(action__in=["transfer.approve", "request.approved.transfer"]).exists()


def test_superior_who_submitted_a_transfer_cannot_approve_it_on_the_transfer_page(tree):
    transfer = _gb_transfers_out_to_branch2(tree)
    client = _client(tree.gb_admin, tree.gb)
    page = client.get(reverse("transfer_detail", args=[transfer.pk])).content.decode()
    assert 'data-testid="approve"' not in page and 'data-testid="reject"' not in page
    assert 'data-testid="own-request"' in page
    response = client.post(reverse("transfer_approve", args=[transfer.pk]), {"note": ""})
    assert response.status_code == 403
    response = client.post(reverse("transfer_reject", args=[transfer.pk]), {"reason": "不同意"})
    assert response.status_code == 403
    _assert_not_moved(tree, transfer)


def test_superior_who_submitted_a_transfer_cannot_approve_it_on_the_request_page(tree):
    transfer = _gb_transfers_out_to_branch2(tree)
    client = _client(tree.gb_admin, tree.gb)
    page = client.get(reverse("request_detail", args=[transfer.request_id])).content.decode()
    assert 'data-testid="approve"' not in page and 'data-testid="own-request"' in page
    response = client.post(reverse("request_decide", args=[transfer.request_id]), {"decision": "approve"})
    assert response.status_code == 403
    _assert_not_moved(tree, transfer)


def test_superior_who_submitted_a_transfer_cannot_approve_it_in_bulk(tree):
    transfer = _gb_transfers_out_to_branch2(tree)
    client = _client(tree.gb_admin, tree.gb)
    response = client.post(reverse("inbox"), {"requests": [transfer.request_id], "decision": "approve"},
                           follow=True)
    assert "You cannot decide a request you made yourself" in response.content.decode()
    _assert_not_moved(tree, transfer)
    client.post(reverse("inbox"), {"requests": [transfer.request_id], "decision": "reject", "reason": "撤销"})
    _assert_not_moved(tree, transfer)


def test_inbox_says_the_requesters_own_request_waits_for_another_decider(tree):
    transfer = _gb_transfers_out_to_branch2(tree)
    page = _client(tree.gb_admin, tree.gb).get(reverse("inbox")).content.decode()
    row = page[page.index(f'data-request="{transfer.request_id}"'):]
    row = row[:row.index("</tr>")]
    assert 'data-testid="own-request"' in row
    assert "waits for another admin" in row and tree.branch2.short_name in row
    assert 'name="requests"' not in row  # no checkbox: the bulk 通过/驳回 do not apply to it


def test_own_requests_do_not_count_in_the_header_badge(tree):
    _gb_transfers_out_to_branch2(tree)
    from approvals.selectors import inbox_count

    assert inbox_count(Actor(person=tree.gb_admin, org=tree.gb)) == 0
    assert inbox_count(Actor(person=tree.branch2_admin, org=tree.branch2)) == 1


def test_the_receiving_branchs_own_admin_decides_the_superiors_transfer(tree):
    transfer = _gb_transfers_out_to_branch2(tree)
    client = _client(tree.branch2_admin, tree.branch2)
    page = client.get(reverse("transfer_detail", args=[transfer.pk])).content.decode()
    assert 'data-testid="approve"' in page
    response = client.post(reverse("transfer_approve", args=[transfer.pk]), {"note": ""})
    assert response.status_code == 302
    transfer.refresh_from_db()
    assert transfer.status == Status.COMPLETED and transfer.decided_by_id == tree.branch2_admin.pk
    assert Member.objects.get(pk=tree.member.pk).branch_id == tree.branch2.pk


def test_the_same_person_is_refused_whichever_org_they_act_for(tree):
    # gb's admin also administers branch2: acting for branch2 they are still the requester.
    f.make_admin(tree.branch2, person=tree.gb_admin)
    transfer = _gb_transfers_out_to_branch2(tree)
    with pytest.raises(ApprovalError, match="made yourself"):
        approvals.request_approve(request_id=transfer.request_id, actor=Actor(person=tree.gb_admin, org=tree.branch2))
    _assert_not_moved(tree, transfer)


def _branch_admin_asks_to_change_own_record(tree) -> ApprovalRequest:
    """The issue's second case: the branch's admin is a member of it and files a personal-info request."""
    me = f.make_member(tree.branch, person=tree.branch_admin)
    client = _client(tree.branch_admin, tree.branch)
    form = client.get(reverse("my_record_edit")).context["form"]
    data = {name: (value if value is not None else "") for name, value in form.initial.items()}
    data["phone"] = "13611112222"
    data["joined_on"] = f"{me.joined_on:%Y-%m}"
    response = client.post(reverse("my_record_edit"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    request = ApprovalRequest.objects.get(kind="personal_info")
    assert request.deciding_org_id == tree.branch.pk and request.requested_by_id == tree.branch_admin.pk
    return request


def _assert_record_unchanged(tree, request) -> None:
    request.refresh_from_db()
    tree.branch_admin.refresh_from_db()
    assert request.status == "pending" and tree.branch_admin.phone != "13611112222"


def test_branch_admin_cannot_approve_their_own_personal_info_request(tree):
    request = _branch_admin_asks_to_change_own_record(tree)
    client = _client(tree.branch_admin, tree.branch)
    page = client.get(reverse("request_detail", args=[request.pk])).content.decode()
    assert 'data-testid="approve"' not in page and 'data-testid="own-request"' in page
    assert client.post(reverse("request_decide", args=[request.pk]), {"decision": "approve"}).status_code == 403
    _assert_record_unchanged(tree, request)
    response = client.post(reverse("inbox"), {"requests": [request.pk], "decision": "approve"}, follow=True)
    assert "You cannot decide a request you made yourself" in response.content.decode()
    _assert_record_unchanged(tree, request)


def test_branch_admins_own_personal_info_request_is_decided_by_the_direct_superior(tree):
    request = _branch_admin_asks_to_change_own_record(tree)
    client = _client(tree.gb_admin, tree.gb)
    response = client.post(reverse("inbox"), {"requests": [request.pk], "decision": "approve"})
    assert response.status_code == 302
    request.refresh_from_db()
    tree.branch_admin.refresh_from_db()
    assert request.status == "approved" and tree.branch_admin.phone == "13611112222"


def test_bulk_decision_refuses_only_the_own_request(tree):
    own = _branch_admin_asks_to_change_own_record(tree)
    other_member = f.make_member(tree.branch)
    other = approvals.request_submit(
        kind="personal_info", target=other_member, changes={"occupation": [other_member.occupation, "工人"]},
        actor=Actor(person=other_member.person), deciding_org=tree.branch,
    )
    client = _client(tree.branch_admin, tree.branch)
    response = client.post(reverse("inbox"), {"requests": [own.pk, other.pk], "decision": "approve"}, follow=True)
    text = response.content.decode()
    assert "Approved 1 request(s)." in text and f"Request #{own.pk}" in text
    own.refresh_from_db()
    other.refresh_from_db()
    assert own.status == "pending" and other.status == "approved"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_requester_refused_while_the_other_decider_approves_at_the_same_moment(org_types):
    """Two threads at once on one request: the requester (an eligible decider by role) is refused, the
    receiving branch's admin approves, the member moves once."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter")
    root = f.make_org("committee", code="RS001")
    gb = f.make_org("general_branch", parent=root, code="GS001")
    a = f.make_org("branch", parent=gb, code="BS001")
    b = f.make_org("branch", parent=gb, code="BS002")
    gb_admin, b_admin = f.make_admin(gb), f.make_admin(b)
    member = f.make_member(a)
    from transfers import services as transfers

    transfer = transfers.transfer_out_submit(
        actor=Actor(person=gb_admin, org=gb), member_id=member.pk, target_org_id=b.pk, reason="就业",
    )
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def decide(name, actor):
        try:
            barrier.wait()
            approvals.request_approve(request_id=transfer.request_id, actor=actor)
            outcomes[name] = "ok"
        except ApprovalError as exc:
            outcomes[name] = str(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=("requester", Actor(person=gb_admin, org=gb))),
               threading.Thread(target=decide, args=("receiver", Actor(person=b_admin, org=b)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes["receiver"] == "ok"
    assert outcomes["requester"] != "ok"
    assert Member.objects.get(pk=member.pk).branch_id == b.pk
    request = ApprovalRequest.objects.get(pk=transfer.request_id)
    assert request.decided_by_id == b_admin.pk and request.decided_at <= timezone.now()
