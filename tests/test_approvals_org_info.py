"""Org info changes on the approvals engine: the org's own admin's edit waits for the direct superior
admin; the direct superior admin's edit applies at once; approval re-checks the tree's rules."""

import pytest
from django.urls import reverse

from approvals.models import ApprovalRequest, RequestStatus
from approvals.services import ApprovalError, request_approve, request_reject
from audit.models import AuditEntry
from orgs import services as org_services
from orgs.models import Org
from orgs.permissions import Actor

from . import factories as f
from .conftest import login_as

EDIT = {"short_name": "新一班团支部", "full_name": "新一班团支部全称", "contact_phone": "", "contact_email": ""}


def own_edit(tree, **changes):
    return org_services.org_update_info(actor=Actor(tree.branch_admin, tree.branch), org=tree.branch,
                                        changes=changes)


def test_own_admin_edit_becomes_a_pending_request_for_the_direct_superior(tree):
    before = Org.objects.get(pk=tree.branch.pk)
    own_edit(tree, short_name="新一班团支部", contact_phone="010-12345678")
    req = ApprovalRequest.objects.get(kind="org_info")
    assert req.is_pending and req.deciding_org == tree.gb and req.org == tree.branch
    assert req.requested_by == tree.branch_admin and req.requested_for_org == tree.branch
    assert req.changes == {"short_name": ["一班团支部", "新一班团支部"], "contact_phone": ["", "010-12345678"]}
    after = Org.objects.get(pk=tree.branch.pk)
    assert (after.short_name, after.contact_phone) == (before.short_name, before.contact_phone)
    assert not AuditEntry.objects.filter(action="org.update").exists()
    assert AuditEntry.objects.filter(action="request.submitted.org_info", org=tree.branch).exists()


def test_direct_superior_approval_applies_the_change(tree):
    own_edit(tree, short_name="新一班团支部")
    req = ApprovalRequest.objects.get(kind="org_info")
    request_approve(request_id=req.pk, actor=Actor(tree.gb_admin, tree.gb))
    assert Org.objects.get(pk=tree.branch.pk).short_name == "新一班团支部"
    assert AuditEntry.objects.filter(action="org.update", actor=tree.gb_admin).exists()


def test_direct_superior_rejection_changes_nothing(tree):
    own_edit(tree, short_name="新一班团支部")
    req = ApprovalRequest.objects.get(kind="org_info")
    request_reject(request_id=req.pk, actor=Actor(tree.gb_admin, tree.gb), reason="名称不规范")
    assert Org.objects.get(pk=tree.branch.pk).short_name == "一班团支部"


def test_direct_superior_edit_takes_effect_at_once(tree):
    org_services.org_update_info(actor=Actor(tree.gb_admin, tree.gb), org=tree.branch,
                                 changes={"short_name": "新一班团支部"})
    assert Org.objects.get(pk=tree.branch.pk).short_name == "新一班团支部"
    assert not ApprovalRequest.objects.exists()


def test_own_admin_edit_is_checked_before_it_is_filed(tree):
    with pytest.raises(org_services.OrgError):
        own_edit(tree, short_name="二班团支部")  # a sibling's name
    with pytest.raises(org_services.OrgError):
        own_edit(tree, contact_email="not-an-email")
    assert not ApprovalRequest.objects.exists()


def test_own_admin_may_not_change_code_or_type(tree):
    with pytest.raises(org_services.OrgError):
        own_edit(tree, code="B9999")
    with pytest.raises(org_services.OrgError):
        own_edit(tree, type=f.org_type("committee").pk)
    assert not ApprovalRequest.objects.exists()
    assert Org.objects.get(pk=tree.branch.pk).code == "B0001"


def test_second_pending_info_edit_is_refused(tree):
    own_edit(tree, short_name="新一班团支部")
    with pytest.raises(org_services.OrgError):
        own_edit(tree, full_name="另一个全称")
    assert ApprovalRequest.objects.filter(status=RequestStatus.PENDING).count() == 1


def test_approval_rechecks_sibling_names(tree):
    own_edit(tree, short_name="新一班团支部")
    req = ApprovalRequest.objects.get(kind="org_info")
    # Meanwhile a sibling takes that name.
    org_services.org_update_info(actor=Actor(tree.gb_admin, tree.gb), org=tree.branch2,
                                 changes={"short_name": "新一班团支部"})
    with pytest.raises(ApprovalError):
        request_approve(request_id=req.pk, actor=Actor(tree.gb_admin, tree.gb))
    req.refresh_from_db()
    assert req.is_pending and Org.objects.get(pk=tree.branch.pk).short_name == "一班团支部"


def test_superior_edit_after_request_makes_it_stale(tree):
    own_edit(tree, short_name="新一班团支部")
    req = ApprovalRequest.objects.get(kind="org_info")
    org_services.org_update_info(actor=Actor(tree.gb_admin, tree.gb), org=tree.branch,
                                 changes={"short_name": "上级改的名"})
    with pytest.raises(ApprovalError):
        request_approve(request_id=req.pk, actor=Actor(tree.gb_admin, tree.gb))
    assert Org.objects.get(pk=tree.branch.pk).short_name == "上级改的名"


@pytest.mark.parametrize("who", ["wc_admin", "root_admin", "branch2_admin", "sibling_admin"])
def test_only_the_direct_superior_decides_org_info(tree, who):
    own_edit(tree, short_name="新一班团支部")
    req = ApprovalRequest.objects.get(kind="org_info")
    org = {"wc_admin": tree.wc, "root_admin": tree.root, "branch2_admin": tree.branch2,
           "sibling_admin": tree.sibling}[who]
    with pytest.raises(ApprovalError):
        request_approve(request_id=req.pk, actor=Actor(getattr(tree, who), org))
    assert Org.objects.get(pk=tree.branch.pk).short_name == "一班团支部"


def test_own_admin_edit_page_files_request_and_superior_approves_from_inbox(client, tree):
    from django.test import Client

    login_as(client, tree.branch_admin, tree.branch)
    client.post(reverse("org_edit", args=[tree.branch.pk]), EDIT)
    req = ApprovalRequest.objects.get(kind="org_info")
    assert req.is_pending and Org.objects.get(pk=tree.branch.pk).short_name == "一班团支部"

    superior = login_as(Client(), tree.gb_admin, tree.gb)
    assert req.pk in [r.request.pk for r in superior.get(reverse("inbox")).context["rows"]]
    superior.post(reverse("inbox"), {"requests": [req.pk], "decision": "approve", "reason": ""})
    org = Org.objects.get(pk=tree.branch.pk)
    assert org.short_name == "新一班团支部" and org.full_name == "新一班团支部全称"
    rows = client.get(reverse("my_requests")).context["rows"]
    assert rows[0].request.status == RequestStatus.APPROVED


def test_request_cannot_be_approved_by_the_old_superior_after_a_move(tree):
    own_edit(tree, short_name="新一班团支部")
    req = ApprovalRequest.objects.get(kind="org_info")
    org_services.org_move(actor=Actor(tree.wc_admin, tree.wc), org=tree.branch, new_parent=tree.wc)
    with pytest.raises(ApprovalError):
        request_approve(request_id=req.pk, actor=Actor(tree.gb_admin, tree.gb))
    req.refresh_from_db()
    assert req.is_pending and Org.objects.get(pk=tree.branch.pk).short_name == "一班团支部"
