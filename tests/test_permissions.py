"""The permission vocabulary as a matrix: every actor against every predicate for one org (gb)."""

import pytest
from django.http import Http404

from orgs.permissions import Actor, administered_orgs, get_org_for, manages, may_edit_person_at_once, may_see_person

# For target org `gb` (general branch under wc under root):
#   actor                 admin_of  direct_superior  manages  administers
MATRIX = {
    "gb_admin": (True, False, True, True),
    "wc_admin": (False, True, True, True),
    "root_admin": (False, False, False, True),
    "sibling_admin": (False, False, False, False),
    "branch_admin": (False, False, False, False),  # a descendant of gb
    "outsider": (False, False, False, False),
}
ACTING_ORG = {
    "gb_admin": "gb", "wc_admin": "wc", "root_admin": "root", "sibling_admin": "sibling",
    "branch_admin": "branch", "outsider": "other_root",
}


def actor_of(tree, name):
    return Actor(person=getattr(tree, name), org=getattr(tree, ACTING_ORG[name]))


@pytest.mark.parametrize("name", MATRIX)
def test_permission_matrix_for_general_branch(tree, name):
    actor = actor_of(tree, name)
    expected = MATRIX[name]
    got = (
        actor.is_admin_of(tree.gb),
        actor.is_direct_superior_admin_of(tree.gb),
        manages(actor, tree.gb),
        actor.administers(tree.gb),
    )
    assert got == expected


def test_member_without_admin_role_has_no_org_powers(tree):
    actor = Actor(person=tree.member.person, org=None)
    assert not actor.is_admin
    assert not actor.administers(tree.branch)
    assert not actor.is_direct_superior_admin_of(tree.branch)
    assert list(actor.visible_orgs()) == []


def test_only_the_org_admin_and_its_direct_superior_manage_it(tree):
    assert manages(actor_of(tree, "gb_admin"), tree.gb) and manages(actor_of(tree, "wc_admin"), tree.gb)
    assert not manages(actor_of(tree, "root_admin"), tree.gb)  # higher ancestors only read
    assert not manages(Actor(person=tree.member.person, org=None), tree.branch)


def test_get_org_for_hides_orgs_outside_the_subtree(tree):
    assert get_org_for(actor_of(tree, "wc_admin"), tree.branch.pk) == tree.branch
    for name in ("sibling_admin", "branch_admin", "outsider"):
        with pytest.raises(Http404):
            get_org_for(actor_of(tree, name), tree.gb.pk)


@pytest.mark.parametrize("bad", ["abc", None, "99999999", "1; DROP TABLE"])
def test_get_org_for_treats_tampered_ids_as_not_found(tree, bad):
    with pytest.raises(Http404):
        get_org_for(actor_of(tree, "root_admin"), bad)


def test_visible_orgs_is_the_actor_subtree(tree):
    codes = set(actor_of(tree, "wc_admin").visible_orgs().values_list("code", flat=True))
    assert codes == {"W0001", "G0001", "B0001", "B0002", "B0003"}


def test_administered_orgs_lists_every_admin_role(tree):
    from tests.factories import make_admin

    make_admin(tree.sibling, person=tree.gb_admin)
    assert set(administered_orgs(tree.gb_admin)) == {tree.gb, tree.sibling}


# Who may see and edit the member of `branch` (person-level rules).
PERSON_MATRIX = {
    "branch_admin": (True, True),
    "gb_admin": (True, True),  # direct superior of the member's branch
    "wc_admin": (True, False),  # an ancestor above the superior: reads only
    "root_admin": (True, False),
    "sibling_admin": (False, False),
    "outsider": (False, False),
}


@pytest.mark.parametrize("name", PERSON_MATRIX)
def test_person_permission_matrix(tree, name):
    actor = Actor(person=getattr(tree, name), org=getattr(tree, {**ACTING_ORG, "branch_admin": "branch"}[name]))
    person = tree.member.person
    assert (may_see_person(actor, person), may_edit_person_at_once(actor, person)) == PERSON_MATRIX[name]


def test_a_person_sees_themselves_only(tree):
    me = Actor(person=tree.member.person, org=None)
    assert may_see_person(me, tree.member.person)
    assert not may_see_person(me, tree.branch_admin)
    assert not may_edit_person_at_once(me, tree.member.person)
