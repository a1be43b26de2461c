"""Member and cadre pages: the permission matrix of every view, masking per role, the self-edit flow through
the approvals engine, and a bounded number of queries for a 10,000-member branch list."""

import datetime as dt
import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from approvals import services as approvals
from approvals.models import ApprovalRequest
from audit.models import AuditEntry
from members import idnumber
from members.models import Cadre, Member, Person
from orgs.permissions import Actor

from . import factories as f
from .conftest import login_as

# Which response each actor gets on a page about `tree.branch` (or its member): for admins, the org they act for.
ADMINS = {
    "branch_admin": "branch", "gb_admin": "gb", "wc_admin": "wc", "root_admin": "root",
    "sibling_admin": "sibling", "branch2_admin": "branch2", "outsider": "other_root",
}


def client_for(tree, who: str) -> Client:
    client = Client()
    if who == "anonymous":
        return client
    if who == "member":
        person = tree.member.person
        _activate(person)
        return login_as(client, person)
    return login_as(client, getattr(tree, who), getattr(tree, ADMINS[who]))


def _activate(person: Person) -> None:
    """Give the person a real password so the activation redirect does not apply."""
    if person.needs_password:
        person.set_password("Str0ng-pass!")
        person.password_set_at = timezone.now()
        person.save()


def full_member(tree, **extra) -> Member:
    """tree.member with a phone and a known ID, so masking can be checked."""
    person = tree.member.person
    person.phone = "13912345678"
    person.email = "m@example.org"
    person.save()
    return tree.member


def status_of(response) -> int | str:
    if response.status_code == 302 and "/login/" in response["Location"]:
        return "login"
    return response.status_code


# --- member list ----------------------------------------------------------------------------------------

LIST_EXPECTED = {
    "branch_admin": 200, "gb_admin": 200, "wc_admin": 200, "root_admin": 200,
    "sibling_admin": 404, "branch2_admin": 404, "outsider": 404, "member": 404, "anonymous": "login",
}


@pytest.mark.parametrize("who", LIST_EXPECTED)
def test_member_list_permission_matrix(tree, who):
    response = client_for(tree, who).get(reverse("member_list", args=[tree.branch.pk]))
    assert status_of(response) == LIST_EXPECTED[who]


def test_member_list_shows_masked_id_and_phone(tree):
    member = full_member(tree)
    response = client_for(tree, "branch_admin").get(reverse("member_list", args=[tree.branch.pk]))
    text = response.content.decode()
    assert member.person.masked_id_number in text and "139****5678" in text
    assert member.person.id_number not in text and "13912345678" not in text


def test_member_list_search_by_last_digits_of_id_and_filters(tree):
    a = f.make_member(tree.branch, person=f.make_person(name="周一", password=None))
    b = f.make_member(tree.branch, person=f.make_person(name="吴二", password=None), political_status="中共党员")
    client = client_for(tree, "branch_admin")
    url = reverse("member_list", args=[tree.branch.pk])
    text = client.get(url, {"q": a.person.id_number[-6:]}).content.decode()
    assert "周一" in text and "吴二" not in text
    text = client.get(url, {"q": a.person.id_number}).content.decode()
    assert "周一" in text and "吴二" not in text
    text = client.get(url, {"political_status": "中共党员"}).content.decode()
    assert "吴二" in text and "周一" not in text
    text = client.get(url, {"q": "吴"}).content.decode()
    assert "吴二" in text and "周一" not in text
    assert b.pk


def test_member_list_search_by_phone(tree):
    member = full_member(tree)
    other = f.make_member(tree.branch, person=f.make_person(name="郑三", password=None, phone="13700001111"))
    client = client_for(tree, "branch_admin")
    text = client.get(reverse("member_list", args=[tree.branch.pk]), {"q": "13912345678"}).content.decode()
    assert member.person.name in text and other.person.name not in text


def test_member_list_hides_non_active_by_default_and_shows_them_on_filter(tree):
    left = f.make_member(tree.branch, person=f.make_person(name="冯退", password=None), status="left")
    client = client_for(tree, "branch_admin")
    url = reverse("member_list", args=[tree.branch.pk])
    assert "冯退" not in client.get(url).content.decode()
    assert "冯退" in client.get(url, {"status": "left"}).content.decode()
    assert "冯退" in client.get(url, {"status": "all"}).content.decode()
    assert left.pk


def test_higher_org_list_covers_its_branches(tree):
    f.make_member(tree.branch2, person=f.make_person(name="陈二班", password=None))
    text = client_for(tree, "wc_admin").get(reverse("member_list", args=[tree.gb.pk])).content.decode()
    assert "陈二班" in text and tree.member.person.name in text


def _bulk_branch(branch, n: int) -> None:
    base = dt.date(1999, 1, 1)
    people = []
    for i in range(n):
        number = idnumber.make("310101", base + dt.timedelta(days=i // 900), i % 900)
        info = idnumber.parse(number)
        people.append(Person(id_number=number, name=f"成员{i:05d}", gender=info.gender, birth_date=info.birth_date,
                             phone=f"139{i:08d}", password="!"))
    Person.objects.bulk_create(people, batch_size=2000)
    ids = Person.objects.filter(id_number__startswith="310101").values_list("pk", flat=True)
    Member.objects.bulk_create(
        [Member(person_id=pk, branch=branch, joined_on=dt.date(2014, 1 + pk % 12, 1)) for pk in ids], batch_size=2000
    )


@pytest.mark.parametrize("params", [{}, {"q": "成员0999"}, {"sort": "-age"}, {"sort": "joined", "page": "50"},
                                    {"gender": "F", "political_status": "共青团员"}])
def test_ten_thousand_member_list_renders_with_bounded_queries(tree, django_assert_max_num_queries, params):
    _bulk_branch(tree.branch, 10_000)
    client = client_for(tree, "branch_admin")
    url = reverse("member_list", args=[tree.branch.pk])
    # 3 queries are the list's own (count, page rows with person joined, open transfers of the page); the
    # rest are per request (session, user, acting org, inbox badge, session save). Independent of the rows.
    with django_assert_max_num_queries(12):
        response = client.get(url, params)
    assert response.status_code == 200
    assert response.context["page"].paginator.count >= (1 if params.get("q") else 1000)
    assert len(response.context["page"].object_list) <= 50


def _start_transfer(tree):
    from transfers import services as transfers

    return transfers.transfer_out_submit(
        actor=Actor(person=tree.branch_admin, org=tree.branch, ip="127.0.0.1"), member_id=tree.member.pk,
        target_org_id=tree.branch2.pk, reason="工作调动", reason_text="",
    )


def test_member_in_transfer_is_badged_in_list_and_detail(tree):
    _start_transfer(tree)
    client = client_for(tree, "branch_admin")
    assert 'data-testid="in-transfer"' in client.get(reverse("member_list", args=[tree.branch.pk])).content.decode()
    assert 'data-testid="in-transfer"' in client.get(reverse("member_detail", args=[tree.member.pk])).content.decode()


def test_member_in_transfer_has_no_status_form_on_detail(tree):
    client = client_for(tree, "branch_admin")
    assert 'data-testid="set-status"' in client.get(reverse("member_detail", args=[tree.member.pk])).content.decode()
    _start_transfer(tree)
    assert 'data-testid="set-status"' not in client.get(
        reverse("member_detail", args=[tree.member.pk])).content.decode()


def test_list_htmx_request_returns_rows_only(tree):
    response = client_for(tree, "branch_admin").get(reverse("member_list", args=[tree.branch.pk]),
                                                    {"political_status": "中共党员"}, HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert "no-members" in text and "<html" not in text
    # the total and the export link (with the filter) are refreshed out of band
    assert text.count('hx-swap-oob="true"') == 2 and "political_status=%E4%B8%AD%E5%85%B1%E5%85%9A%E5%91%98" in text


# --- export ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", LIST_EXPECTED)
def test_member_export_permission_matrix(tree, who):
    before = AuditEntry.objects.filter(action="member.export").count()
    response = client_for(tree, who).get(reverse("member_export", args=[tree.branch.pk]))
    assert status_of(response) == LIST_EXPECTED[who]
    exported = AuditEntry.objects.filter(action="member.export").count() - before
    assert exported == (1 if LIST_EXPECTED[who] == 200 else 0)


def test_export_is_xlsx_marked_as_personal_data(tree):
    member = full_member(tree)
    response = client_for(tree, "branch_admin").get(reverse("member_export", args=[tree.branch.pk]))
    assert "personal-data" in response["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.content))
    assert "personal" in (wb.properties.subject or "").lower() or "个人信息" in (wb.properties.subject or "")
    values = [c for row in wb.active.iter_rows(values_only=True) for c in row]
    assert member.person.id_number in values


# --- add ------------------------------------------------------------------------------------------------

ADD_EXPECTED = {
    "branch_admin": 200, "gb_admin": 200, "wc_admin": 403, "root_admin": 403,
    "sibling_admin": 404, "branch2_admin": 404, "outsider": 404, "member": 404, "anonymous": "login",
}


def add_form_data(**overrides) -> dict:
    data = {
        "name": "韩梅梅", "id_number": f.next_id_number(birth=dt.date(2006, 1, 5)), "ethnicity": "汉族",
        "political_status": "共青团员", "joined_on": "2021-03", "development_number": "202103000001",
        "phone": "+86 139 0000 1234", "email": "", "education": "高中", "occupation": "学生",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("who", ADD_EXPECTED)
def test_member_add_permission_matrix(tree, who):
    client = client_for(tree, who)
    url = reverse("member_add", args=[tree.branch.pk])
    assert status_of(client.get(url)) == ADD_EXPECTED[who]
    data = add_form_data()
    response = client.post(url, data)
    created = Person.objects.filter(id_number=data["id_number"]).exists()
    if ADD_EXPECTED[who] == 200:
        assert response.status_code == 302 and created
    else:
        assert status_of(response) == ADD_EXPECTED[who] and not created


def test_add_form_shows_rule_errors_and_creates_nothing(tree):
    client = client_for(tree, "branch_admin")
    data = add_form_data(development_number="201903000001", joined_on="2021年3月")
    response = client.post(reverse("member_add", args=[tree.branch.pk]), data)
    assert response.status_code == 200
    assert "development_number" in response.context["form"].errors
    assert not Person.objects.filter(id_number=data["id_number"]).exists()


def test_add_form_reports_rule_errors_beside_parse_errors(tree):
    client = client_for(tree, "branch_admin")
    data = add_form_data(joined_on="", phone="12", id_number="123")
    response = client.post(reverse("member_add", args=[tree.branch.pk]), data)
    errors = response.context["form"].errors
    assert {"joined_on", "phone", "id_number"} <= set(errors)
    assert not Person.objects.filter(name="韩梅梅").exists()


def test_add_form_normalises_phone(tree):
    client = client_for(tree, "branch_admin")
    data = add_form_data()
    client.post(reverse("member_add", args=[tree.branch.pk]), data)
    assert Person.objects.get(id_number=data["id_number"]).phone == "13900001234"


def test_add_form_refuses_a_member_of_another_branch_without_naming_it(tree):
    other = f.make_member(tree.branch2)
    client = client_for(tree, "branch_admin")
    data = add_form_data(name=other.person.name, id_number=other.person.id_number)
    response = client.post(reverse("member_add", args=[tree.branch.pk]), data)
    text = response.content.decode()
    assert response.status_code == 200 and "办理转入" in text
    assert tree.branch2.full_name not in text and tree.branch2.short_name not in text
    assert Member.objects.get(person=other.person).branch_id == tree.branch2.pk


# --- detail ---------------------------------------------------------------------------------------------

DETAIL_EXPECTED = {
    "branch_admin": "whole", "gb_admin": "whole", "wc_admin": "masked", "root_admin": "masked",
    "sibling_admin": 404, "branch2_admin": 404, "outsider": 404, "anonymous": "login",
}


@pytest.mark.parametrize("who", DETAIL_EXPECTED)
def test_member_detail_masking_per_role(tree, who):
    member = full_member(tree)
    response = client_for(tree, who).get(reverse("member_detail", args=[member.pk]))
    expected = DETAIL_EXPECTED[who]
    if expected in ("whole", "masked"):
        assert response.status_code == 200
        text = response.content.decode()
        if expected == "whole":
            assert member.person.id_number in text and "13912345678" in text
        else:
            assert member.person.id_number not in text and "13912345678" not in text
            assert member.person.masked_id_number in text
    else:
        assert status_of(response) == expected


def test_member_who_is_cadre_of_wc_stays_masked_to_wc_admin_and_edit_stays_with_branch(tree):
    member = full_member(tree)
    f.make_cadre(tree.wc, person=member.person)
    client = client_for(tree, "wc_admin")
    text = client.get(reverse("member_detail", args=[member.pk])).content.decode()
    # The page decides by the record (a branch below wc's direct subordinate), not by the person's posts.
    assert member.person.id_number not in text and member.person.masked_id_number in text
    assert "edit-member" not in text
    assert client.get(reverse("member_edit", args=[member.pk])).status_code == 403


def test_other_member_cannot_see_a_member(tree):
    other = f.make_member(tree.branch, person=f.make_person(password="Str0ng-pass!"))
    client = login_as(Client(), other.person)
    assert client.get(reverse("member_detail", args=[tree.member.pk])).status_code == 404


def test_member_opening_own_detail_goes_to_my_record(tree):
    response = client_for(tree, "member").get(reverse("member_detail", args=[tree.member.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("my_record")


# --- admin edit -----------------------------------------------------------------------------------------

EDIT_EXPECTED = {
    "branch_admin": 200, "gb_admin": 200, "wc_admin": 403, "root_admin": 403,
    "sibling_admin": 404, "branch2_admin": 404, "outsider": 404, "anonymous": "login",
}


def edit_data(member, **overrides) -> dict:
    person = member.person
    data = {
        "name": person.name, "id_number": person.id_number, "ethnicity": member.ethnicity,
        "political_status": member.political_status, "joined_on": f"{member.joined_on:%Y-%m}",
        "development_number": member.development_number or "", "phone": person.phone, "email": person.email,
        "education": member.education, "occupation": member.occupation, "reason": "",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("who", EDIT_EXPECTED)
def test_member_edit_permission_matrix(tree, who):
    member = full_member(tree)
    client = client_for(tree, who)
    url = reverse("member_edit", args=[member.pk])
    assert status_of(client.get(url)) == EDIT_EXPECTED[who]
    response = client.post(url, edit_data(member, phone="13600000000"))
    member.person.refresh_from_db()
    if EDIT_EXPECTED[who] == 200:
        assert response.status_code == 302 and member.person.phone == "13600000000"
    else:
        assert status_of(response) == EDIT_EXPECTED[who] and member.person.phone == "13912345678"


def test_member_cannot_use_admin_edit(tree):
    member = full_member(tree)
    client = client_for(tree, "member")
    response = client.post(reverse("member_edit", args=[member.pk]), edit_data(member, phone="13600000000"))
    assert response.status_code == 403
    member.person.refresh_from_db()
    assert member.person.phone == "13912345678"


def test_admin_name_correction_without_reason_is_refused_on_the_page(tree):
    member = full_member(tree)
    client = client_for(tree, "branch_admin")
    response = client.post(reverse("member_edit", args=[member.pk]), edit_data(member, name="改名"))
    assert response.status_code == 200 and "reason" in response.context["form"].errors
    member.person.refresh_from_db()
    assert member.person.name != "改名"
    client.post(reverse("member_edit", args=[member.pk]), edit_data(member, name="改名", reason="户口本为准"))
    member.person.refresh_from_db()
    assert member.person.name == "改名"
    assert AuditEntry.objects.get(action="member.update", target_id=str(member.pk)).reason == "户口本为准"


@pytest.mark.parametrize("who", EDIT_EXPECTED)
def test_member_set_status_permission_matrix(tree, who):
    response = client_for(tree, who).post(reverse("member_set_status", args=[tree.member.pk]), {"status": "left"})
    tree.member.refresh_from_db()
    if EDIT_EXPECTED[who] == 200:
        assert response.status_code == 302 and tree.member.status == "left"
    else:
        assert status_of(response) == EDIT_EXPECTED[who] and tree.member.status == "active"


# --- my record and self edit ----------------------------------------------------------------------------


def test_my_record_requires_login(tree):
    assert status_of(Client().get(reverse("my_record"))) == "login"
    assert status_of(Client().get(reverse("my_record_edit"))) == "login"


def test_member_sees_own_whole_record(tree):
    member = full_member(tree)
    text = client_for(tree, "member").get(reverse("my_record")).content.decode()
    assert member.person.id_number in text and "13912345678" in text


def test_self_edit_pending_then_approved_then_member_sees_new_value(tree):
    member = full_member(tree)
    client = client_for(tree, "member")
    data = edit_data(member, phone="13611112222")
    del data["name"], data["id_number"], data["reason"]
    response = client.post(reverse("my_record_edit"), data)
    assert response.status_code == 302
    request = ApprovalRequest.objects.get(kind="personal_info", target_id=member.pk)
    assert request.status == "pending"
    text = client.get(reverse("my_record")).content.decode()
    assert "pending-request" in text and "13611112222" in text
    member.person.refresh_from_db()
    assert member.person.phone == "13912345678"
    # a second request while one is pending is refused
    response = client.post(reverse("my_record_edit"), dict(data, occupation="工人"))
    assert response.status_code == 200 and ApprovalRequest.objects.count() == 1
    approvals.request_approve(request_id=request.pk, actor=Actor(person=tree.branch_admin, org=tree.branch))
    text = client.get(reverse("my_record")).content.decode()
    assert "13611112222" in text and "last-request" in text


def test_self_edit_rejected_member_sees_reason(tree):
    member = full_member(tree)
    client = client_for(tree, "member")
    data = edit_data(member, phone="13611112222")
    del data["name"], data["id_number"], data["reason"]
    client.post(reverse("my_record_edit"), data)
    request = ApprovalRequest.objects.get(kind="personal_info", target_id=member.pk)
    approvals.request_reject(request_id=request.pk, actor=Actor(person=tree.branch_admin, org=tree.branch),
                             reason="请填写本人手机号")
    text = client.get(reverse("my_record")).content.decode()
    assert "请填写本人手机号" in text
    member.person.refresh_from_db()
    assert member.person.phone == "13912345678"


def test_member_withdraws_pending_request_from_my_record(tree):
    member = full_member(tree)
    client = client_for(tree, "member")
    data = edit_data(member, phone="13611112222")
    del data["name"], data["id_number"], data["reason"]
    client.post(reverse("my_record_edit"), data)
    request = ApprovalRequest.objects.get(kind="personal_info", target_id=member.pk)
    text = client.get(reverse("my_record")).content.decode()
    assert reverse("request_withdraw", args=[request.pk]) in text
    client.post(reverse("request_withdraw", args=[request.pk]))
    request.refresh_from_db()
    assert request.status == "withdrawn"
    member.person.refresh_from_db()
    assert member.person.phone == "13912345678"
    assert "edit-my-record" in client.get(reverse("my_record")).content.decode()


def test_self_edit_cannot_change_name_even_if_posted(tree):
    member = full_member(tree)
    client = client_for(tree, "member")
    data = edit_data(member, name="篡改", phone="13611112222")
    client.post(reverse("my_record_edit"), data)
    request = ApprovalRequest.objects.get(kind="personal_info", target_id=member.pk)
    assert set(request.changes) == {"phone"}


def test_self_edit_invalid_value_shows_error_and_files_nothing(tree):
    member = full_member(tree)
    client = client_for(tree, "member")
    data = edit_data(member, phone="12")
    del data["name"], data["id_number"], data["reason"]
    response = client.post(reverse("my_record_edit"), data)
    assert response.status_code == 200 and "phone" in response.context["form"].errors
    assert not ApprovalRequest.objects.exists()


def test_admin_without_member_record_sees_my_record_page_and_no_edit(tree):
    client = client_for(tree, "wc_admin")
    assert client.get(reverse("my_record")).status_code == 200
    assert client.get(reverse("my_record_edit")).status_code == 404


# --- cadres ---------------------------------------------------------------------------------------------

CADRE_LIST_EXPECTED = {
    "gb_admin": 200, "wc_admin": 200, "root_admin": 200, "branch_admin": 404, "sibling_admin": 404,
    "outsider": 404, "member": 404, "anonymous": "login",
}
CADRE_MANAGE_EXPECTED = {
    "gb_admin": 200, "wc_admin": 200, "root_admin": 403, "branch_admin": 404, "sibling_admin": 404,
    "outsider": 404, "member": 404, "anonymous": "login",
}


@pytest.mark.parametrize("who", CADRE_LIST_EXPECTED)
def test_cadre_list_permission_matrix(tree, who):
    f.make_cadre(tree.gb, position="书记")
    response = client_for(tree, who).get(reverse("cadre_list", args=[tree.gb.pk]))
    assert status_of(response) == CADRE_LIST_EXPECTED[who]
    if response.status_code == 200:
        manage = CADRE_MANAGE_EXPECTED[who] == 200
        assert ("add-cadre" in response.content.decode()) == manage


@pytest.mark.parametrize("who", CADRE_MANAGE_EXPECTED)
def test_cadre_add_permission_matrix(tree, who):
    client = client_for(tree, who)
    url = reverse("cadre_add", args=[tree.gb.pk])
    assert status_of(client.get(url)) == CADRE_MANAGE_EXPECTED[who]
    number = f.next_id_number(birth=dt.date(1995, 1, 1))
    response = client.post(url, {"name": "褚干部", "id_number": number, "position": "副书记", "since": "2023-09-01",
                                 "nature": "兼职", "ethnicity": "汉族", "political_status": "中共党员", "phone": ""})
    created = Cadre.objects.filter(org=tree.gb, person__id_number=number).exists()
    if CADRE_MANAGE_EXPECTED[who] == 200:
        assert response.status_code == 302 and created
    else:
        assert status_of(response) == CADRE_MANAGE_EXPECTED[who] and not created


@pytest.mark.parametrize("who", CADRE_MANAGE_EXPECTED)
def test_cadre_remove_permission_matrix(tree, who):
    cadre = f.make_cadre(tree.gb, position="书记")
    response = client_for(tree, who).post(reverse("cadre_remove", args=[tree.gb.pk, cadre.pk]))
    exists = Cadre.objects.filter(pk=cadre.pk).exists()
    if CADRE_MANAGE_EXPECTED[who] == 200:
        assert response.status_code == 302 and not exists
    else:
        assert status_of(response) == CADRE_MANAGE_EXPECTED[who] and exists


def test_second_secretary_refused_on_the_page(tree):
    f.make_cadre(tree.gb, position="书记", person=f.make_person(name="现任书记"))
    client = client_for(tree, "gb_admin")
    response = client.post(reverse("cadre_add", args=[tree.gb.pk]), {
        "name": "新人", "id_number": f.next_id_number(birth=dt.date(1995, 1, 1)), "position": "书记",
        "since": "2023-09-01", "nature": "兼职", "ethnicity": "汉族", "political_status": "中共党员",
    })
    assert response.status_code == 200 and "现任书记" in response.content.decode()
    assert Cadre.objects.filter(org=tree.gb, position="书记").count() == 1


def test_member_list_sorts_by_name_join_date_and_age(tree):
    old = f.make_member(tree.branch, person=f.make_person(name="乙", birth=dt.date(2000, 3, 1)),
                        joined_on=dt.date(2014, 5, 1))
    young = f.make_member(tree.branch, person=f.make_person(name="甲", birth=dt.date(2004, 3, 1)),
                          joined_on=dt.date(2019, 5, 1), development_number="201900000001")
    client = client_for(tree, "branch_admin")
    url = reverse("member_list", args=[tree.branch.pk])

    def order(sort: str) -> list[int]:
        rows = client.get(url, {"sort": sort}).context["page"].object_list
        return [m.pk for m in rows if m.pk in (old.pk, young.pk)]

    assert order("joined") == [old.pk, young.pk]
    assert order("-joined") == [young.pk, old.pk]
    assert order("age") == [young.pk, old.pk]  # youngest first
    assert order("-age") == [old.pk, young.pk]


def test_member_list_pages_do_not_overlap_and_cover_the_branch(tree):
    from members import selectors

    for _ in range(7):
        f.make_member(tree.branch)
    total = Member.objects.filter(branch=tree.branch, status="active").count()
    seen: list[int] = []
    for number in (1, 2, 3, 4):
        page = selectors.member_page(tree.branch, selectors.MemberQuery(sort="joined", page=number), per_page=3)
        if page.number != number:  # past the last page: get_page answers with the last one
            break
        seen += [m.pk for m in page.object_list]
    assert len(seen) == len(set(seen)) == total


def test_cadre_list_query_count_does_not_grow_with_cadres(tree, django_assert_max_num_queries):
    client = client_for(tree, "gb_admin")
    url = reverse("cadre_list", args=[tree.gb.pk])
    f.make_cadre(tree.gb)
    client.get(url)  # warm per-process caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for _ in range(25):
        f.make_cadre(tree.gb)
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(url)
    assert len(response.context["cadres"]) >= 26


@pytest.mark.parametrize("status", ["", "dead", "ACTIVE"])
def test_set_status_page_refuses_unknown_status_and_changes_nothing(tree, status):
    client = client_for(tree, "branch_admin")
    before = AuditEntry.objects.count()
    response = client.post(reverse("member_set_status", args=[tree.member.pk]), {"status": status}, follow=True)
    tree.member.refresh_from_db()
    assert tree.member.status == "active" and AuditEntry.objects.count() == before
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_set_status_page_refuses_reactivating_an_over_age_member_with_the_reason(tree):
    member = f.make_member(tree.branch, person=f.make_person(birth=dt.date(1990, 1, 1), password=None),
                           status="aged_out")
    client = client_for(tree, "branch_admin")
    before = AuditEntry.objects.count()
    response = client.post(reverse("member_set_status", args=[member.pk]), {"status": "active"}, follow=True)
    member.refresh_from_db()
    assert member.status == "aged_out" and AuditEntry.objects.count() == before
    assert any("超龄" in str(m) for m in response.context["messages"])


def test_set_status_page_records_the_reason(tree):
    client = client_for(tree, "branch_admin")
    client.post(reverse("member_set_status", args=[tree.member.pk]), {"status": "left", "reason": "本人申请退团"})
    entry = AuditEntry.objects.get(action="member.status", target_id=str(tree.member.pk))
    assert entry.before == {"status": "active"} and entry.after == {"status": "left"}
    assert entry.reason == "本人申请退团"


def test_my_record_links_to_my_requests_and_cadre_card_is_not_offset(tree):
    text = client_for(tree, "member").get(reverse("my_record")).content.decode()
    assert f'href="{reverse("my_requests")}"' in text
    assert 'class="card shadow-sm" data-testid="cadre-posts"' in text  # first card of its column: no top margin


def test_member_list_search_by_the_masked_values_it_shows(tree):
    member = full_member(tree)
    other = f.make_member(tree.branch, person=f.make_person(name="郑三", password=None, phone="13700005678"))
    client = client_for(tree, "branch_admin")
    url = reverse("member_list", args=[tree.branch.pk])

    def found(q: str) -> set[int]:
        return {m.pk for m in client.get(url, {"q": q}).context["page"].object_list}

    assert found(member.person.masked_id_number) == {member.pk}
    assert found(member.person.masked_phone) == {member.pk}  # 139****5678, not 137****5678
    assert found(other.person.masked_phone.replace("*", "＊")) == {other.pk}  # full-width asterisks
    assert found("999999********0000") == set()


def test_export_query_count_does_not_grow_with_rows(tree, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(tree, "gb_admin")  # a higher org: rows of several branches, whole and masked
    url = reverse("member_export", args=[tree.gb.pk])
    client.get(url)  # warm per-process caches
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _bulk_branch(tree.branch, 600)
    for _ in range(5):
        f.make_member(tree.branch2)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert load_workbook(io.BytesIO(response.content)).active.max_row > 600


@pytest.mark.parametrize("view", ["member_list", "member_export", "member_add", "cadre_list", "cadre_add"])
def test_descendant_admin_gets_404_on_the_pages_of_a_higher_org(tree, view):
    """The branch admin below gb, and the member, may not open gb's pages; nothing is exported or audited."""
    before = AuditEntry.objects.count()
    for who in ("branch_admin", "member"):
        response = client_for(tree, who).get(reverse(view, args=[tree.gb.pk]))
        assert response.status_code == 404
    assert AuditEntry.objects.count() == before
