"""Org pages: what each page shows and does, and the permission matrix of every view."""

import io

import pytest
from django.urls import reverse
from openpyxl import Workbook

from approvals.models import ApprovalRequest
from audit.models import AuditEntry
from orgs.models import Org
from orgs.tree import tree_problems

from . import factories as f
from .conftest import client_for, login_as


@pytest.fixture(autouse=True)
def _plain_http(settings):
    # The test client speaks plain HTTP; production's HTTPS redirect is not what these tests look at.
    settings.SECURE_SSL_REDIRECT = False


def xlsx(rows) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    ws.append(["简称", "类别", "全称"])
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    out.name = "orgs.xlsx"
    return out


def state(tree) -> tuple:
    """Everything an org view could change, to assert that a refused request changed nothing."""
    return (
        list(Org.objects.order_by("pk").values_list("pk", "code", "short_name", "full_name", "contact_phone",
                                                     "parent_id", "lft", "rght")),
        AuditEntry.objects.count(),
    )


# --- permission matrix -------------------------------------------------------------------------------------

ROLES = ["anonymous", "member", "own", "superior", "ancestor", "sibling", "descendant", "other_tree"]



# expected status per role for (view, method); 302 for anonymous is the login redirect.
MATRIX = {
    ("org_detail", "get"): dict(member=404, own=200, superior=200, ancestor=200, sibling=404, descendant=404,
                                other_tree=404),
    ("org_children", "get"): dict(member=404, own=200, superior=200, ancestor=200, sibling=404, descendant=404,
                                  other_tree=404),
    ("org_create", "get"): dict(member=404, own=200, superior=403, ancestor=403, sibling=404, descendant=404,
                                other_tree=404),
    ("org_create", "post"): dict(member=404, own=302, superior=403, ancestor=403, sibling=404, descendant=404,
                                 other_tree=404),
    ("org_bulk_create", "get"): dict(member=404, own=200, superior=403, ancestor=403, sibling=404,
                                     descendant=404, other_tree=404),
    ("org_bulk_create", "post"): dict(member=404, own=302, superior=403, ancestor=403, sibling=404,
                                      descendant=404, other_tree=404),
    ("org_bulk_template", "get"): dict(member=404, own=200, superior=403, ancestor=403, sibling=404,
                                       descendant=404, other_tree=404),
    ("org_edit", "get"): dict(member=404, own=200, superior=200, ancestor=403, sibling=404, descendant=404,
                              other_tree=404),
    ("org_edit", "post"): dict(member=404, own=302, superior=302, ancestor=403, sibling=404, descendant=404,
                               other_tree=404),
    ("org_move", "get"): dict(member=404, own=403, superior=200, ancestor=200, sibling=404, descendant=404,
                              other_tree=404),
    # gb to the root: beyond the work committee admin's scope (a form error), within the root admin's.
    ("org_move", "post"): dict(member=404, own=403, superior=200, ancestor=302, sibling=404, descendant=404,
                               other_tree=404),
    ("org_delete", "post"): dict(member=404, own=403, superior=302, ancestor=403, sibling=404, descendant=404,
                                 other_tree=404),
}
CASES = [(view, method, role) for (view, method) in MATRIX for role in ROLES]


def post_data(view):
    if view == "org_create":
        return {"type": f.org_type("branch").pk, "short_name": "矩阵支部", "full_name": "矩阵支部全称"}
    if view == "org_bulk_create":
        return {"file": xlsx([("矩阵支部", "团支部", "矩阵支部全称")])}
    if view == "org_edit":
        return {"short_name": "改名总支", "full_name": "改名总支全称", "contact_phone": "", "contact_email": ""}
    if view == "org_move":
        return {"parent_code": "R0001"}
    return {}


@pytest.mark.parametrize(("view", "method", "role"), CASES)
def test_permission_matrix(client, tree, view, method, role):
    target = tree.gb
    if view == "org_delete" and role == "superior":
        target = f.make_org("branch", parent=tree.gb, short_name="空支部")  # superior of it: gb_admin
    c = client_for(client, tree, role)
    if view == "org_delete" and role == "superior":
        c = login_as(client, tree.gb_admin, tree.gb)
    before = state(tree)
    url = reverse(view, args=[target.pk])
    response = c.post(url, post_data(view)) if method == "post" else c.get(url)
    if role == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
        assert state(tree) == before
        return
    expected = MATRIX[(view, method)][role]
    assert response.status_code == expected
    if expected in (403, 404):
        assert state(tree) == before
    if view == "org_move" and method == "post":
        tree.gb.refresh_from_db()
        assert tree.gb.parent == (tree.root if role == "ancestor" else tree.wc)
        assert tree_problems() == []
    if view == "org_edit" and method == "post" and role == "own":
        # The own admin's edit becomes a request for the direct superior: the org itself is unchanged.
        assert state(tree)[0] == before[0]
        assert ApprovalRequest.objects.get(kind="org_info", target_id=tree.gb.pk).deciding_org == tree.wc


@pytest.mark.parametrize("role", ROLES)
def test_tree_page_matrix(client, tree, role):
    c = client_for(client, tree, role)
    response = c.get(reverse("org_tree"))
    if role == "anonymous":
        assert response.status_code == 302
    elif role == "member":
        assert response.status_code == 403
    else:
        assert response.status_code == 200


def test_tree_page_shows_only_the_actors_subtree(client, tree):
    login_as(client, tree.wc_admin, tree.wc)
    body = client.get(reverse("org_tree")).content.decode()
    assert "区团工委" in body and "学院团总支" in body and "机关团支部" in body
    assert "市团委" not in body.replace("区团工委", "")
    assert "外市团委" not in body


# --- tree, children, search --------------------------------------------------------------------------------


def test_tree_shows_member_counts_per_subtree(client, tree):
    f.make_member(tree.branch2)
    f.make_member(tree.sibling)
    f.make_member(tree.branch, status="left")  # not counted: no longer a member
    login_as(client, tree.root_admin, tree.root)
    response = client.get(reverse("org_tree"))
    root = response.context["root"]
    assert root.member_count == 3
    [wc] = response.context["children"]
    assert wc.member_count == 3
    fragment = client.get(reverse("org_children", args=[tree.wc.pk]))
    counts = {n.code: n.member_count for n in fragment.context["nodes"]}
    assert counts == {"G0001": 2, "B0003": 1}
    body = fragment.content.decode()
    assert body.strip().startswith("<li") and 'data-org="G0001"' in body
    assert reverse("org_children", args=[tree.gb.pk]) in body  # gb can expand further


def _bushy(tree, n):
    for i in range(n):
        branch = f.make_org("branch", parent=tree.gb, short_name=f"批量支部{i}")
        f.make_member(branch)
        gb = f.make_org("general_branch", parent=tree.wc, short_name=f"批量总支{i}")
        f.make_org("branch", parent=gb, short_name=f"批量总支支部{i}")


def test_tree_page_and_children_fragment_queries_do_not_grow_with_children(client, tree,
                                                                           django_assert_max_num_queries):
    _bushy(tree, 15)
    login_as(client, tree.root_admin, tree.root)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("org_tree")).status_code == 200
    with django_assert_max_num_queries(10):
        response = client.get(reverse("org_children", args=[tree.wc.pk]))
    assert len(response.context["nodes"]) == 17
    with django_assert_max_num_queries(10):
        response = client.get(reverse("org_children", args=[tree.gb.pk]))
    assert len(response.context["nodes"]) == 17
    with django_assert_max_num_queries(14):
        assert client.get(reverse("org_detail", args=[tree.wc.pk])).status_code == 200


def test_search_by_name_and_code_shows_path_within_subtree(client, tree):
    login_as(client, tree.wc_admin, tree.wc)
    response = client.get(reverse("org_tree"), {"q": "二班"})
    [hit] = response.context["hits"]
    assert hit.org == tree.branch2
    assert [a.short_name for a in hit.path] == ["区团工委", "学院团总支"]
    assert "区团工委 › 学院团总支" in response.content.decode()
    [hit] = client.get(reverse("org_tree"), {"q": "b0003"}).context["hits"]
    assert hit.org == tree.sibling


def test_search_does_not_reach_outside_the_subtree(client, tree):
    login_as(client, tree.gb_admin, tree.gb)
    assert client.get(reverse("org_tree"), {"q": "机关团支部"}).context["hits"] == []
    assert client.get(reverse("org_tree"), {"q": "R0002"}).context["hits"] == []
    assert client.get(reverse("org_tree"), {"q": "团工委"}).context["hits"] == []


def test_htmx_search_returns_only_the_results_fragment(client, tree):
    login_as(client, tree.root_admin, tree.root)
    response = client.get(reverse("org_tree"), {"q": "一班"}, headers={"HX-Request": "true",
                                                                      "HX-Target": "search-results"})
    body = response.content.decode()
    assert 'data-testid="search-results"' in body and "<html" not in body and "一班团支部" in body


# --- detail ------------------------------------------------------------------------------------------------


def test_detail_shows_info_cadres_children_and_actions(client, tree):
    cadre = f.make_cadre(tree.gb, position="书记")
    login_as(client, tree.wc_admin, tree.wc)
    response = client.get(reverse("org_detail", args=[tree.gb.pk]))
    body = response.content.decode()
    assert tree.gb.full_name in body and "G0001" in body
    assert cadre.person.name in body
    assert "一班团支部" in body and "二班团支部" in body
    assert reverse("org_edit", args=[tree.gb.pk]) in body
    assert reverse("org_delete", args=[tree.gb.pk]) in body
    assert reverse("org_create", args=[tree.gb.pk]) not in body  # only gb's own admin creates its children
    assert response.context["detail"].member_count == 1


def test_detail_of_own_org_offers_create_but_not_delete(client, tree):
    login_as(client, tree.gb_admin, tree.gb)
    body = client.get(reverse("org_detail", args=[tree.gb.pk])).content.decode()
    assert reverse("org_create", args=[tree.gb.pk]) in body
    assert reverse("org_bulk_create", args=[tree.gb.pk]) in body
    assert reverse("org_delete", args=[tree.gb.pk]) not in body


def test_branch_detail_has_no_create_and_shows_member_count(client, tree):
    login_as(client, tree.branch_admin, tree.branch)
    response = client.get(reverse("org_detail", args=[tree.branch.pk]))
    body = response.content.decode()
    assert reverse("org_create", args=[tree.branch.pk]) not in body
    assert response.context["detail"].member_count == 1


def test_branch_page_lists_its_members_masked_with_a_link_to_the_full_list(client, tree):
    from members.choices import MemberStatus

    left = f.make_member(tree.branch, status=MemberStatus.LEFT)
    other_branch = f.make_member(tree.branch2)
    login_as(client, tree.gb_admin, tree.gb)
    response = client.get(reverse("org_detail", args=[tree.branch.pk]))
    body = response.content.decode()
    person = tree.member.person
    assert [m.pk for m in response.context["detail"].members] == [tree.member.pk]
    assert person.name in body and person.masked_id_number in body
    assert person.id_number not in body  # lists show ID numbers masked
    assert left.person.name not in body and other_branch.person.name not in body
    assert reverse("member_detail", args=[tree.member.pk]) in body
    assert reverse("member_list", args=[tree.branch.pk]) in body


def test_branch_page_shows_the_first_members_and_says_how_many_more(client, tree):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from orgs.selectors import BRANCH_PAGE_MEMBERS

    login_as(client, tree.branch_admin, tree.branch)
    url = reverse("org_detail", args=[tree.branch.pk])
    with CaptureQueriesContext(connection) as one_member:
        client.get(url)
    for _ in range(BRANCH_PAGE_MEMBERS + 4):
        f.make_member(tree.branch)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(many) == len(one_member)  # no query per listed member
    members = response.context["detail"].members
    assert len(members) == BRANCH_PAGE_MEMBERS
    assert [m.person.name for m in members] == sorted(m.person.name for m in members)
    assert response.context["more_members"] == 5


def test_non_branch_page_has_no_member_table(client, tree):
    login_as(client, tree.gb_admin, tree.gb)
    response = client.get(reverse("org_detail", args=[tree.gb.pk]))
    assert response.context["detail"].members == []
    assert 'data-testid="branch-members"' not in response.content.decode()


# --- create, bulk, edit, delete through the pages ----------------------------------------------------------


def test_create_child_page_creates_and_redirects(client, tree):
    login_as(client, tree.gb_admin, tree.gb)
    response = client.post(reverse("org_create", args=[tree.gb.pk]),
                           {"type": f.org_type("branch").pk, "short_name": "三班团支部", "full_name": "三班"})
    org = Org.objects.get(short_name="三班团支部")
    assert response.status_code == 302 and response["Location"] == reverse("org_detail", args=[org.pk])
    assert org.parent == tree.gb and org.code == "G0001001"


def test_create_ignores_a_tampered_parent_field(client, tree):
    login_as(client, tree.gb_admin, tree.gb)
    client.post(reverse("org_create", args=[tree.gb.pk]),
                {"type": f.org_type("branch").pk, "short_name": "篡改支部", "full_name": "x",
                 "parent": tree.other_root.pk})
    assert Org.objects.get(short_name="篡改支部").parent == tree.gb


def test_create_with_a_tampered_type_gets_the_containment_message(client, tree):
    login_as(client, tree.gb_admin, tree.gb)
    before = state(tree)
    response = client.post(reverse("org_create", args=[tree.gb.pk]),
                           {"type": f.org_type("work_committee").pk, "short_name": "工委", "full_name": "x"})
    assert response.status_code == 200
    assert "团总支" in response.content.decode()
    assert response.context["form"].errors["type"]
    assert state(tree) == before


def test_create_under_a_branch_says_it_cannot_have_children(client, tree):
    login_as(client, tree.branch_admin, tree.branch)
    before = state(tree)
    response = client.get(reverse("org_create", args=[tree.branch.pk]))
    assert 'data-testid="form-error"' in response.content.decode()
    response = client.post(reverse("org_create", args=[tree.branch.pk]),
                           {"type": f.org_type("branch").pk, "short_name": "子支部", "full_name": "x"})
    assert response.status_code == 200 and response.context["form"].errors
    assert state(tree) == before


def test_create_with_a_duplicate_code_shows_the_error(client, tree):
    login_as(client, tree.gb_admin, tree.gb)
    response = client.post(reverse("org_create", args=[tree.gb.pk]),
                           {"type": f.org_type("branch").pk, "short_name": "重码", "full_name": "x",
                            "code": "R0001"})
    assert "R0001" in str(response.context["form"].errors["code"])
    assert not Org.objects.filter(short_name="重码").exists()


def test_bulk_create_page_shows_row_errors(client, tree):
    login_as(client, tree.gb_admin, tree.gb)
    response = client.post(reverse("org_bulk_create", args=[tree.gb.pk]),
                           {"file": xlsx([("好支部", "团支部", "好"), ("坏", "团委", "坏")])})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="row-errors"' in body
    assert Org.objects.filter(short_name="好支部", parent=tree.gb).exists()
    assert not Org.objects.filter(short_name="坏").exists()
    # A partly successful import is a warning that counts both, not a success banner.
    [message] = list(response.context["messages"])
    assert message.level_tag == "warning"
    assert "已创建 1 个组织" in message.message and "1 行未能创建" in message.message


def test_bulk_create_page_with_only_good_rows_reports_success_and_returns_to_the_org(client, tree):
    login_as(client, tree.gb_admin, tree.gb)
    response = client.post(reverse("org_bulk_create", args=[tree.gb.pk]),
                           {"file": xlsx([("甲支部", "团支部", "甲"), ("乙支部", "团支部", "乙")])}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("org_detail", args=[tree.gb.pk])
    [message] = list(response.context["messages"])
    assert message.level_tag == "success" and "2" in message.message


def test_bulk_create_page_refuses_a_non_spreadsheet(client, tree):
    login_as(client, tree.gb_admin, tree.gb)
    before = state(tree)
    upload = io.BytesIO(b"just text")
    upload.name = "orgs.csv"
    response = client.post(reverse("org_bulk_create", args=[tree.gb.pk]), {"file": upload})
    assert response.status_code == 200 and response.context["form"].errors["file"]
    assert state(tree) == before


def test_template_download_is_an_xlsx(client, tree):
    login_as(client, tree.gb_admin, tree.gb)
    response = client.get(reverse("org_bulk_template", args=[tree.gb.pk]))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response.content[:2] == b"PK"


def test_superior_edit_page_changes_at_once(client, tree):
    login_as(client, tree.gb_admin, tree.gb)
    response = client.post(reverse("org_edit", args=[tree.branch.pk]),
                           {"short_name": "一班", "full_name": "新全称", "contact_phone": "13800000000",
                            "contact_email": "a@example.org"})
    assert response.status_code == 302
    tree.branch.refresh_from_db()
    assert (tree.branch.short_name, tree.branch.contact_email) == ("一班", "a@example.org")


def test_own_admin_edit_page_files_a_request_the_superior_approves(client, tree):
    from approvals.services import request_approve
    from orgs.permissions import Actor

    login_as(client, tree.branch_admin, tree.branch)
    response = client.post(reverse("org_edit", args=[tree.branch.pk]),
                           {"short_name": "一班团支部", "full_name": "自己改的全称", "contact_phone": "",
                            "contact_email": ""})
    assert response.status_code == 302
    tree.branch.refresh_from_db()
    assert tree.branch.full_name != "自己改的全称"
    req = ApprovalRequest.objects.get(kind="org_info", target_id=tree.branch.pk)
    assert req.changes == {"full_name": [tree.branch.full_name, "自己改的全称"]}
    request_approve(request_id=req.pk, actor=Actor(person=tree.gb_admin, org=tree.gb))
    tree.branch.refresh_from_db()
    assert tree.branch.full_name == "自己改的全称"


def test_own_admin_edit_breaking_a_rule_files_nothing(client, tree):
    login_as(client, tree.branch_admin, tree.branch)
    response = client.post(reverse("org_edit", args=[tree.branch.pk]),
                           {"short_name": "二班团支部", "full_name": "x", "contact_phone": "", "contact_email": ""})
    assert response.status_code == 200 and response.context["form"].errors["short_name"]
    assert not ApprovalRequest.objects.exists()


def test_root_admin_edit_of_a_top_level_org_takes_effect_at_once(client, tree):
    # Nobody is above a top-level org (FAQ §2): its own admin's edit applies at once and is audited.
    login_as(client, tree.root_admin, tree.root)
    response = client.post(reverse("org_edit", args=[tree.root.pk]),
                           {"short_name": "市团委", "full_name": "改", "contact_phone": "", "contact_email": ""})
    assert response.status_code == 302
    assert Org.objects.get(pk=tree.root.pk).full_name == "改" and not ApprovalRequest.objects.exists()
    assert AuditEntry.objects.filter(action="org.update", org=tree.root).count() == 1


def test_edit_with_bad_email_changes_nothing(client, tree):
    login_as(client, tree.gb_admin, tree.gb)
    before = state(tree)
    response = client.post(reverse("org_edit", args=[tree.branch.pk]),
                           {"short_name": "一班", "full_name": "新全称", "contact_email": "bad"})
    assert response.status_code == 200 and response.context["form"].errors["contact_email"]
    assert state(tree) == before


def test_delete_empty_org_redirects_to_parent(client, tree):
    empty = f.make_org("branch", parent=tree.gb, short_name="空支部")
    login_as(client, tree.gb_admin, tree.gb)
    response = client.post(reverse("org_delete", args=[empty.pk]))
    assert response["Location"] == reverse("org_detail", args=[tree.gb.pk])
    assert not Org.objects.filter(pk=empty.pk).exists()
    assert tree_problems() == []


def test_delete_non_empty_org_is_refused_with_message(client, tree):
    login_as(client, tree.wc_admin, tree.wc)
    before = state(tree)
    response = client.post(reverse("org_delete", args=[tree.gb.pk]), follow=True)
    assert state(tree) == before
    messages = [str(m) for m in response.context["messages"]]
    assert any("学院团总支" in m for m in messages)


def test_delete_by_get_is_not_allowed(client, tree):
    login_as(client, tree.gb_admin, tree.gb)
    empty = f.make_org("branch", parent=tree.gb, short_name="空支部")
    assert client.get(reverse("org_delete", args=[empty.pk])).status_code == 405
    assert Org.objects.filter(pk=empty.pk).exists()


def test_move_page_refuses_an_invalid_target_with_its_reason(client, tree):
    login_as(client, tree.root_admin, tree.root)
    before = state(tree)
    for code, needle in [("B0003", "机关团支部"), ("B0001", "下级组织之下"), ("W0001", "区团工委"),
                         ("R0002", "R0002"), ("NOPE", "NOPE")]:
        response = client.post(reverse("org_move", args=[tree.gb.pk]), {"parent_code": code})
        assert response.status_code == 200
        # The reason is the form's error (the page names gb and its superior anyway, in the breadcrumbs).
        errors = " ".join(response.context["form"].errors.get("parent_code", []))
        assert needle in errors, (code, errors)
        assert all(error in response.content.decode() for error in response.context["form"].errors["parent_code"])
        assert state(tree) == before


def test_detail_offers_move_to_ancestor_admins_only(client, tree):
    move_url, detail_url = reverse("org_move", args=[tree.gb.pk]), reverse("org_detail", args=[tree.gb.pk])
    login_as(client, tree.wc_admin, tree.wc)
    assert move_url in client.get(detail_url).content.decode()
    login_as(client, tree.gb_admin, tree.gb)
    assert move_url not in client.get(detail_url).content.decode()


def test_detail_links_to_the_member_list_and_codes_pages(client, tree):
    login_as(client, tree.gb_admin, tree.gb)
    body = client.get(reverse("org_detail", args=[tree.gb.pk])).content.decode()
    assert reverse("member_list", args=[tree.gb.pk]) in body
    assert reverse("org_codes", args=[tree.gb.pk]) in body  # codes for its subordinates
    body = client.get(reverse("org_detail", args=[tree.branch.pk])).content.decode()
    assert reverse("member_list", args=[tree.branch.pk]) in body
    assert reverse("org_codes", args=[tree.branch.pk]) not in body  # a branch has no subordinates
