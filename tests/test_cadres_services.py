"""Cadre posts: who manages them, one secretary per org, branch cadres are members, higher cadres need not be."""

import datetime as dt

import pytest
from django.utils import translation

from audit.models import AuditEntry
from members import services
from members.models import Cadre, Member, Person
from members.rules import MemberInput
from members.services import MemberError
from orgs.permissions import Actor

from . import factories as f


@pytest.fixture(autouse=True)
def _english():
    # Messages are asserted in their English source form, whatever the compiled catalog holds.
    with translation.override("en"):
        yield


SINCE = dt.date(2023, 9, 1)


def person_input(**overrides) -> MemberInput:
    values = dict(
        name="钱八", id_number=f.next_id_number(birth=dt.date(2004, 2, 2)), ethnicity="汉族",
        political_status="共青团员", joined_on=dt.date(2018, 5, 1), development_number="201805000777",
        phone="13812345678", email="", education="", occupation="",
    )
    values.update(overrides)
    return MemberInput(**values)


def test_admin_adds_cadre_of_own_org_who_need_not_be_member(tree):
    actor = Actor(person=tree.wc_admin, org=tree.wc)
    cadre = services.cadre_add(actor=actor, org=tree.wc, position="副书记", since=SINCE, nature="专职",
                               person_data=person_input(joined_on=None, development_number=None))
    assert cadre.org_id == tree.wc.pk and cadre.person.name == "钱八"
    assert not Member.objects.filter(person=cadre.person).exists()
    assert cadre.person.needs_password
    assert AuditEntry.objects.filter(action="cadre.add", org=tree.wc).exists()


def test_direct_superior_admin_manages_cadres_of_direct_child(tree):
    actor = Actor(person=tree.root_admin, org=tree.root)
    cadre = services.cadre_add(actor=actor, org=tree.wc, position="组织委员", since=SINCE, nature="兼职",
                               person_data=person_input())
    assert cadre.org_id == tree.wc.pk


@pytest.mark.parametrize("who", ["root", "branch", "sibling", "outsider"])
def test_others_cannot_manage_cadres_of_gb(tree, who):
    acting = {"root": (tree.root_admin, tree.root), "branch": (tree.branch_admin, tree.branch),
              "sibling": (tree.sibling_admin, tree.sibling), "outsider": (tree.outsider, tree.other_root)}[who]
    data = person_input()
    with pytest.raises(MemberError, match="admin"):
        services.cadre_add(actor=Actor(*acting), org=tree.gb, position="委员", since=SINCE, nature="兼职",
                           person_data=data)
    assert not Person.objects.filter(id_number=data.id_number).exists()


def test_one_secretary_per_org_with_clear_message(tree):
    actor = Actor(person=tree.gb_admin, org=tree.gb)
    services.cadre_add(actor=actor, org=tree.gb, position="书记", since=SINCE, nature="兼职",
                       person_data=person_input(name="甲"))
    with pytest.raises(MemberError) as exc:
        services.cadre_add(actor=actor, org=tree.gb, position="书记", since=SINCE, nature="兼职",
                           person_data=person_input(name="乙"))
    assert "甲" in exc.value.errors["position"] and "one secretary" in exc.value.errors["position"]
    assert Cadre.objects.filter(org=tree.gb, position="书记").count() == 1


def test_branch_cadre_who_is_not_a_member_becomes_member_with_the_rules(tree):
    actor = Actor(person=tree.branch_admin, org=tree.branch)
    cadre = services.cadre_add(actor=actor, org=tree.branch, position="书记", since=SINCE, nature="兼职",
                               person_data=person_input())
    member = Member.objects.get(person=cadre.person)
    assert member.branch_id == tree.branch.pk and member.development_number == "201805000777"


def test_branch_cadre_membership_rules_are_enforced(tree):
    actor = Actor(person=tree.branch_admin, org=tree.branch)
    data = person_input(development_number=None)
    with pytest.raises(MemberError) as exc:
        services.cadre_add(actor=actor, org=tree.branch, position="组织委员", since=SINCE, nature="兼职",
                           person_data=data)
    assert "development_number" in exc.value.errors
    assert not Person.objects.filter(id_number=data.id_number).exists()
    assert not Cadre.objects.filter(org=tree.branch).exists()


def test_over_age_branch_cadre_may_be_member(tree):
    actor = Actor(person=tree.branch_admin, org=tree.branch)
    data = person_input(id_number=f.next_id_number(birth=dt.date(1992, 1, 1)), joined_on=dt.date(2006, 5, 1),
                        development_number=None)
    cadre = services.cadre_add(actor=actor, org=tree.branch, position="书记", since=SINCE, nature="专职",
                               person_data=data)
    assert Member.objects.filter(person=cadre.person, branch=tree.branch, status="active").exists()


def test_existing_member_of_the_branch_becomes_cadre_without_a_new_record(tree):
    actor = Actor(person=tree.branch_admin, org=tree.branch)
    person = tree.member.person
    cadre = services.cadre_add(actor=actor, org=tree.branch, position="宣传委员", since=SINCE, nature="兼职",
                               person_data=person_input(name=person.name, id_number=person.id_number))
    assert cadre.person_id == person.pk
    assert Member.objects.filter(person=person).count() == 1


def test_member_of_another_branch_cannot_be_branch_cadre(tree):
    other = f.make_member(tree.branch2)
    actor = Actor(person=tree.branch_admin, org=tree.branch)
    with pytest.raises(MemberError, match="transfer"):
        services.cadre_add(actor=actor, org=tree.branch, position="委员", since=SINCE, nature="兼职",
                           person_data=person_input(name=other.person.name, id_number=other.person.id_number))
    assert not Cadre.objects.filter(org=tree.branch).exists()


def test_cadre_id_number_with_another_name_is_refused(tree):
    person = f.make_member(tree.branch, person=f.make_person(name="孙九")).person  # in the wc's subtree
    actor = Actor(person=tree.wc_admin, org=tree.wc)
    with pytest.raises(MemberError) as exc:
        services.cadre_add(actor=actor, org=tree.wc, position="委员", since=SINCE, nature="兼职",
                           person_data=person_input(name="孙十", id_number=person.id_number))
    assert "孙九" in exc.value.errors["name"]
    assert not Cadre.objects.filter(person=person).exists()


def test_cadre_name_on_record_outside_the_subtree_is_not_told(tree):
    person = f.make_member(tree.sibling, person=f.make_person(name="孙九")).person  # not under gb
    actor = Actor(person=tree.gb_admin, org=tree.gb)
    with pytest.raises(MemberError) as exc:
        services.cadre_add(actor=actor, org=tree.gb, position="委员", since=SINCE, nature="兼职",
                           person_data=person_input(name="孙十", id_number=person.id_number))
    # Held outside the gb: the one answer, which neither quotes nor confirms the name.
    assert "孙九" not in exc.value.message and exc.value.errors == {"id_number": services.held_outside_message()}
    assert not Cadre.objects.filter(person=person).exists()


def test_invalid_cadre_id_number_is_refused(tree):
    actor = Actor(person=tree.wc_admin, org=tree.wc)
    with pytest.raises(MemberError) as exc:
        services.cadre_add(actor=actor, org=tree.wc, position="委员", since=SINCE, nature="兼职",
                           person_data=person_input(id_number="123"))
    assert "18 characters" in exc.value.errors["id_number"]


def test_future_start_date_is_refused(tree):
    actor = Actor(person=tree.wc_admin, org=tree.wc)
    with pytest.raises(MemberError) as exc:
        services.cadre_add(actor=actor, org=tree.wc, position="委员", since=dt.date(2999, 1, 1), nature="兼职",
                           person_data=person_input())
    assert "since" in exc.value.errors


def test_remove_cadre_keeps_membership_and_is_audited(tree):
    cadre = f.make_cadre(tree.branch, person=tree.member.person, position="书记")
    services.cadre_remove(actor=Actor(person=tree.branch_admin, org=tree.branch), cadre=cadre, reason="换届")
    assert not Cadre.objects.filter(pk=cadre.pk).exists()
    assert Member.objects.filter(pk=tree.member.pk).exists()
    assert AuditEntry.objects.filter(action="cadre.remove", org=tree.branch, reason="换届").exists()


def test_ancestor_above_superior_cannot_remove_cadre(tree):
    cadre = f.make_cadre(tree.branch, person=tree.member.person)
    with pytest.raises(MemberError):
        services.cadre_remove(actor=Actor(person=tree.wc_admin, org=tree.wc), cadre=cadre)
    assert Cadre.objects.filter(pk=cadre.pk).exists()


def test_secretary_post_freed_by_removal_can_be_filled(tree):
    actor = Actor(person=tree.gb_admin, org=tree.gb)
    first = services.cadre_add(actor=actor, org=tree.gb, position="书记", since=SINCE, nature="兼职",
                               person_data=person_input(name="甲"))
    services.cadre_remove(actor=actor, cadre=first)
    second = services.cadre_add(actor=actor, org=tree.gb, position="书记", since=SINCE, nature="兼职",
                                person_data=person_input(name="乙"))
    assert Cadre.objects.get(org=tree.gb, position="书记").pk == second.pk


@pytest.mark.parametrize("holder", ["other_tree_admin", "sibling_cadre", "branch2_member"])
def test_cadre_post_for_a_person_managed_elsewhere_is_refused(tree, holder):
    """A post would give the org's admin the person's record and account (reset codes): refused."""
    person = {
        "other_tree_admin": lambda: tree.outsider,
        "sibling_cadre": lambda: f.make_cadre(tree.sibling, person=f.make_person(name="钱七")).person,
        "branch2_member": lambda: f.make_member(tree.branch2, person=f.make_person(name="钱八")).person,
    }[holder]()
    actor = Actor(person=tree.branch_admin, org=tree.branch) if holder == "branch2_member" else Actor(
        person=tree.gb_admin, org=tree.gb)
    org = tree.branch if holder == "branch2_member" else tree.gb
    with pytest.raises(MemberError) as exc:
        services.cadre_add(actor=actor, org=org, position="组织委员", since=SINCE, nature="兼职",
                           person_data=person_input(name=person.name, id_number=person.id_number))
    assert exc.value.errors == {"id_number": services.held_outside_message()}
    assert tree.branch2.short_name not in exc.value.message and tree.sibling.short_name not in exc.value.message
    assert not Cadre.objects.filter(person=person, org=org).exists()
    assert AuditEntry.objects.filter(action="cadre.add_refused").count() == 1


def test_cadre_post_for_a_person_of_the_subtree_is_given(tree):
    person = f.make_member(tree.branch, person=f.make_person(name="钱九")).person
    cadre = services.cadre_add(actor=Actor(person=tree.gb_admin, org=tree.gb), org=tree.gb, position="组织委员",
                               since=SINCE, nature="兼职",
                               person_data=person_input(name="钱九", id_number=person.id_number))
    assert cadre.person_id == person.pk
