"""Masking (PIPL): admins above a member's branch see ID numbers, phones and e-mails masked, so the member
search gives them whole-value matches only, the audit page masks every contact, and audit entries never
store a whole ID number or phone."""

import io
import re

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from audit.models import AuditEntry
from members.models import Member

from . import factories as f
from .conftest import login_as

PHONE = "13912345678"


def _client(person, org) -> Client:
    return login_as(Client(), person, org)


def _found(client, org, q) -> set[int]:
    response = client.get(reverse("member_list", args=[org.pk]), {"q": q}, follow=True)
    assert response.status_code == 200
    return {m.pk for m in response.context["page"].object_list}


@pytest.fixture
def person_in_branch(tree) -> Member:
    person = tree.member.person
    person.phone = PHONE
    person.email = "zhou@example.org"
    person.save()
    return tree.member


def _partials(member) -> list[str]:
    number = member.person.id_number
    return [number[-4:], number[-5:], number[-6:], PHONE[3:7], PHONE[5:9], PHONE[-4:], PHONE[:7]]


@pytest.mark.parametrize("who", [("wc_admin", "wc"), ("root_admin", "root")])
def test_masked_viewer_partial_id_or_phone_search_finds_nothing(tree, person_in_branch, who):
    client = _client(getattr(tree, who[0]), getattr(tree, who[1]))
    for org in (tree.branch, getattr(tree, who[1])):  # the branch's own list and the viewer's whole subtree
        for q in _partials(person_in_branch):
            assert _found(client, org, q) == set(), (org, q)


@pytest.mark.parametrize("who", [("wc_admin", "wc"), ("root_admin", "root")])
def test_masked_viewer_finds_the_person_by_the_whole_id_number_or_phone(tree, person_in_branch, who):
    client = _client(getattr(tree, who[0]), getattr(tree, who[1]))
    assert _found(client, tree.branch, person_in_branch.person.id_number) == {person_in_branch.pk}
    assert _found(client, tree.branch, PHONE) == {person_in_branch.pk}
    assert _found(client, tree.branch, person_in_branch.person.masked_id_number) == {person_in_branch.pk}


@pytest.mark.parametrize("who", [("branch_admin", "branch"), ("gb_admin", "gb")])
def test_viewers_of_whole_values_keep_partial_search(tree, person_in_branch, who):
    client = _client(getattr(tree, who[0]), getattr(tree, who[1]))
    for q in _partials(person_in_branch):
        assert _found(client, tree.branch, q) == {person_in_branch.pk}, q


def test_partial_search_in_a_mixed_list_matches_only_rows_the_viewer_sees_whole(tree, person_in_branch):
    # wc's list: the sibling branch is directly under wc (whole), `branch` is under gb (masked).
    near = f.make_member(tree.sibling, person=f.make_person(phone="13900005678"))
    client = _client(tree.wc_admin, tree.wc)
    assert _found(client, tree.wc, "5678") == {near.pk}
    assert _found(client, tree.wc, near.person.id_number[-6:]) == {near.pk}
    assert _found(client, tree.wc, person_in_branch.person.id_number[-6:]) == set()


def test_masked_viewer_partial_search_exports_nothing(tree, person_in_branch):
    client = _client(tree.root_admin, tree.root)
    response = client.get(reverse("member_export", args=[tree.root.pk]), {"q": PHONE[3:7]}, follow=True)
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert person_in_branch.person.name not in [c for row in rows for c in row]


# --- the audit page and the stored entries ------------------------------------------------------------------

_WHOLE_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
_WHOLE_PHONE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def _stored_text(entry: AuditEntry) -> str:
    return " ".join(str(x) for x in (entry.before, entry.after, entry.reason, entry.target_repr))


def assert_no_whole_numbers_stored() -> None:
    for entry in AuditEntry.objects.all():
        text = _stored_text(entry)
        assert not _WHOLE_ID.search(text), (entry.action, text)
        assert not _WHOLE_PHONE.search(text), (entry.action, text)


def test_audit_page_masks_emails_to_every_viewer(client, tree):
    AuditEntry.objects.create(action="member.update", org=tree.branch, target_repr="x",
                              before={"email": "zhou@example.org"}, after={"email": "li.si@example.com"})
    for person, org in ((tree.branch_admin, tree.branch), (tree.root_admin, tree.root)):
        body = login_as(Client(), person, org).get(reverse("audit_log")).content.decode()
        assert "zhou@example.org" not in body and "li.si@example.com" not in body
        assert "z***@example.org" in body and "l***@example.com" in body


def test_audit_page_masks_whole_numbers_inside_other_values(client, tree, person_in_branch):
    number = person_in_branch.person.id_number
    AuditEntry.objects.create(action="member.export", org=tree.branch, target_repr="x",
                              after={"filters": {"q": number}, "note": f"电话 {PHONE}"})
    body = login_as(client, tree.branch_admin, tree.branch).get(reverse("audit_log")).content.decode()
    assert number not in body and PHONE not in body


def test_member_add_stores_no_whole_id_number_or_phone(tree):
    client = _client(tree.branch_admin, tree.branch)
    number = f.next_id_number()
    response = client.post(reverse("member_add", args=[tree.branch.pk]), {
        "name": "韩梅梅", "id_number": number, "ethnicity": "汉族", "political_status": "共青团员",
        "joined_on": "2015-03", "development_number": "", "phone": "13900001234", "email": "han@example.org",
        "education": "高中", "occupation": "学生",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.get(action="member.add")
    assert entry.target_id == str(Member.objects.get(person__id_number=number).pk)  # the person, by pk
    assert entry.after["id_number"] == number[:6] + "********" + number[-4:]
    assert entry.after["phone"] == "139****1234"
    assert_no_whole_numbers_stored()


def test_member_edit_and_correction_store_no_whole_numbers(tree, person_in_branch):
    member = person_in_branch
    client = _client(tree.branch_admin, tree.branch)
    new_number = f.next_id_number()
    data = {
        "name": member.person.name, "id_number": new_number, "ethnicity": member.ethnicity,
        "political_status": member.political_status, "joined_on": f"{member.joined_on:%Y-%m}",
        "development_number": member.development_number or "", "phone": "13611112222",
        "email": member.person.email, "education": member.education, "occupation": member.occupation,
        "reason": f"身份证号录错，原为{member.person.id_number}",
    }
    response = client.post(reverse("member_edit", args=[member.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    member.person.refresh_from_db()
    assert member.person.id_number == new_number and member.person.phone == "13611112222"
    assert AuditEntry.objects.filter(action="member.update").exists()
    assert_no_whole_numbers_stored()


def test_personal_info_request_and_its_approval_store_no_whole_phone(tree, person_in_branch):
    member = person_in_branch
    member.person.set_password("Str0ng-pass!")
    from django.utils import timezone

    member.person.password_set_at = timezone.now()
    member.person.save()
    client = login_as(Client(), member.person)
    form = client.get(reverse("my_record_edit")).context["form"]
    data = {name: (value if value is not None else "") for name, value in form.initial.items()}
    data.update(phone="13611112222", joined_on=f"{member.joined_on:%Y-%m}")
    assert client.post(reverse("my_record_edit"), data).status_code == 302
    from approvals.models import ApprovalRequest

    request = ApprovalRequest.objects.get(kind="personal_info")
    gb = _client(tree.gb_admin, tree.gb)
    assert gb.post(reverse("request_decide", args=[request.pk]), {"decision": "approve"}).status_code == 302
    assert AuditEntry.objects.filter(action="request.approved.personal_info").exists()
    assert_no_whole_numbers_stored()


def test_export_with_a_whole_id_search_stores_no_whole_id(tree, person_in_branch):
    client = _client(tree.branch_admin, tree.branch)
    response = client.get(reverse("member_export", args=[tree.branch.pk]),
                          {"q": person_in_branch.person.id_number}, follow=True)
    assert response.status_code == 200
    assert AuditEntry.objects.filter(action="member.export").exists()
    assert_no_whole_numbers_stored()


def test_org_complete_and_org_contacts_store_no_whole_phone(tree):
    from orgs.permissions import Actor
    from orgs.services import org_update_info

    org_update_info(actor=Actor(person=tree.gb_admin, org=tree.gb), org=tree.branch,
                    changes={"contact_phone": "13800138000"})
    assert AuditEntry.objects.filter(action="org.update").exists()
    assert_no_whole_numbers_stored()


def test_cadre_add_of_a_new_person_stores_no_whole_numbers(tree):
    client = _client(tree.gb_admin, tree.gb)
    form = client.get(reverse("cadre_add", args=[tree.gb.pk])).context["form"]
    data = {name: "" for name in form.fields}
    data.update(name="李雷", id_number=f.next_id_number(), position="组织委员", since="2022-09-01",
                nature=form.fields["nature"].initial, phone="13700007777")
    response = client.post(reverse("cadre_add", args=[tree.gb.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    assert AuditEntry.objects.filter(action="cadre.add").exists()
    assert_no_whole_numbers_stored()
