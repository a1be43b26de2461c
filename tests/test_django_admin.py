"""The Django admin site is read-only for every business model: changes go through the services and the audit.

An operator with a superuser account may list and look at orgs, people, members, requests, transfers, imports
and the audit trail there, but an add, change or delete posted to /django-admin/ is refused (403) and changes
nothing: renaming an org or handing its admin role to someone else there would skip the rules and leave no
audit entry.
"""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from approvals.models import ApprovalRequest
from audit.models import AuditEntry
from imports.models import ImportJob
from members.models import Cadre, Member, Person
from orgs.models import Org, OrgAdmin, OrgType, RegistrationCode
from transfers.models import Transfer

from . import factories as f

BUSINESS_APPS = ("orgs", "members", "approvals", "transfers", "imports", "audit")
# Models with no admin page at all: reset codes hold nothing an operator should look at (only a hash).
# Reset codes are secrets; subtree counts are derived rows the database triggers keep (check_org_tree checks them).
NOT_REGISTERED = {"members.resetcode", "orgs.subtreecount"}


@pytest.fixture
def superuser(db):
    return Person.objects.create_superuser(f.next_id_number(), "运维", password="Super-pass-2026")


@pytest.fixture
def su_client(client, superuser):
    client.force_login(superuser)
    return client


def _state() -> tuple:
    return (
        list(Org.objects.order_by("pk").values_list("pk", "short_name", "full_name", "parent_id", "type_id")),
        list(OrgAdmin.objects.order_by("pk").values_list("pk", "org_id", "person_id")),
        list(OrgType.objects.order_by("pk").values_list("pk", "name", "code")),
        list(RegistrationCode.objects.order_by("pk").values_list("pk", "revoked_at", "used_at")),
        list(Person.objects.order_by("pk").values_list("pk", "name", "id_number", "is_active")),
        list(Member.objects.order_by("pk").values_list("pk", "branch_id", "status")),
        list(Cadre.objects.order_by("pk").values_list("pk", "org_id", "position")),
        ApprovalRequest.objects.count(), Transfer.objects.count(), ImportJob.objects.count(),
        AuditEntry.objects.count(),
    )


def _business_models():
    return [m for app in BUSINESS_APPS for m in apps.get_app_config(app).get_models()]


def test_every_business_model_is_shown_read_only_in_the_django_admin(rf, superuser):
    request = rf.get("/")
    request.user = superuser
    for model in _business_models():
        label = model._meta.label_lower
        if label in NOT_REGISTERED:
            assert not admin.site.is_registered(model), label
            continue
        assert admin.site.is_registered(model), label
        model_admin = admin.site.get_model_admin(model)
        assert model_admin.has_view_permission(request), label
        assert not model_admin.has_add_permission(request), label
        assert not model_admin.has_change_permission(request), label
        assert not model_admin.has_delete_permission(request), label


def test_superuser_renaming_an_org_in_the_django_admin_is_refused_and_changes_nothing(su_client, tree):
    url = reverse("admin:orgs_org_change", args=[tree.gb.pk])
    page = su_client.get(url)
    assert page.status_code == 200
    assert "学院团总支" in page.content.decode()
    before = _state()
    response = su_client.post(url, {"short_name": "被改名", "full_name": "被改名全称", "contact_phone": "",
                                    "contact_email": "", "secretary_is_deputy": ""})
    assert response.status_code == 403
    assert _state() == before
    assert Org.objects.get(pk=tree.gb.pk).short_name == "学院团总支"


def test_superuser_handing_an_admin_role_over_in_the_django_admin_is_refused(su_client, tree):
    role = OrgAdmin.objects.get(org=tree.branch)
    url = reverse("admin:orgs_orgadmin_change", args=[role.pk])
    assert su_client.get(url).status_code == 200
    before = _state()
    response = su_client.post(url, {"org": tree.branch.pk, "person": tree.outsider.pk,
                                    "assigned_by": "", "assigned_at_0": "2026-01-01", "assigned_at_1": "00:00:00"})
    assert response.status_code == 403
    assert _state() == before
    assert OrgAdmin.objects.get(org=tree.branch).person == tree.branch_admin


@pytest.mark.parametrize("model", [Org, OrgAdmin, OrgType, RegistrationCode, Person, Member, Cadre])
def test_superuser_adding_or_deleting_in_the_django_admin_is_refused(su_client, tree, model):
    opts = model._meta
    obj = model.objects.order_by("pk").last()
    before = _state()
    add = su_client.post(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"), {"name": "新增"})
    assert add.status_code == 403
    if obj is not None:
        delete = su_client.post(reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[obj.pk]),
                                {"post": "yes"})
        assert delete.status_code == 403
    assert _state() == before


def test_superuser_bulk_delete_action_is_not_offered(su_client, tree):
    before = _state()
    response = su_client.post(reverse("admin:orgs_org_changelist"),
                              {"action": "delete_selected", "_selected_action": [tree.branch2.pk], "post": "yes"})
    # Without delete permission the action does not exist: the list answers with no deletion.
    assert response.status_code in (200, 302)
    assert _state() == before


def test_superuser_can_list_every_business_model_in_the_django_admin(su_client, tree):
    f.make_cadre(tree.gb)
    ImportJob.objects.create(org=tree.branch, kind="member", file_name="a.xlsx", created_by=tree.branch_admin)
    for model in _business_models():
        opts = model._meta
        if opts.label_lower in NOT_REGISTERED:
            continue
        response = su_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        assert response.status_code == 200, opts.label
        obj = model.objects.order_by("pk").first()
        if obj is not None:
            detail = su_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
            assert detail.status_code == 200, opts.label
