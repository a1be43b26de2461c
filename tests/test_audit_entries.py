"""Issue 3's audit list, end to end through the pages: create, edit, approve, reject, cadre posts, login failure,
lockout and code generation each write one entry carrying who, the org they acted for, the org concerned,
what changed (before/after), when, and the client's address."""

import datetime as dt

import pytest
from captcha.conf import settings as captcha_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from approvals.models import ApprovalRequest
from audit.models import AuditEntry
from members.models import Member, Person

from . import factories as f
from .conftest import login_as

IP = "10.33.0.7"


@pytest.fixture(autouse=True)
def _captcha_test_mode(monkeypatch):
    monkeypatch.setattr(captcha_settings, "CAPTCHA_TEST_MODE", True)


def client_of(person, org=None) -> Client:
    if person.needs_password:
        person.set_password("Str0ng-pass!")
        person.password_set_at = timezone.now()
        person.save()
    return login_as(Client(REMOTE_ADDR=IP), person, org)


def only_entry(action: str, **filters) -> AuditEntry:
    entries = list(AuditEntry.objects.filter(action=action, **filters))
    assert len(entries) == 1, f"expected one {action} entry, found {len(entries)}"
    entry = entries[0]
    assert entry.at is not None and timezone.now() - entry.at < dt.timedelta(minutes=5)
    assert entry.ip == IP
    return entry


def test_member_add_page_records_who_org_after_and_address(tree):
    data = {
        "name": "韩梅梅", "id_number": f.next_id_number(birth=dt.date(2006, 1, 5)), "ethnicity": "汉族",
        "political_status": "共青团员", "joined_on": "2021-03", "development_number": "202103000001",
        "phone": "13900001234", "email": "", "education": "高中", "occupation": "学生",
    }
    response = client_of(tree.branch_admin, tree.branch).post(reverse("member_add", args=[tree.branch.pk]), data)
    assert response.status_code == 302
    member = Member.objects.get(person__id_number=data["id_number"])
    entry = only_entry("member.add", target_id=str(member.pk))
    assert (entry.actor_id, entry.acting_org_id, entry.org_id) == (tree.branch_admin.pk, tree.branch.pk,
                                                                   tree.branch.pk)
    assert entry.target_type == "members.member"
    assert entry.after["name"] == "韩梅梅" and entry.after["development_number"] == "202103000001"


def test_admin_edit_page_records_before_and_after(tree):
    person = tree.member.person
    person.phone = "13912345678"
    person.save()
    client = client_of(tree.gb_admin, tree.gb)  # the direct superior admin: effective at once
    form = client.get(reverse("member_edit", args=[tree.member.pk])).context["form"]
    data = {name: ("" if value is None else value) for name, value in form.initial.items()}
    data["joined_on"] = tree.member.joined_on.strftime("%Y-%m")
    data["phone"] = "13600001111"
    response = client.post(reverse("member_edit", args=[tree.member.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    entry = only_entry("member.update", target_id=str(tree.member.pk))
    assert (entry.actor_id, entry.acting_org_id, entry.org_id) == (tree.gb_admin.pk, tree.gb.pk, tree.branch.pk)
    # Whole phones never enter the trail (PIPL): the change is recorded as the lists show it.
    assert entry.before == {"phone": "139****5678"} and entry.after == {"phone": "136****1111"}


def _member_requests_phone(tree, phone: str) -> ApprovalRequest:
    person = tree.member.person
    person.phone = "13912345678"
    person.save()
    form = client_of(person).get(reverse("my_record_edit")).context["form"]
    data = {name: ("" if value is None else value) for name, value in form.initial.items()}
    data["joined_on"] = tree.member.joined_on.strftime("%Y-%m")
    data["phone"] = phone
    response = client_of(person).post(reverse("my_record_edit"), data)
    assert response.status_code == 302, response.context["form"].errors
    return ApprovalRequest.objects.get(kind="personal_info", target_id=tree.member.pk, status="pending")


def test_self_edit_and_inbox_approval_record_request_decision_and_change(tree):
    request = _member_requests_phone(tree, "13600002222")
    submitted = only_entry("request.submitted.personal_info")
    assert submitted.actor_id == tree.member.person.pk and submitted.org_id == tree.branch.pk
    assert submitted.before == {"phone": "139****5678"} and submitted.after == {"phone": "136****2222"}

    client = client_of(tree.branch_admin, tree.branch)
    response = client.post(reverse("inbox"), {"requests": [request.pk], "decision": "approve", "reason": "核实"})
    assert response.status_code == 302
    approved = only_entry("request.approved.personal_info")
    changed = only_entry("member.update", target_id=str(tree.member.pk))
    for entry in (approved, changed):
        assert (entry.actor_id, entry.acting_org_id, entry.org_id) == (tree.branch_admin.pk, tree.branch.pk,
                                                                       tree.branch.pk)
        assert entry.before == {"phone": "139****5678"} and entry.after == {"phone": "136****2222"}
    assert approved.reason == "核实"


def test_inbox_rejection_records_reason_and_status(tree):
    request = _member_requests_phone(tree, "13600003333")
    client = client_of(tree.branch_admin, tree.branch)
    client.post(reverse("inbox"), {"requests": [request.pk], "decision": "reject", "reason": "号码不实"})
    entry = only_entry("request.rejected.personal_info")
    assert (entry.actor_id, entry.acting_org_id, entry.org_id) == (tree.branch_admin.pk, tree.branch.pk,
                                                                   tree.branch.pk)
    assert entry.before == {"status": "pending"} and entry.after == {"status": "rejected"}
    assert entry.reason == "号码不实"
    assert not AuditEntry.objects.filter(action="member.update").exists()


def test_cadre_add_and_remove_pages_record_the_post(tree):
    client = client_of(tree.gb_admin, tree.gb)
    number = f.next_id_number()
    response = client.post(reverse("cadre_add", args=[tree.gb.pk]), {
        "name": "李雷", "id_number": number, "position": "宣传委员", "since": "2024-09-01", "nature": "兼职",
    })
    assert response.status_code == 302, response.context["form"].errors
    added = only_entry("cadre.add")
    assert (added.actor_id, added.acting_org_id, added.org_id) == (tree.gb_admin.pk, tree.gb.pk, tree.gb.pk)
    assert added.after["position"] == "宣传委员" and added.after["id_number"] != number  # masked in the trail
    cadre_pk = int(added.target_id)
    client.post(reverse("cadre_remove", args=[tree.gb.pk, cadre_pk]), {"reason": "换届"})
    removed = only_entry("cadre.remove")
    assert removed.before["position"] == "宣传委员" and removed.reason == "换届"
    assert removed.acting_org_id == tree.gb.pk


def test_login_failure_and_lockout_record_the_account_org_and_address(tree, settings):
    settings.ZHTJ_LOGIN_MAX_FAILURES = 2
    person = tree.member.person
    client = Client(REMOTE_ADDR=IP)
    for _attempt in range(2):
        client.post(reverse("login"), {"id_number": person.id_number, "password": "wrong-password",
                                       "captcha_0": "k", "captcha_1": "PASSED"})
    failed = list(AuditEntry.objects.filter(action="login.failed", target_id=str(person.pk)))
    assert len(failed) == 2 and all(e.ip == IP and e.org_id == tree.branch.pk for e in failed)
    locked = only_entry("login.locked", target_id=str(person.pk))
    assert locked.org_id == tree.branch.pk


def test_reset_code_generation_records_who_acted_and_for_whom(tree):
    client = client_of(tree.branch_admin, tree.branch)
    response = client.post(reverse("reset_code_issue", args=[tree.member.person.pk]))
    assert response.status_code == 200
    entry = only_entry("reset_code.issued", target_id=str(tree.member.person.pk))
    assert (entry.actor_id, entry.acting_org_id) == (tree.branch_admin.pk, tree.branch.pk)


def test_registration_code_generation_records_who_acted(tree):
    from orgs.codes import code_issue
    from orgs.permissions import Actor

    code_issue(actor=Actor(person=tree.gb_admin, org=tree.gb, ip=IP), org=tree.branch)
    entry = only_entry("code.issue")
    assert (entry.actor_id, entry.acting_org_id) == (tree.gb_admin.pk, tree.gb.pk)
    assert entry.org_id in (tree.branch.pk, tree.gb.pk)


def test_refused_edit_writes_no_entry(tree):
    client = client_of(tree.sibling_admin, tree.sibling)
    before = AuditEntry.objects.count()
    client.post(reverse("member_edit", args=[tree.member.pk]), {"phone": "13600009999"})
    assert AuditEntry.objects.count() == before
    assert Person.objects.get(pk=tree.member.person.pk).phone != "13600009999"
