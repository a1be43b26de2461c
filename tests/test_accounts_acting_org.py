"""Choosing and switching the org a person acts for: only among the orgs they administer."""

import pytest
from django.urls import reverse

from members import accounts
from members.middleware import ACTING_ORG_SESSION_KEY
from orgs.models import OrgAdmin

from . import factories as f
from .conftest import login_as


@pytest.fixture
def multi(tree):
    """The branch admin also administers the sibling branch and the other root."""
    person = tree.branch_admin
    OrgAdmin.objects.filter(org=tree.sibling).update(person=person)
    f.make_admin(tree.other_root, person=person)
    return person


def test_choose_page_lists_each_administered_org_with_type_and_path(client, tree, multi,
                                                                    django_assert_max_num_queries):
    login_as(client, multi)
    with django_assert_max_num_queries(8):  # the header's unread-message count is one of them
        response = client.get(reverse("choose_org"))
    assert response.status_code == 200
    choices = response.context["choices"]
    order = [(org.tree_id, org.lft) for org, _ in choices]
    assert order == sorted(order)  # tree order
    assert {org.pk for org, _ in choices} == {tree.branch.pk, tree.sibling.pk, tree.other_root.pk}
    paths = {org.code: [a.code for a in path] for org, path in choices}
    assert paths == {"B0001": ["R0001", "W0001", "G0001"], "B0003": ["R0001", "W0001"], "R0002": []}
    html = response.content.decode()
    for org in (tree.branch, tree.sibling, tree.other_root):
        assert org.short_name in html
        assert org.type.name in html
    assert tree.gb.short_name in html  # on the branch's path
    assert tree.branch2.short_name not in html


def test_choose_page_query_count_does_not_grow_with_the_number_of_orgs(client, tree, multi,
                                                                       django_assert_max_num_queries):
    for _ in range(10):
        f.make_admin(f.make_org("branch", parent=tree.gb), person=multi)
    login_as(client, multi)
    with django_assert_max_num_queries(8):  # the header's unread-message count is one of them
        response = client.get(reverse("choose_org"))
    assert len(response.context["choices"]) == 13


def test_choosing_an_administered_org_sets_it(client, tree, multi):
    login_as(client, multi)
    response = client.post(reverse("choose_org"), {"org": tree.sibling.pk})
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.session[ACTING_ORG_SESSION_KEY] == tree.sibling.pk


def test_switching_from_one_org_to_another(client, tree, multi):
    login_as(client, multi, tree.branch)
    client.post(reverse("choose_org"), {"org": tree.other_root.pk})
    assert client.session[ACTING_ORG_SESSION_KEY] == tree.other_root.pk
    client.post(reverse("choose_org"), {"org": tree.branch.pk})
    assert client.session[ACTING_ORG_SESSION_KEY] == tree.branch.pk


def test_choose_keeps_a_safe_next(client, tree, multi):
    login_as(client, multi)
    response = client.post(reverse("choose_org"), {"org": tree.branch.pk, "next": "/password/change/"})
    assert response.url == "/password/change/"
    response = client.post(reverse("choose_org"), {"org": tree.branch.pk, "next": "//evil.example/"})
    assert response.url == reverse("home")


@pytest.mark.parametrize("tamper", ["gb", "root", "branch2", "other", "junk", "missing", "empty"])
def test_tampered_org_id_is_404_and_nothing_changes(client, tree, multi, tamper):
    login_as(client, multi, tree.branch)
    value = {"gb": tree.gb.pk, "root": tree.root.pk, "branch2": tree.branch2.pk, "other": tree.wc.pk,
             "junk": "1 OR 1=1", "missing": 987654, "empty": ""}[tamper]
    response = client.post(reverse("choose_org"), {"org": value})
    assert response.status_code == 404
    assert client.session[ACTING_ORG_SESSION_KEY] == tree.branch.pk


def test_ancestor_admin_cannot_act_for_a_descendant_org(client, tree):
    login_as(client, tree.root_admin, tree.root)
    assert client.post(reverse("choose_org"), {"org": tree.branch.pk}).status_code == 404
    assert client.session[ACTING_ORG_SESSION_KEY] == tree.root.pk


def test_plain_member_has_no_org_to_choose(client, tree):
    member = f.make_member(tree.branch, person=f.make_person()).person
    login_as(client, member)
    response = client.get(reverse("choose_org"))
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.post(reverse("choose_org"), {"org": tree.branch.pk}).status_code == 404
    assert ACTING_ORG_SESSION_KEY not in client.session


def test_anonymous_is_sent_to_login(client, tree):
    response = client.post(reverse("choose_org"), {"org": tree.branch.pk})
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_losing_the_admin_role_drops_the_acting_org(client, tree, multi):
    login_as(client, multi, tree.sibling)
    OrgAdmin.objects.filter(org=tree.sibling).update(person=f.make_person())
    client.get(reverse("choose_org"))
    assert client.session.get(ACTING_ORG_SESSION_KEY) is None


def test_header_shows_the_acting_org_with_a_switch_link(client, tree, multi):
    login_as(client, multi, tree.sibling)
    html = client.get(reverse("choose_org")).content.decode()
    assert 'data-testid="acting-org"' in html and tree.sibling.short_name in html


def test_landing_url_after_login(rf, tree, multi):
    from django.contrib.sessions.backends.db import SessionStore

    def landing(person):
        request = rf.get("/")
        request.session = SessionStore()
        return accounts.landing_url(request, person), request.session.get(ACTING_ORG_SESSION_KEY)

    assert landing(multi) == (reverse("choose_org"), None)
    assert landing(tree.gb_admin) == (reverse("home"), tree.gb.pk)
    assert landing(f.make_person()) == (reverse("home"), None)


def test_single_admin_role_granted_after_login_is_chosen_without_asking(client, tree):
    person = f.make_person()
    login_as(client, person)
    new_branch = f.make_org("branch", parent=tree.gb)
    f.make_admin(new_branch, person=person)
    response = client.get(reverse("choose_org"))
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.session[ACTING_ORG_SESSION_KEY] == new_branch.pk


def test_single_admin_can_still_open_the_switch_page(client, tree):
    login_as(client, tree.gb_admin, tree.gb)
    response = client.get(reverse("choose_org"))
    assert response.status_code == 200 and len(response.context["choices"]) == 1
    # It does not claim they administer several organizations.
    body = response.content.decode()
    assert "您是一个组织的管理员" in body and "您是多个组织的管理员" not in body


def test_choose_page_for_several_orgs_says_so(client, tree):
    f.make_admin(tree.sibling, person=tree.gb_admin)
    login_as(client, tree.gb_admin, tree.gb)
    body = client.get(reverse("choose_org")).content.decode()
    assert "您是多个组织的管理员" in body and "您是一个组织的管理员" not in body
