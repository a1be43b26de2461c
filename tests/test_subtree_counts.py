"""Subtree member counts are kept by the database in the transaction of each change, and always equal a
direct COUNT: after an add, a status change, a transfer, an import, a bulk update, an org move and deletes."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from members import services as members
from members.models import Member
from members.rules import MemberInput
from orgs import services as orgs
from orgs.counts import count_problems
from orgs.models import Org, SubtreeCount
from orgs.permissions import Actor
from orgs.selectors import with_member_counts
from transfers import services as transfers

from . import factories as f
from .concurrency import run_together
from .import_helpers import member_row, run_import, xlsx


def direct_counts() -> dict[int, int]:
    return {
        org.pk: Member.objects.filter(status="active", branch__tree_id=org.tree_id, branch__lft__gte=org.lft,
                                      branch__rght__lte=org.rght).count()
        for org in Org.objects.all()
    }


def kept_counts() -> dict[int, int]:
    return dict(with_member_counts(Org.objects.all()).values_list("pk", "member_count"))


def assert_counts_current() -> None:
    assert kept_counts() == direct_counts()
    assert count_problems() == []


def data(name: str = "计数", **over) -> MemberInput:
    values = dict(name=name, id_number=f.next_id_number(birth=dt.date(2000, 3, 1)), ethnicity="汉族",
                  political_status="共青团员", joined_on=dt.date(2016, 5, 1), development_number=None,
                  phone="13912345678", email="", education="", occupation="")
    values.update(over)
    return MemberInput(**values)


def test_every_new_org_starts_with_a_count_of_zero(tree):
    org = f.make_org("branch", parent=tree.gb)
    assert SubtreeCount.objects.get(org=org).active_members == 0
    assert SubtreeCount.objects.count() == Org.objects.count()


def test_adding_a_member_counts_in_the_branch_and_every_ancestor(tree):
    members.member_add(actor=Actor(person=tree.branch_admin, org=tree.branch), branch=tree.branch, data=data())
    counts = kept_counts()
    assert counts[tree.branch.pk] == 2 and counts[tree.gb.pk] == 2 and counts[tree.root.pk] == 2
    assert counts[tree.sibling.pk] == 0 and counts[tree.other_root.pk] == 0
    assert_counts_current()


def test_a_status_change_leaves_and_rejoins_the_counts(tree):
    actor = Actor(person=tree.branch_admin, org=tree.branch)
    members.member_set_status(actor=actor, member=tree.member, status="left", reason="离团", confirmed=True)
    assert kept_counts()[tree.root.pk] == 0
    assert_counts_current()
    Member.objects.filter(pk=tree.member.pk).update(status="active")
    assert kept_counts()[tree.root.pk] == 1
    assert_counts_current()


def test_a_completed_transfer_moves_the_count_between_branches(tree):
    transfer = transfers.transfer_out_submit(actor=Actor(person=tree.branch_admin, org=tree.branch),
                                             member_id=tree.member.pk, target_org_id=tree.sibling.pk, reason="就业")
    assert kept_counts()[tree.branch.pk] == 1  # nothing moves before the decision
    transfers.transfer_approve(transfer_id=transfer.pk, actor=Actor(person=tree.sibling_admin, org=tree.sibling))
    counts = kept_counts()
    assert counts[tree.branch.pk] == 0 and counts[tree.gb.pk] == 0
    assert counts[tree.sibling.pk] == 1 and counts[tree.wc.pk] == 1 and counts[tree.root.pk] == 1
    assert_counts_current()


def test_an_import_counts_every_imported_member(tree):
    job, _ = run_import(tree.branch2, xlsx([member_row(f"导入{i}") for i in range(5)]))
    assert job.rows_imported == 5, job.failures
    counts = kept_counts()
    assert counts[tree.branch2.pk] == 5 and counts[tree.gb.pk] == 6 and counts[tree.root.pk] == 6
    assert_counts_current()


def test_a_bulk_update_over_several_branches_is_counted_once_per_branch(tree):
    for branch in (tree.branch, tree.branch2, tree.sibling):
        for _ in range(3):
            f.make_member(branch)
    assert kept_counts()[tree.root.pk] == 10
    Member.objects.filter(branch__in=[tree.branch, tree.sibling]).update(status="left")
    assert kept_counts()[tree.root.pk] == 3
    assert_counts_current()


def test_moving_an_org_moves_its_subtree_count_to_the_new_ancestors(tree):
    f.make_member(tree.branch2)
    new_wc = f.make_org("work_committee", parent=tree.root, short_name="新团工委")
    orgs.org_move(actor=Actor(person=tree.root_admin, org=tree.root), org=tree.gb, new_parent=new_wc)
    counts = kept_counts()
    assert counts[new_wc.pk] == 2 and counts[tree.wc.pk] == 0 and counts[tree.root.pk] == 2
    assert_counts_current()


def test_moving_a_branch_between_trees_of_one_root_keeps_every_count(tree):
    f.make_member(tree.sibling)
    orgs.org_move(actor=Actor(person=tree.wc_admin, org=tree.wc), org=tree.sibling, new_parent=tree.gb)
    counts = kept_counts()
    assert counts[tree.gb.pk] == 2 and counts[tree.wc.pk] == 2
    assert_counts_current()


def test_deleting_members_and_orgs_keeps_the_counts(tree):
    Member.objects.filter(pk=tree.member.pk).delete()
    assert kept_counts()[tree.root.pk] == 0
    orgs.org_delete(actor=Actor(person=tree.wc_admin, org=tree.wc), org=tree.sibling)
    assert not SubtreeCount.objects.filter(org_id=tree.sibling.pk).exists()
    assert_counts_current()


def test_a_refused_change_leaves_the_counts_as_they_were(tree):
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017, PT011 - any database refusal
        Member.objects.create(person=f.make_person(), branch=tree.gb, joined_on=dt.date(2020, 1, 1))
    assert kept_counts()[tree.gb.pk] == 1
    assert_counts_current()


def test_check_org_tree_finds_a_wrong_count_and_fix_recounts(tree):
    SubtreeCount.objects.filter(org=tree.root).update(active_members=7)
    with pytest.raises(CommandError, match="member counts"):
        call_command("check_org_tree", stdout=StringIO())
    out = StringIO()
    call_command("check_org_tree", "--fix", stdout=out)
    assert "FIXED" in out.getvalue()
    assert_counts_current()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_members_added_at_once_in_different_branches_are_all_counted(tree):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks and concurrent transactions")
    calls = [
        (lambda b=b, a=a, i=i: members.member_add(
            actor=Actor(person=a, org=b), branch=b,
            data=data(joined_on=dt.date(2020, 5, 1), development_number=f"20200599{i:04d}")))
        for i, (b, a) in enumerate([(tree.branch, tree.branch_admin), (tree.branch2, tree.branch2_admin),
                                    (tree.sibling, tree.sibling_admin), (tree.branch, tree.branch_admin)])
    ]
    results = run_together(*calls)
    assert all(isinstance(r, Member) for r in results), results
    assert kept_counts()[tree.root.pk] == 5
    assert_counts_current()
