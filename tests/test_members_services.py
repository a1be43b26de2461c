"""Member services: add, admin edit, status, personal-info requests through the approvals engine, export."""

import datetime as dt
import io
import itertools

import pytest
from django.utils import translation
from openpyxl import load_workbook

from approvals import services as approvals
from approvals.models import ApprovalRequest
from audit.models import AuditEntry
from members import services
from members.models import Member, Person
from members.rules import MemberInput
from members.selectors import MemberQuery
from members.services import MemberError
from orgs.permissions import Actor

from . import factories as f


@pytest.fixture(autouse=True)
def _english():
    # Messages are asserted in their English source form, whatever the compiled catalog holds.
    with translation.override("en"):
        yield


_devno = itertools.count(1)


def member_input(**overrides) -> MemberInput:
    values = dict(
        name="李四", id_number=f.next_id_number(birth=dt.date(2005, 3, 15)), ethnicity="汉族",
        political_status="共青团员", joined_on=dt.date(2020, 5, 1), development_number=f"2020{next(_devno):08d}",
        phone="13912345678", email="", education="高中", occupation="学生",
    )
    values.update(overrides)
    return MemberInput(**values)


def actor(person, org=None):
    return Actor(person=person, org=org)


def branch_admin(tree):
    return actor(tree.branch_admin, tree.branch)


def gb_admin(tree):
    return actor(tree.gb_admin, tree.gb)


def wc_admin(tree):
    return actor(tree.wc_admin, tree.wc)


# --- member_add --------------------------------------------------------------------------------------


def test_branch_admin_adds_member_with_passwordless_person_and_audit(tree):
    data = member_input()
    member = services.member_add(actor=branch_admin(tree), branch=tree.branch, data=data)
    assert member.branch_id == tree.branch.pk and member.status == "active"
    person = member.person
    assert person.id_number == data.id_number and person.phone == "13912345678"
    assert person.needs_password and not person.has_usable_password()
    entry = AuditEntry.objects.get(action="member.add", target_id=str(member.pk))
    assert entry.actor_id == tree.branch_admin.pk and entry.org_id == tree.branch.pk
    assert entry.after["phone"] == "139****5678"  # the trail never stores a whole phone (PIPL)


def test_direct_superior_admin_adds_member(tree):
    member = services.member_add(actor=gb_admin(tree), branch=tree.branch, data=member_input())
    assert member.branch_id == tree.branch.pk


@pytest.mark.parametrize("who", ["wc", "root", "sibling", "branch2", "outsider"])
def test_others_cannot_add_member(tree, who):
    acting = {"wc": (tree.wc_admin, tree.wc), "root": (tree.root_admin, tree.root),
              "sibling": (tree.sibling_admin, tree.sibling), "branch2": (tree.branch2_admin, tree.branch2),
              "outsider": (tree.outsider, tree.other_root)}[who]
    data = member_input()
    with pytest.raises(MemberError, match="admin"):
        services.member_add(actor=actor(*acting), branch=tree.branch, data=data)
    assert not Person.objects.filter(id_number=data.id_number).exists()


def test_member_cannot_be_added_to_a_general_branch(tree):
    data = member_input()
    with pytest.raises(MemberError, match="not a branch"):
        services.member_add(actor=wc_admin(tree), branch=tree.gb, data=data)
    assert not Person.objects.filter(id_number=data.id_number).exists()


def test_add_reports_rule_errors_by_field_and_changes_nothing(tree):
    data = member_input(phone="12345", development_number=None)
    with pytest.raises(MemberError) as exc:
        services.member_add(actor=branch_admin(tree), branch=tree.branch, data=data)
    assert set(exc.value.errors) == {"phone", "development_number"}
    assert not Person.objects.filter(id_number=data.id_number).exists()
    assert not AuditEntry.objects.filter(action="member.add").exists()


def test_over_age_person_cannot_be_added_and_message_has_date(tree):
    birth = dt.date(1990, 6, 1)
    data = member_input(id_number=f.next_id_number(birth=birth), joined_on=dt.date(2005, 5, 1),
                        development_number=None)
    with pytest.raises(MemberError) as exc:
        services.member_add(actor=branch_admin(tree), branch=tree.branch, data=data)
    assert "超龄" in exc.value.errors["id_number"] and "2018-06-01" in exc.value.errors["id_number"]
    assert not Member.objects.filter(person__id_number=data.id_number).exists()


def test_over_age_cadre_of_another_org_can_be_added(tree):
    birth = dt.date(1990, 6, 1)
    person = f.make_person(name="王五", birth=birth)
    f.make_cadre(tree.gb, person=person)
    data = member_input(name="王五", id_number=person.id_number, joined_on=dt.date(2005, 5, 1),
                        development_number=None)
    # The gb admin manages the gb's cadres and (as direct superior) the branch's members.
    member = services.member_add(actor=gb_admin(tree), branch=tree.branch, data=data)
    assert member.person_id == person.pk  # the existing person record is reused


@pytest.mark.parametrize("holder", ["gb_cadre", "gb_admin", "other_tree_admin", "sibling_member"])
def test_person_with_a_role_outside_the_subtree_cannot_be_taken_over(tree, holder):
    """Adding someone managed elsewhere would hand the branch admin their record and their account (reset
    codes): refused, nothing changes — whoever knows their name and ID number."""
    person = {
        "gb_cadre": lambda: f.make_cadre(tree.gb, person=f.make_person(name="王五")).person,
        "gb_admin": lambda: tree.gb_admin,
        "other_tree_admin": lambda: tree.outsider,
        "sibling_member": lambda: f.make_cadre(tree.sibling, person=f.make_person(name="王六")).person,
    }[holder]()
    phone = person.phone
    data = member_input(name=person.name, id_number=person.id_number, joined_on=dt.date(2015, 5, 1),
                        development_number=None, phone="13600000001")
    with pytest.raises(MemberError) as exc:
        services.member_add(actor=branch_admin(tree), branch=tree.branch, data=data)
    assert exc.value.errors["id_number"] == services.held_outside_message()
    person.refresh_from_db()
    assert person.phone == phone and not Member.objects.filter(person=person).exists()
    assert not AuditEntry.objects.filter(action="member.add").exists()
    assert AuditEntry.objects.filter(action="member.add_refused").count() == 1


def test_person_active_in_another_branch_cannot_be_added_and_the_message_names_no_org(tree):
    other = f.make_member(tree.branch2)
    data = member_input(name=other.person.name, id_number=other.person.id_number)
    with pytest.raises(MemberError) as exc:
        services.member_add(actor=branch_admin(tree), branch=tree.branch, data=data)
    assert exc.value.message == services.held_outside_message() and "办理转入" in exc.value.message
    assert tree.branch2.full_name not in exc.value.message and tree.branch2.short_name not in exc.value.message
    assert Member.objects.get(person=other.person).branch_id == tree.branch2.pk


def test_direct_superior_is_told_where_a_member_of_its_subtree_is(tree):
    other = f.make_member(tree.branch2)
    data = member_input(name=other.person.name, id_number=other.person.id_number)
    with pytest.raises(MemberError) as exc:
        services.member_add(actor=gb_admin(tree), branch=tree.branch, data=data)
    assert tree.branch2.full_name in exc.value.message and "transfer" in exc.value.message


def test_person_already_member_of_this_branch(tree):
    data = member_input(name=tree.member.person.name, id_number=tree.member.person.id_number)
    with pytest.raises(MemberError, match="already a member of this branch"):
        services.member_add(actor=branch_admin(tree), branch=tree.branch, data=data)


def test_known_id_number_with_other_name_is_refused(tree):
    person = f.make_cadre(tree.branch, person=f.make_person(name="赵六")).person  # a cadre the admin may see
    data = member_input(name="赵七", id_number=person.id_number)
    with pytest.raises(MemberError) as exc:
        services.member_add(actor=branch_admin(tree), branch=tree.branch, data=data)
    assert "赵六" in exc.value.errors["name"]
    assert not Member.objects.filter(person=person).exists()


@pytest.mark.parametrize("where", ["nowhere", "other_tree"])
def test_name_on_record_is_not_told_to_admins_who_may_not_see_the_person(tree, where):
    person = f.make_person(name="赵六")
    if where == "other_tree":
        f.make_cadre(tree.other_root, person=person)
    data = member_input(name="赵七", id_number=person.id_number)
    with pytest.raises(MemberError) as exc:
        services.member_add(actor=branch_admin(tree), branch=tree.branch, data=data)
    assert "赵六" not in exc.value.message
    if where == "other_tree":
        # Held elsewhere: the one answer, the same as with the right name (a wrong name confirms nothing).
        assert exc.value.errors == {"id_number": services.held_outside_message()}
    else:
        assert "another name" in exc.value.errors["name"]
    assert not Member.objects.filter(person=person).exists()
    person.refresh_from_db()
    assert person.name == "赵六"


def test_development_number_must_be_unique(tree):
    first = services.member_add(actor=branch_admin(tree), branch=tree.branch, data=member_input())
    data = member_input(development_number=first.development_number)
    with pytest.raises(MemberError) as exc:
        services.member_add(actor=branch_admin(tree), branch=tree.branch, data=data)
    assert "already belongs" in exc.value.errors["development_number"]
    assert not Person.objects.filter(id_number=data.id_number).exists()


def test_database_refuses_duplicate_development_number(tree):
    from django.db import IntegrityError, transaction

    f.make_member(tree.branch2, development_number="202001000042", joined_on=dt.date(2020, 1, 1))
    other = f.make_person(password=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        f.make_member(tree.branch, person=other, development_number="202001000042", joined_on=dt.date(2020, 1, 1))
    assert not Member.objects.filter(person=other).exists()


def test_database_refuses_second_member_record_for_a_person(tree):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        f.make_member(tree.branch2, person=tree.member.person)
    assert Member.objects.filter(person=tree.member.person).count() == 1


# --- member_update ------------------------------------------------------------------------------------


def added(tree, **overrides) -> Member:
    return services.member_add(actor=branch_admin(tree), branch=tree.branch, data=member_input(**overrides))


def test_branch_admin_edit_takes_effect_at_once_with_before_after_audit(tree):
    member = added(tree)
    services.member_update(actor=branch_admin(tree), member=member, changes={"phone": "13700000000",
                                                                               "occupation": "工人"})
    member.refresh_from_db()
    member.person.refresh_from_db()
    assert member.person.phone == "13700000000" and member.occupation == "工人"
    entry = AuditEntry.objects.get(action="member.update", target_id=str(member.pk))
    assert entry.before == {"phone": "139****5678", "occupation": "学生"}
    assert entry.after == {"phone": "137****0000", "occupation": "工人"}


def test_direct_superior_admin_edit_takes_effect_at_once(tree):
    member = added(tree)
    services.member_update(actor=gb_admin(tree), member=member, changes={"phone": "13700000001"})
    member.person.refresh_from_db()
    assert member.person.phone == "13700000001"


@pytest.mark.parametrize("who", ["wc", "root", "branch2", "sibling", "outsider", "member"])
def test_ancestor_above_superior_and_others_cannot_edit(tree, who):
    member = added(tree)
    acting = {"wc": (tree.wc_admin, tree.wc), "root": (tree.root_admin, tree.root),
              "branch2": (tree.branch2_admin, tree.branch2), "sibling": (tree.sibling_admin, tree.sibling),
              "outsider": (tree.outsider, tree.other_root), "member": (member.person, None)}[who]
    with pytest.raises(MemberError):
        services.member_update(actor=actor(*acting), member=member, changes={"phone": "13700000002"})
    member.person.refresh_from_db()
    assert member.person.phone == "13912345678"


def test_name_correction_needs_a_reason(tree):
    member = added(tree)
    with pytest.raises(MemberError) as exc:
        services.member_update(actor=branch_admin(tree), member=member, changes={"name": "李思"})
    assert "reason" in exc.value.errors
    member.person.refresh_from_db()
    assert member.person.name == "李四"


def test_id_number_correction_with_reason_is_audited_and_rederives_birth(tree):
    member = added(tree)
    new_id = f.next_id_number(birth=dt.date(2004, 7, 9))
    services.member_update(actor=branch_admin(tree), member=member, changes={"id_number": new_id},
                           reason="身份证号录入错误")
    member.person.refresh_from_db()
    assert member.person.id_number == new_id and member.person.birth_date == dt.date(2004, 7, 9)
    entry = AuditEntry.objects.get(action="member.update", target_id=str(member.pk))
    assert entry.reason == "身份证号录入错误" and entry.after["id_number"] == new_id[:6] + "*" * 8 + new_id[-4:]


def test_edit_refuses_invalid_values_and_changes_nothing(tree):
    member = added(tree)
    with pytest.raises(MemberError) as exc:
        services.member_update(actor=branch_admin(tree), member=member,
                               changes={"phone": "123", "development_number": "201901000001"})
    assert set(exc.value.errors) == {"phone", "development_number"}
    member.refresh_from_db()
    member.person.refresh_from_db()
    assert member.person.phone == "13912345678" and member.development_number.startswith("2020")
    assert not AuditEntry.objects.filter(action="member.update").exists()


def test_edit_refuses_development_number_of_another_member(tree):
    a, b = added(tree), added(tree)
    with pytest.raises(MemberError, match="already belongs"):
        services.member_update(actor=branch_admin(tree), member=b, changes={"development_number": a.development_number})


def test_edit_of_phone_works_for_member_over_28(tree):
    member = f.make_member(tree.branch, person=f.make_person(birth=dt.date(1990, 1, 1), password=None))
    services.member_update(actor=branch_admin(tree), member=member, changes={"phone": "13700000003"})
    member.person.refresh_from_db()
    assert member.person.phone == "13700000003"


# --- status -------------------------------------------------------------------------------------------


def test_admin_sets_status_aged_out_with_audit(tree):
    member = added(tree)
    services.member_set_status(actor=branch_admin(tree), member=member, status="aged_out", reason="满28周岁")
    member.refresh_from_db()
    assert member.status == "aged_out"
    assert AuditEntry.objects.filter(action="member.status", target_id=str(member.pk), reason="满28周岁").exists()


def test_over_age_member_cannot_be_reactivated(tree):
    member = f.make_member(tree.branch, person=f.make_person(birth=dt.date(1990, 1, 1), password=None),
                           status="aged_out")
    with pytest.raises(MemberError, match="超龄"):
        services.member_set_status(actor=branch_admin(tree), member=member, status="active")
    member.refresh_from_db()
    assert member.status == "aged_out"


def test_status_of_member_in_transfer_cannot_change(tree):
    from transfers import services as transfers

    transfers.transfer_out_submit(actor=Actor(person=tree.branch_admin, org=tree.branch, ip="127.0.0.1"),
                                  member_id=tree.member.pk, target_org_id=tree.branch2.pk, reason="工作调动",
                                  reason_text="")
    with pytest.raises(MemberError, match="transfer"):
        services.member_set_status(actor=branch_admin(tree), member=tree.member, status="left")
    tree.member.refresh_from_db()
    assert tree.member.status == "active"


def test_ancestor_above_cannot_set_status(tree):
    member = added(tree)
    with pytest.raises(MemberError):
        services.member_set_status(actor=wc_admin(tree), member=member, status="left")
    member.refresh_from_db()
    assert member.status == "active"


# --- personal info requests ---------------------------------------------------------------------------


def self_actor(member):
    return Actor(person=member.person, org=None)


def test_member_self_edit_is_pending_until_approved(tree):
    member = added(tree)
    request = services.personal_info_request(actor=self_actor(member), member=member,
                                             changes={"phone": "13600000000"})
    assert request.status == "pending" and request.deciding_org_id == tree.branch.pk
    assert request.changes == {"phone": ["13912345678", "13600000000"]}
    member.person.refresh_from_db()
    assert member.person.phone == "13912345678"  # nothing changes yet
    approvals.request_approve(request_id=request.pk, actor=branch_admin(tree))
    member.person.refresh_from_db()
    assert member.person.phone == "13600000000"
    assert AuditEntry.objects.filter(action="member.update", target_id=str(member.pk)).exists()


def test_direct_superior_admin_may_approve_personal_info(tree):
    member = added(tree)
    request = services.personal_info_request(actor=self_actor(member), member=member,
                                             changes={"occupation": "教师"})
    approvals.request_approve(request_id=request.pk, actor=gb_admin(tree))
    member.refresh_from_db()
    assert member.occupation == "教师"


def test_ancestor_above_superior_may_not_approve_personal_info(tree):
    member = added(tree)
    request = services.personal_info_request(actor=self_actor(member), member=member,
                                             changes={"occupation": "教师"})
    with pytest.raises(approvals.ApprovalError):
        approvals.request_approve(request_id=request.pk, actor=wc_admin(tree))
    member.refresh_from_db()
    assert member.occupation == "学生"


def test_rejected_request_keeps_record_and_keeps_reason(tree):
    member = added(tree)
    request = services.personal_info_request(actor=self_actor(member), member=member,
                                             changes={"phone": "13600000000"})
    approvals.request_reject(request_id=request.pk, actor=branch_admin(tree), reason="号码不是本人的")
    member.person.refresh_from_db()
    assert member.person.phone == "13912345678"
    request.refresh_from_db()
    assert request.status == "rejected" and request.decision_reason == "号码不是本人的"


def test_request_of_a_member_who_moved_to_another_branch_cannot_be_approved(tree):
    member = added(tree)
    request = services.personal_info_request(actor=self_actor(member), member=member,
                                             changes={"phone": "13600000000"})
    Member.objects.filter(pk=member.pk).update(branch=tree.branch2)  # as a completed transfer leaves it
    with pytest.raises(approvals.ApprovalError, match="moved to another branch"):
        approvals.request_approve(request_id=request.pk, actor=branch_admin(tree))
    member.person.refresh_from_db()
    request.refresh_from_db()
    assert member.person.phone == "13912345678" and request.status == "pending"
    assert not AuditEntry.objects.filter(action="request.approved.personal_info").exists()


@pytest.mark.parametrize("field,value", [("name", "李思"), ("id_number", "110101200001010011")])
def test_member_may_not_request_name_or_id_change(tree, field, value):
    member = added(tree)
    with pytest.raises(MemberError, match="branch admin"):
        services.personal_info_request(actor=self_actor(member), member=member, changes={field: value})
    assert not ApprovalRequest.objects.exists()


def test_self_edit_is_checked_against_the_rules(tree):
    member = added(tree)
    with pytest.raises(MemberError) as exc:
        services.personal_info_request(actor=self_actor(member), member=member, changes={"phone": "110"})
    assert "phone" in exc.value.errors
    assert not ApprovalRequest.objects.exists()


def test_only_the_member_may_request_for_themselves(tree):
    member = added(tree)
    with pytest.raises(MemberError):
        services.personal_info_request(actor=branch_admin(tree), member=member, changes={"phone": "13600000000"})
    assert not ApprovalRequest.objects.exists()


def test_one_pending_personal_info_request_at_a_time(tree):
    member = added(tree)
    services.personal_info_request(actor=self_actor(member), member=member, changes={"phone": "13600000000"})
    with pytest.raises(MemberError, match="already waiting"):
        services.personal_info_request(actor=self_actor(member), member=member, changes={"occupation": "x"})
    assert ApprovalRequest.objects.count() == 1


def test_stale_request_cannot_be_approved(tree):
    member = added(tree)
    request = services.personal_info_request(actor=self_actor(member), member=member,
                                             changes={"phone": "13600000000"})
    services.member_update(actor=branch_admin(tree), member=member, changes={"phone": "13500000000"})
    with pytest.raises(approvals.ApprovalError, match="changed"):
        approvals.request_approve(request_id=request.pk, actor=branch_admin(tree))
    member.person.refresh_from_db()
    assert member.person.phone == "13500000000"


def test_approval_rechecks_development_number_uniqueness(tree):
    a, b = added(tree), added(tree)
    free = f"2020{next(_devno):08d}"
    request = services.personal_info_request(actor=self_actor(b), member=b, changes={"development_number": free})
    services.member_update(actor=branch_admin(tree), member=a, changes={"development_number": free})
    with pytest.raises(approvals.ApprovalError, match="already belongs"):
        approvals.request_approve(request_id=request.pk, actor=branch_admin(tree))
    b.refresh_from_db()
    assert b.development_number != free


def test_join_date_change_is_serialised_and_applied(tree):
    member = added(tree)
    request = services.personal_info_request(
        actor=self_actor(member), member=member,
        changes={"joined_on": dt.date(2019, 9, 1), "development_number": "201909000123"},
    )
    assert request.changes["joined_on"] == ["2020-05-01", "2019-09-01"]
    approvals.request_approve(request_id=request.pk, actor=branch_admin(tree))
    member.refresh_from_db()
    assert member.joined_on == dt.date(2019, 9, 1) and member.development_number == "201909000123"


# --- export -------------------------------------------------------------------------------------------


def _rows(content):
    wb = load_workbook(io.BytesIO(content), read_only=True)
    return [list(r) for r in wb.active.iter_rows(values_only=True)]


def test_export_by_branch_admin_has_whole_values_and_personal_data_notice(tree):
    member = added(tree)
    content, count = services.member_export(actor=branch_admin(tree), org=tree.branch, query=MemberQuery())
    rows = _rows(content)
    assert count == 2
    assert "PIPL" in rows[0][0]
    ids = [r[1] for r in rows[2:]]
    assert member.person.id_number in ids
    assert AuditEntry.objects.filter(action="member.export", org=tree.branch).exists()


def test_export_by_ancestor_above_superior_is_masked(tree):
    member = added(tree)
    content, _count = services.member_export(actor=wc_admin(tree), org=tree.wc, query=MemberQuery())
    rows = _rows(content)
    ids = [r[1] for r in rows[2:]]
    assert member.person.id_number not in ids and member.person.masked_id_number in ids
    assert "13912345678" not in [r[8] for r in rows[2:]]


def test_export_outside_subtree_is_refused(tree):
    with pytest.raises(MemberError):
        services.member_export(actor=actor(tree.sibling_admin, tree.sibling), org=tree.branch, query=MemberQuery())
