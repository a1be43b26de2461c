"""§1 and §5: members are entered or imported into a branch by its admin or the admin of its direct superior;
higher orgs get one entry (添加团员团干部) for members of a child branch and their own cadres."""

import pytest
from django.urls import reverse

from imports.models import ImportJob
from members.models import Member
from orgs.permissions import Actor, may_add_members_to, may_import_into

from .conftest import login_as
from .import_helpers import media, member_row, upload, xlsx  # noqa: F401  (media is a fixture)

pytestmark = pytest.mark.django_db


def act(person, org):
    return Actor(person=person, org=org)


@pytest.mark.parametrize("who, allowed", [
    ("branch", True), ("gb", True), ("wc", False), ("root", False), ("branch2", False), ("sibling", False),
    ("outsider", False),
])
def test_who_may_add_members_to_a_branch(tree, who, allowed):
    person, org = {
        "branch": (tree.branch_admin, tree.branch), "gb": (tree.gb_admin, tree.gb), "wc": (tree.wc_admin, tree.wc),
        "root": (tree.root_admin, tree.root), "branch2": (tree.branch2_admin, tree.branch2),
        "sibling": (tree.sibling_admin, tree.sibling), "outsider": (tree.outsider, tree.other_root),
    }[who]
    assert may_add_members_to(act(person, org), tree.branch) is allowed
    assert may_import_into(act(person, org), tree.branch) is allowed


def test_nobody_adds_members_to_an_org_that_is_not_a_branch(tree):
    assert not may_add_members_to(act(tree.gb_admin, tree.gb), tree.gb)
    assert not may_add_members_to(act(tree.wc_admin, tree.wc), tree.gb)


def test_a_higher_orgs_cadres_are_imported_by_its_own_admin_only(tree):
    assert may_import_into(act(tree.gb_admin, tree.gb), tree.gb)
    assert not may_import_into(act(tree.wc_admin, tree.wc), tree.gb)


def test_general_branch_admin_imports_members_into_a_child_branch(client, tree, media):  # noqa: F811
    login_as(client, tree.gb_admin, tree.gb)
    assert client.get(reverse("import_home", args=[tree.branch.pk])).status_code == 200
    response = client.post(reverse("import_home", args=[tree.branch.pk]),
                           {"file": upload(xlsx([member_row("王一"), member_row("王二")]))})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("import_job", args=[job.pk])
    assert job.org == tree.branch and job.created_by == tree.gb_admin and job.status == "succeeded"
    assert set(Member.objects.filter(branch=tree.branch).values_list("person__name", flat=True)) >= {"王一", "王二"}
    # The job page, its progress and the template answer the superior too.
    assert client.get(reverse("import_job", args=[job.pk])).status_code == 200
    assert client.get(reverse("import_template", args=[tree.branch.pk])).status_code == 200


def test_work_committee_admin_may_not_import_into_a_grandchild_branch(client, tree, media):  # noqa: F811
    login_as(client, tree.wc_admin, tree.wc)
    response = client.post(reverse("import_home", args=[tree.branch.pk]), {"file": upload(xlsx([member_row()]))})
    assert response.status_code == 403
    assert ImportJob.objects.count() == 0 and not Member.objects.filter(person__name="张三").exists()


def test_child_branch_page_offers_the_superior_add_and_import(client, tree):
    login_as(client, tree.gb_admin, tree.gb)
    page = client.get(reverse("org_detail", args=[tree.branch.pk])).content.decode()
    assert reverse("import_home", args=[tree.branch.pk]) in page and 'data-testid="branch-import-members"' in page
    assert reverse("member_add", args=[tree.branch.pk]) in page


def test_grandchild_branch_page_offers_no_import_to_the_work_committee(client, tree):
    login_as(client, tree.wc_admin, tree.wc)
    page = client.get(reverse("org_detail", args=[tree.branch.pk])).content.decode()
    assert 'data-testid="branch-import-members"' not in page


def test_superiors_own_page_links_each_child_branch_import(client, tree):
    login_as(client, tree.gb_admin, tree.gb)
    page = client.get(reverse("org_detail", args=[tree.gb.pk])).content.decode()
    for branch in (tree.branch, tree.branch2):
        assert reverse("import_home", args=[branch.pk]) in page
    assert reverse("org_add_people", args=[tree.gb.pk]) in page


def test_higher_org_page_names_sub_org_creation_plainly(client, tree):
    login_as(client, tree.gb_admin, tree.gb)
    page = client.get(reverse("org_detail", args=[tree.gb.pk])).content.decode()
    assert "批量创建下级组织" in page and "添加团员团干部" in page and "从 Excel 导入" not in page


def test_add_people_page_offers_child_branches_and_own_cadres(client, tree):
    login_as(client, tree.wc_admin, tree.wc)
    response = client.get(reverse("org_add_people", args=[tree.wc.pk]))
    page = response.content.decode()
    assert [b.pk for b in response.context["branches"]] == [tree.sibling.pk]  # gb is not a branch
    assert reverse("import_home", args=[tree.sibling.pk]) in page
    assert reverse("import_home", args=[tree.branch.pk]) not in page  # the general branch's own job
    assert reverse("import_home", args=[tree.wc.pk]) in page and reverse("cadre_add", args=[tree.wc.pk]) in page
    assert tree.gb.short_name in page  # named as the one that enters its branches' members


def test_branch_admin_add_people_page_is_their_own_branch(client, tree):
    login_as(client, tree.branch_admin, tree.branch)
    response = client.get(reverse("org_add_people", args=[tree.branch.pk]))
    assert [b.pk for b in response.context["branches"]] == [tree.branch.pk]
    assert not response.context["import_cadres"]


def test_add_people_page_is_for_the_orgs_own_admin(client, tree):
    login_as(client, tree.wc_admin, tree.wc)
    assert client.get(reverse("org_add_people", args=[tree.gb.pk])).status_code == 403
    login_as(client, tree.outsider, tree.other_root)
    assert client.get(reverse("org_add_people", args=[tree.gb.pk])).status_code == 404


def test_nav_entry_for_higher_orgs_is_add_people(client, tree):
    login_as(client, tree.gb_admin, tree.gb)
    page = client.get(reverse("org_detail", args=[tree.gb.pk])).content.decode()
    assert f'href="{reverse("org_add_people", args=[tree.gb.pk])}" data-testid="nav-import"' in page


def test_a_superiors_import_is_audited_as_acting_for_the_superior(client, tree, media):  # noqa: F811
    from audit.models import AuditEntry

    login_as(client, tree.gb_admin, tree.gb)
    client.post(reverse("import_home", args=[tree.branch.pk]), {"file": upload(xlsx([member_row("王三")]))})
    job = ImportJob.objects.get()
    assert job.created_for == tree.gb
    entries = AuditEntry.objects.filter(action__in=["member.imported", "import.finished"])
    assert entries.count() == 2
    assert all(e.actor == tree.gb_admin and e.acting_org_id == tree.gb.pk and e.org_id == tree.branch.pk
               for e in entries)
