"""Admin change (管理员变更): the org's own admin hands the role to a cadre → pending until the direct superior
admin approves; the direct superior admin changes it at once; the old admin loses access that moment."""

import pytest
from django.urls import reverse

from approvals.models import ApprovalRequest, RequestStatus
from approvals.services import ApprovalError, request_approve, request_reject
from audit.models import AuditEntry
from members.admin_change import admin_change
from orgs.models import OrgAdmin
from orgs.permissions import Actor

from . import factories as f
from .conftest import login_as


def admin_of(org):
    return OrgAdmin.objects.get(org=org).person


def test_own_admin_hand_over_waits_for_superior(tree):
    cadre = f.make_cadre(tree.branch).person
    req = admin_change(actor=Actor(tree.branch_admin, tree.branch), org=tree.branch, new_admin=cadre, reason="换届")
    assert isinstance(req, ApprovalRequest)
    assert req.kind == "admin_change" and req.deciding_org == tree.gb and req.is_pending
    assert req.changes == {"admin": [tree.branch_admin.pk, cadre.pk]}
    assert admin_of(tree.branch) == tree.branch_admin  # nothing changes yet


def test_superior_approval_makes_the_cadre_admin(tree):
    cadre = f.make_cadre(tree.branch).person
    req = admin_change(actor=Actor(tree.branch_admin, tree.branch), org=tree.branch, new_admin=cadre, reason="换届")
    request_approve(request_id=req.pk, actor=Actor(tree.gb_admin, tree.gb))
    assert admin_of(tree.branch) == cadre
    assert AuditEntry.objects.filter(action="org.admin_changed", org=tree.branch,
                                     before={"admin": tree.branch_admin.pk}, after={"admin": cadre.pk}).exists()


def test_superior_rejection_keeps_the_admin(tree):
    cadre = f.make_cadre(tree.branch).person
    req = admin_change(actor=Actor(tree.branch_admin, tree.branch), org=tree.branch, new_admin=cadre, reason="换届")
    request_reject(request_id=req.pk, actor=Actor(tree.gb_admin, tree.gb), reason="人选不合适")
    assert admin_of(tree.branch) == tree.branch_admin


def test_direct_superior_change_takes_effect_at_once(tree):
    cadre = f.make_cadre(tree.branch).person
    outcome = admin_change(actor=Actor(tree.gb_admin, tree.gb), org=tree.branch, new_admin=cadre, reason="调整")
    assert isinstance(outcome, OrgAdmin)
    assert admin_of(tree.branch) == cadre
    assert not ApprovalRequest.objects.exists()
    entry = AuditEntry.objects.get(action="org.admin_changed")
    assert entry.actor_id == tree.gb_admin.pk and entry.org_id == tree.branch.pk


def test_new_admin_must_be_a_cadre_of_the_org(tree):
    not_cadre = f.make_person()
    cadre_elsewhere = f.make_cadre(tree.branch2).person
    for person in (not_cadre, cadre_elsewhere):
        for a in (Actor(tree.branch_admin, tree.branch), Actor(tree.gb_admin, tree.gb)):
            with pytest.raises(ApprovalError):
                admin_change(actor=a, org=tree.branch, new_admin=person, reason="x")
    assert admin_of(tree.branch) == tree.branch_admin and not ApprovalRequest.objects.exists()


def test_reason_is_required(tree):
    cadre = f.make_cadre(tree.branch).person
    with pytest.raises(ApprovalError):
        admin_change(actor=Actor(tree.branch_admin, tree.branch), org=tree.branch, new_admin=cadre, reason=" ")
    assert not ApprovalRequest.objects.exists()


@pytest.mark.parametrize("who", ["wc_admin", "root_admin", "branch2_admin", "sibling_admin", "outsider"])
def test_others_may_not_change_the_admin(tree, who):
    cadre = f.make_cadre(tree.branch).person
    org = {"wc_admin": tree.wc, "root_admin": tree.root, "branch2_admin": tree.branch2,
           "sibling_admin": tree.sibling, "outsider": tree.other_root}[who]
    with pytest.raises(ApprovalError):
        admin_change(actor=Actor(getattr(tree, who), org), org=tree.branch, new_admin=cadre, reason="x")
    assert admin_of(tree.branch) == tree.branch_admin and not ApprovalRequest.objects.exists()


def test_approval_refused_when_new_admin_no_longer_a_cadre(tree):
    cadre_post = f.make_cadre(tree.branch)
    req = admin_change(actor=Actor(tree.branch_admin, tree.branch), org=tree.branch, new_admin=cadre_post.person,
                       reason="换届")
    cadre_post.delete()
    with pytest.raises(ApprovalError):
        request_approve(request_id=req.pk, actor=Actor(tree.gb_admin, tree.gb))
    req.refresh_from_db()
    assert req.is_pending and admin_of(tree.branch) == tree.branch_admin


def test_pending_hand_over_becomes_stale_after_superior_changes_admin(tree):
    first = f.make_cadre(tree.branch).person
    second = f.make_cadre(tree.branch, position="宣传委员").person
    req = admin_change(actor=Actor(tree.branch_admin, tree.branch), org=tree.branch, new_admin=first, reason="换届")
    admin_change(actor=Actor(tree.gb_admin, tree.gb), org=tree.branch, new_admin=second, reason="调整")
    with pytest.raises(ApprovalError):
        request_approve(request_id=req.pk, actor=Actor(tree.gb_admin, tree.gb))
    assert admin_of(tree.branch) == second


def test_top_level_admin_cannot_hand_over_without_a_superior(tree):
    cadre = f.make_cadre(tree.root).person
    with pytest.raises(ApprovalError):
        admin_change(actor=Actor(tree.root_admin, tree.root), org=tree.root, new_admin=cadre, reason="x")
    assert admin_of(tree.root) == tree.root_admin


# --- the page ---------------------------------------------------------------------------------------------


def test_page_lists_cadres_as_candidates(client, tree):
    cadre = f.make_cadre(tree.branch).person
    f.make_cadre(tree.branch2)  # another org's cadre is not offered
    login_as(client, tree.branch_admin, tree.branch)
    response = client.get(reverse("admin_change", args=[tree.branch.pk]))
    assert response.status_code == 200
    assert list(response.context["form"].fields["new_admin"].queryset) == [cadre]
    # A Bootstrap radio (a bare browser radio looked broken beside the other controls), name and masked ID.
    assert 'class="form-check-input"' in response.content.decode()
    assert f"{cadre.name}（{cadre.masked_id_number}）" in response.content.decode()


def test_own_admin_submits_from_page(client, tree):
    cadre = f.make_cadre(tree.branch).person
    login_as(client, tree.branch_admin, tree.branch)
    response = client.post(reverse("admin_change", args=[tree.branch.pk]), {"new_admin": cadre.pk, "reason": "换届"})
    req = ApprovalRequest.objects.get(kind="admin_change")
    assert response.status_code == 302 and response["Location"] == reverse("request_detail", args=[req.pk])
    assert admin_of(tree.branch) == tree.branch_admin


def test_old_admin_loses_access_the_moment_the_change_is_approved(client, tree):
    from django.test import Client

    cadre = f.make_cadre(tree.branch).person
    old = login_as(client, tree.branch_admin, tree.branch)
    old.post(reverse("admin_change", args=[tree.branch.pk]), {"new_admin": cadre.pk, "reason": "换届"})
    req = ApprovalRequest.objects.get(kind="admin_change")
    assert old.get(reverse("audit_log")).status_code == 200  # still the admin while pending

    superior = login_as(Client(), tree.gb_admin, tree.gb)
    superior.post(reverse("inbox"), {"requests": [req.pk], "decision": "approve", "reason": ""})
    req.refresh_from_db()
    assert req.status == RequestStatus.APPROVED

    # The old admin's very next request no longer acts for the branch.
    assert old.get(reverse("audit_log")).status_code == 403
    assert old.get(reverse("admin_change", args=[tree.branch.pk])).status_code == 404
    new = login_as(Client(), cadre, tree.branch)
    assert new.get(reverse("admin_change", args=[tree.branch.pk])).status_code == 200


def test_superior_changes_at_once_from_page_and_old_admin_is_out(client, tree):
    from django.test import Client

    cadre = f.make_cadre(tree.branch).person
    old = login_as(Client(), tree.branch_admin, tree.branch)
    login_as(client, tree.gb_admin, tree.gb)
    response = client.post(reverse("admin_change", args=[tree.branch.pk]), {"new_admin": cadre.pk, "reason": "调整"})
    assert response.status_code == 302
    assert admin_of(tree.branch) == cadre
    assert old.get(reverse("inbox")).status_code == 403


def test_page_rejects_non_cadre_with_form_error(client, tree):
    stranger = f.make_person()
    login_as(client, tree.gb_admin, tree.gb)
    response = client.post(reverse("admin_change", args=[tree.branch.pk]), {"new_admin": stranger.pk, "reason": "x"})
    assert response.status_code == 200 and response.context["form"].errors
    assert admin_of(tree.branch) == tree.branch_admin


@pytest.mark.parametrize("who,status", [
    ("wc_admin", 403), ("root_admin", 403),  # ancestors above the direct superior may see, not change
    ("branch2_admin", 404), ("sibling_admin", 404), ("outsider", 404),
])
def test_page_refuses_others(client, tree, who, status):
    cadre = f.make_cadre(tree.branch).person
    org = {"wc_admin": tree.wc, "root_admin": tree.root, "branch2_admin": tree.branch2,
           "sibling_admin": tree.sibling, "outsider": tree.other_root}[who]
    login_as(client, getattr(tree, who), org)
    url = reverse("admin_change", args=[tree.branch.pk])
    assert client.get(url).status_code == status
    assert client.post(url, {"new_admin": cadre.pk, "reason": "x"}).status_code == status
    assert admin_of(tree.branch) == tree.branch_admin and not ApprovalRequest.objects.exists()


def test_page_refuses_anonymous_and_members(client, tree):
    url = reverse("admin_change", args=[tree.branch.pk])
    response = client.get(url)
    assert response.status_code == 302 and reverse("login") in response["Location"]
    person = tree.member.person
    person.password_set_at = person.created_at
    person.save(update_fields=["password_set_at"])
    login_as(client, person)
    assert client.get(url).status_code == 404


def test_hand_over_cannot_be_approved_by_the_old_superior_after_a_move(tree):
    from orgs.services import org_move

    cadre = f.make_cadre(tree.branch).person
    req = admin_change(actor=Actor(tree.branch_admin, tree.branch), org=tree.branch, new_admin=cadre, reason="换届")
    org_move(actor=Actor(tree.wc_admin, tree.wc), org=tree.branch, new_parent=tree.wc)
    with pytest.raises(ApprovalError):
        request_approve(request_id=req.pk, actor=Actor(tree.gb_admin, tree.gb))
    assert admin_of(tree.branch) == tree.branch_admin
