"""The audit trail page: an admin reads the entries of their own subtree only, newest first, filtered and
paginated with a bounded number of queries; nobody can change or delete an entry."""

import datetime as dt

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry

from .conftest import login_as


def make_dated(org, action, at):
    return AuditEntry.objects.create(action=action, org=org, at=at, target_repr=str(org))


def test_admin_sees_entries_of_their_subtree_only(client, tree):
    inside = [make_dated(o, "org.update", timezone.now()) for o in (tree.gb, tree.branch, tree.branch2)]
    outside = [make_dated(o, "org.update", timezone.now()) for o in (tree.wc, tree.root, tree.sibling,
                                                                      tree.other_root)]
    login_as(client, tree.gb_admin, tree.gb)
    response = client.get(reverse("audit_log"))
    assert response.status_code == 200
    shown = {e.pk for e in response.context["page"].object_list}
    assert shown == {e.pk for e in inside}
    assert not shown & {e.pk for e in outside}


def test_root_admin_sees_whole_tree_but_not_other_tree(client, tree):
    mine = make_dated(tree.branch, "org.update", timezone.now())
    other = make_dated(tree.other_root, "org.update", timezone.now())
    login_as(client, tree.root_admin, tree.root)
    shown = {e.pk for e in client.get(reverse("audit_log")).context["page"].object_list}
    assert mine.pk in shown and other.pk not in shown


def test_entries_are_newest_first(client, tree):
    now = timezone.now()
    old = make_dated(tree.branch, "org.update", now - dt.timedelta(days=2))
    new = make_dated(tree.branch, "org.update", now)
    mid = make_dated(tree.branch, "org.update", now - dt.timedelta(days=1))
    login_as(client, tree.branch_admin, tree.branch)
    shown = [e.pk for e in client.get(reverse("audit_log")).context["page"].object_list]
    assert shown == [new.pk, mid.pk, old.pk]


def test_filter_by_action_and_date(client, tree):
    now = timezone.now()
    a = make_dated(tree.branch, "org.update", now - dt.timedelta(days=10))
    b = make_dated(tree.branch, "org.update", now)
    c = make_dated(tree.branch, "request.approved.org_info", now)
    login_as(client, tree.branch_admin, tree.branch)
    shown = {e.pk for e in client.get(reverse("audit_log"), {"action": "org.update"}).context["page"].object_list}
    assert shown == {a.pk, b.pk}
    since = timezone.localdate(now - dt.timedelta(days=1)).isoformat()
    shown = {e.pk for e in client.get(reverse("audit_log"), {"date_from": since}).context["page"].object_list}
    assert shown == {b.pk, c.pk}
    until = timezone.localdate(now - dt.timedelta(days=5)).isoformat()
    shown = {e.pk for e in client.get(reverse("audit_log"), {"date_to": until}).context["page"].object_list}
    assert shown == {a.pk}


def test_invalid_filter_shows_everything_without_error(client, tree):
    make_dated(tree.branch, "org.update", timezone.now())
    login_as(client, tree.branch_admin, tree.branch)
    response = client.get(reverse("audit_log"), {"date_from": "not-a-date"})
    assert response.status_code == 200 and len(response.context["page"].object_list) == 1


def test_audit_page_is_paginated_with_bounded_queries(client, tree, django_assert_max_num_queries):
    now = timezone.now()
    AuditEntry.objects.bulk_create([
        AuditEntry(action="org.update", org=tree.branch, actor=tree.branch_admin, acting_org=tree.branch,
                   at=now - dt.timedelta(minutes=i), target_repr="x") for i in range(120)
    ])
    login_as(client, tree.gb_admin, tree.gb)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("audit_log"))
    page = response.context["page"]
    assert len(page.object_list) == 50 and page.paginator.count == 120
    with django_assert_max_num_queries(10):
        response = client.get(reverse("audit_log"), {"page": 3})
    assert len(response.context["page"].object_list) == 20


def test_audit_page_refuses_anonymous_and_members(client, tree):
    response = client.get(reverse("audit_log"))
    assert response.status_code == 302 and reverse("login") in response["Location"]
    person = tree.member.person
    person.password_set_at = person.created_at
    person.save(update_fields=["password_set_at"])
    login_as(client, person)
    assert client.get(reverse("audit_log")).status_code == 403


def test_no_view_edits_or_deletes_entries(client, tree):
    e = make_dated(tree.branch, "org.update", timezone.now())
    login_as(client, tree.branch_admin, tree.branch)
    client.post(reverse("audit_log"), {"action": "x"})
    e.refresh_from_db()
    assert e.action == "org.update"


def test_entries_cannot_be_changed_or_deleted_through_the_model(tree):
    e = make_dated(tree.branch, "org.update", timezone.now())
    with pytest.raises(PermissionError):
        e.save()
    with pytest.raises(PermissionError):
        e.delete()


def test_database_refuses_updates_of_entries(tree):
    e = make_dated(tree.branch, "org.update", timezone.now())
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=e.pk).update(action="tampered")
    e.refresh_from_db()
    assert e.action == "org.update"


def test_database_refuses_deletes_of_entries(tree):
    e = make_dated(tree.branch, "org.update", timezone.now())
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=e.pk).delete()
    assert AuditEntry.objects.filter(pk=e.pk).exists()


def test_django_admin_registration_is_read_only(rf, tree):
    from django.contrib.admin.sites import site

    model_admin = site._registry[AuditEntry]
    request = rf.get("/")
    request.user = tree.root_admin
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_audit_page_masks_phone_and_id_numbers(client, tree):
    AuditEntry.objects.create(action="member.update", org=tree.branch, at=timezone.now(), target_repr="x",
                              before={"phone": "13912345678", "id_number": "11010120000101123X"},
                              after={"phone": "13611112222"})
    login_as(client, tree.branch_admin, tree.branch)
    body = client.get(reverse("audit_log")).content.decode()
    assert "139****5678" in body and "136****2222" in body and "110101********123X" in body
    assert "13912345678" not in body and "11010120000101123X" not in body


ACTIONS_WRITTEN = [
    "member.add", "member.update", "member.status", "member.export", "cadre.add", "cadre.remove",
    "person.create", "org.create", "org.update", "org.move", "org.delete", "org.complete", "org.admin_changed",
    "admin.register", "code.issue", "import.finished", "import.retry", "login.succeeded", "login.failed",
    "login.locked", "login.refused_locked", "login.unlocked", "logout", "password.set", "password.changed",
    "password.change_failed", "password.reset", "reset_code.issued", "reset_code.used", "reset_code.failed",
    "transfer.submit_out", "transfer.submit_in", "transfer.approve", "transfer.rejected", "transfer.withdrawn",
    "transfer.expired", "transfer.allocate", "transfer.allocation_expired",
]


@pytest.mark.parametrize("action", ACTIONS_WRITTEN)
def test_every_action_the_services_write_has_a_label(action):
    from approvals.templatetags.approvals_tags import action_label

    assert action_label(action) != action


def test_audit_page_names_actions_and_fields_in_chinese(client, tree, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    AuditEntry.objects.create(action="member.update", org=tree.branch, at=timezone.now(), target_repr="x",
                              before={"phone": "13912345678", "first_password": True},
                              after={"phone": "13611112222", "first_password": False})
    login_as(client, tree.branch_admin, tree.branch)
    body = client.get(reverse("audit_log"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "修改团员信息" in body and "手机号码: 139****5678" in body and "首次设置密码: 是" in body
    assert "phone:" not in body


def test_audit_page_shows_long_lists_as_a_count():
    from approvals.templatetags.approvals_tags import kv

    shown = kv({"people": [{"id": i} for i in range(2000)], "count": 2000})
    assert "2000" in shown and "'id'" not in shown and len(shown) < 200
    assert "'id': 1" in kv({"people": [{"id": 1}]})
