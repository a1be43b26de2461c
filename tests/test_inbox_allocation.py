"""§4(1): after approving a transfer to a committee, the allocation (分配团支部) waits in the approver's inbox
as a task with a link, counts in the nav badge, and is a message."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from approvals.context_processors import inbox
from approvals.selectors import inbox_count
from notifications.models import Message
from orgs.permissions import Actor
from transfers import services

from . import factories as f
from .conftest import login_as


def act(person, org):
    return Actor(person=person, org=org, ip="10.0.0.1")


def approved_to_wc(tree):
    transfer = services.transfer_out_submit(
        actor=act(tree.branch_admin, tree.branch), member_id=tree.member.pk, target_org_id=tree.wc.pk,
        reason="工作调动",
    )
    services.transfer_approve(transfer_id=transfer.pk, actor=act(tree.wc_admin, tree.wc))
    return transfer


@pytest.mark.django_db
def test_waiting_allocation_counts_in_the_badge_of_the_approving_org_only(tree):
    approved_to_wc(tree)
    assert inbox_count(act(tree.wc_admin, tree.wc)) == 1
    assert inbox_count(act(tree.root_admin, tree.root)) == 0
    assert inbox_count(act(tree.branch_admin, tree.branch)) == 0
    assert inbox_count(act(tree.outsider, tree.other_root)) == 0


@pytest.mark.django_db
def test_badge_counts_requests_and_allocations_in_one_query(rf, tree):
    approved_to_wc(tree)
    services.transfer_out_submit(  # a second member's transfer, pending at the work committee
        actor=act(tree.sibling_admin, tree.sibling),
        member_id=f.make_member(tree.sibling).pk,
        target_org_id=tree.wc.pk, reason="升学",
    )
    request = rf.get("/")
    request.actor = act(tree.wc_admin, tree.wc)
    with CaptureQueriesContext(connection) as ctx:
        count = inbox(request)["inbox_count"]
        assert count() == 2
        assert count() == 2
    assert len(ctx.captured_queries) == 1


@pytest.mark.django_db
def test_inbox_lists_the_allocation_task_with_a_link_to_allocate(client, tree):
    transfer = approved_to_wc(tree)
    login_as(client, tree.wc_admin, tree.wc)
    response = client.get(reverse("inbox"))
    page = response.content.decode()
    assert 'data-testid="inbox-task"' in page and 'data-testid="inbox-empty"' not in page
    assert reverse("transfer_detail", args=[transfer.pk]) in page
    assert str(tree.member.person) in page
    assert 'data-testid="inbox-count">1<' in page


@pytest.mark.django_db
def test_allocation_task_leaves_the_inbox_once_allocated(client, tree):
    transfer = approved_to_wc(tree)
    services.transfer_allocate(transfer_id=transfer.pk, actor=act(tree.wc_admin, tree.wc), branch_id=tree.sibling.pk)
    assert inbox_count(act(tree.wc_admin, tree.wc)) == 0
    login_as(client, tree.wc_admin, tree.wc)
    page = client.get(reverse("inbox")).content.decode()
    assert 'data-testid="inbox-task"' not in page and 'data-testid="inbox-empty"' in page


@pytest.mark.django_db
def test_other_orgs_do_not_see_the_allocation_task(client, tree):
    approved_to_wc(tree)
    login_as(client, tree.root_admin, tree.root)
    page = client.get(reverse("inbox")).content.decode()
    assert 'data-testid="inbox-task"' not in page


@pytest.mark.django_db
def test_decided_tab_shows_no_tasks(client, tree):
    approved_to_wc(tree)
    login_as(client, tree.wc_admin, tree.wc)
    page = client.get(reverse("inbox") + "?tab=decided").content.decode()
    assert 'data-testid="inbox-task"' not in page


@pytest.mark.django_db
def test_approval_to_a_committee_also_sends_the_allocation_message(tree):
    transfer = approved_to_wc(tree)
    (m,) = Message.objects.filter(kind="allocation_waiting")
    assert m.org == tree.wc and m.link == reverse("transfer_detail", args=[transfer.pk])
