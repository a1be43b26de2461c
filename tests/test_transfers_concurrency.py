"""Transfers under concurrency (PostgreSQL, two threads): exactly one consistent outcome every time."""


import pytest
from django.db import connection

from approvals.kinds import ApprovalError
from audit.models import AuditEntry
from members.models import Member
from orgs.permissions import Actor
from transfers import services
from transfers.models import Status, Transfer

from . import factories as f
from .concurrency import run_together as race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    # A transactional test's flush empties the table the data migration filled; put the rows back.
    import importlib

    from orgs.models import OrgType

    for code, name, category, order in importlib.import_module("orgs.migrations.0002_org_types").TYPES:
        OrgType.objects.get_or_create(code=code, defaults={"name": name, "category": category, "sort_order": order})


def act(person, org) -> Actor:
    return Actor(person=person, org=org)


def out(tree, member, target):
    return services.transfer_out_submit(actor=act(tree.branch_admin, tree.branch), member_id=member.pk,
                                        target_org_id=target.pk, reason="就业")


@pytest.mark.parametrize("attempt", range(3))
def test_two_approvals_at_once_one_wins(tree, attempt):
    transfer = out(tree, tree.member, tree.sibling)
    results = race(
        lambda: services.transfer_approve(transfer_id=transfer.pk, actor=act(tree.sibling_admin, tree.sibling)),
        lambda: services.transfer_approve(transfer_id=transfer.pk, actor=act(tree.wc_admin, tree.wc)),
    )
    wins = [r for r in results if isinstance(r, Transfer)]
    losses = [r for r in results if isinstance(r, ApprovalError)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert "already been" in str(losses[0])
    assert Member.objects.get(pk=tree.member.pk).branch_id == tree.sibling.pk
    assert Transfer.objects.get(pk=transfer.pk).status == Status.COMPLETED
    # One approval only (one entry in each side's trail).
    assert AuditEntry.objects.filter(action="transfer.approve", target_id=str(transfer.pk),
                                     org=tree.branch).count() == 1


@pytest.mark.parametrize("attempt", range(3))
def test_transfer_out_racing_transfer_in_one_wins(tree, attempt):
    member = f.make_member(tree.branch)
    person = member.person
    results = race(
        lambda: out(tree, member, tree.sibling),
        lambda: services.transfer_in_submit(
            actor=act(tree.branch2_admin, tree.branch2), target_branch=tree.branch2, name=person.name,
            id_number=person.id_number, reason="升学",
        ),
    )
    wins = [r for r in results if isinstance(r, Transfer)]
    losses = [r for r in results if isinstance(r, ApprovalError)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert "in progress" in str(losses[0])
    assert Transfer.objects.filter(member=member).count() == 1
    assert Transfer.objects.open().filter(member=member).count() == 1
    assert Member.objects.get(pk=member.pk).branch_id == tree.branch.pk


def test_approval_racing_withdrawal_one_wins(tree):
    transfer = out(tree, tree.member, tree.sibling)
    results = race(
        lambda: services.transfer_approve(transfer_id=transfer.pk, actor=act(tree.sibling_admin, tree.sibling)),
        lambda: services.transfer_withdraw(transfer_id=transfer.pk, actor=act(tree.branch_admin, tree.branch)),
    )
    assert sum(isinstance(r, Transfer) for r in results) == 1, results
    final = Transfer.objects.get(pk=transfer.pk)
    branch = Member.objects.get(pk=tree.member.pk).branch_id
    assert (final.status, branch) in {(Status.COMPLETED, tree.sibling.pk), (Status.WITHDRAWN, tree.branch.pk)}


def test_two_allocations_at_once_one_wins(tree):
    transfer = out(tree, tree.member, tree.wc)
    wc = act(tree.wc_admin, tree.wc)
    services.transfer_approve(transfer_id=transfer.pk, actor=wc)
    results = race(
        lambda: services.transfer_allocate(transfer_id=transfer.pk, actor=wc, branch_id=tree.sibling.pk),
        lambda: services.transfer_allocate(transfer_id=transfer.pk, actor=wc, branch_id=tree.branch2.pk),
    )
    wins = [r for r in results if isinstance(r, Transfer)]
    assert len(wins) == 1, results
    final = Transfer.objects.get(pk=transfer.pk)
    assert final.status == Status.COMPLETED
    assert Member.objects.get(pk=tree.member.pk).branch_id == final.allocated_branch_id == wins[0].allocated_branch_id


@pytest.mark.parametrize("attempt", range(2))
def test_allocation_racing_its_expiry_one_outcome(tree, attempt, settings):
    import datetime as dt

    from django.utils import timezone

    settings.ZHTJ_REQUEST_EXPIRY_DAYS = 30
    transfer = out(tree, tree.member, tree.wc)
    wc = act(tree.wc_admin, tree.wc)
    services.transfer_approve(transfer_id=transfer.pk, actor=wc)
    later = timezone.now() + dt.timedelta(days=31)
    results = race(
        lambda: services.transfer_allocate(transfer_id=transfer.pk, actor=wc, branch_id=tree.sibling.pk),
        lambda: services.transfers_expire_allocations(now=later),
    )
    allocated, expired = results
    final = Transfer.objects.get(pk=transfer.pk)
    branch = Member.objects.get(pk=tree.member.pk).branch_id
    # Either the allocation won (the expiry found nothing to do) or the expiry won (the allocation was
    # refused): never an expired transfer with a moved member.
    if isinstance(allocated, Transfer):
        assert expired == 0 and (final.status, branch) == (Status.COMPLETED, tree.sibling.pk)
    else:
        assert isinstance(allocated, services.TransferError), results
        assert expired == 1 and (final.status, branch) == (Status.EXPIRED, tree.branch.pk)
