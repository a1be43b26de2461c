"""Registering as an org's admin with a code, and the code pages: every rule, error and who may see what."""

import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from audit.models import AuditEntry
from members.middleware import ACTING_ORG_SESSION_KEY
from members.models import Person
from orgs import codes
from orgs.admin_registration import admin_register
from orgs.codes import CodeError, code_issue, hash_code
from orgs.models import OrgAdmin, RegistrationCode
from orgs.permissions import Actor

from . import factories as f
from .conftest import login_as, role_relative_to_gb

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    # The messages are asserted in their English source form, whatever the compiled catalog holds.
    with translation.override("en"):
        yield

PASSWORD = "Kx7#mq-2Lp!a"


def issue(tree, org=None) -> str:
    org = org or tree.branch
    boss = {tree.gb.pk: tree.gb_admin, tree.wc.pk: tree.wc_admin, tree.root.pk: tree.root_admin}[org.parent_id]
    return code_issue(actor=Actor(person=boss, org=org.parent), org=org)


def register(org, code, **kw):
    data = {"name": "新管理员", "id_number": f.next_id_number(), "phone": "13800138000", "password": PASSWORD,
            "ip": "10.1.1.1"}
    data.update(kw)
    return admin_register(org=org, code=code, **data)


def nothing_consumed(org):
    return RegistrationCode.objects.filter(org=org, used_at__isnull=False).count() == 0


# --- the service ---------------------------------------------------------------------------------------------


def test_registering_with_the_code_makes_a_new_person_the_admin(tree):
    code = issue(tree)
    number = f.next_id_number()
    person = register(tree.branch, code, id_number=number, name="王小明")
    assert person.id_number == number and person.name == "王小明" and person.phone == "13800138000"
    assert person.check_password(PASSWORD) and not person.needs_password
    assignment = OrgAdmin.objects.get(org=tree.branch)
    assert assignment.person == person and assignment.assigned_by == tree.gb_admin
    row = RegistrationCode.objects.get(org=tree.branch)
    assert row.used_by == person and row.used_at is not None
    entry = AuditEntry.objects.get(action="admin.register")
    assert entry.actor == person and entry.org_id == tree.branch.pk and entry.ip == "10.1.1.1"
    assert entry.before == {"admin_id": tree.branch_admin.pk, "admin": tree.branch_admin.name}
    assert code not in str(entry.after)


def test_registering_replaces_the_previous_admin(tree):
    code = issue(tree)
    person = register(tree.branch, code)
    assert OrgAdmin.objects.filter(org=tree.branch).count() == 1
    assert OrgAdmin.objects.get(org=tree.branch).person == person
    assert not OrgAdmin.objects.filter(person=tree.branch_admin).exists()


def test_registering_an_org_without_admin_creates_the_assignment(tree):
    org = f.make_org("branch", parent=tree.gb, code="B0010")
    person = register(org, issue(tree, org))
    assert OrgAdmin.objects.get(org=org).person == person
    assert AuditEntry.objects.get(action="admin.register").before is None


def test_wrong_code_names_the_cause_and_changes_nothing(tree):
    issue(tree)
    with pytest.raises(CodeError, match="case-sensitive") as exc:
        register(tree.branch, "AAAAAAAAAA")
    assert exc.value.field == "code"
    assert nothing_consumed(tree.branch) and OrgAdmin.objects.get(org=tree.branch).person == tree.branch_admin
    assert not AuditEntry.objects.filter(action="admin.register").exists()


def test_code_with_changed_letter_case_is_refused(tree):
    code = issue(tree)
    while code.swapcase() == code:  # all digits: vanishingly rare, but then the test would prove nothing
        code = issue(tree)
    before = Person.objects.count()
    with pytest.raises(CodeError, match="case-sensitive"):
        register(tree.branch, code.lower() if code.lower() != code else code.swapcase())
    with pytest.raises(CodeError, match="case-sensitive"):
        register(tree.branch, code.swapcase())
    assert nothing_consumed(tree.branch) and Person.objects.count() == before


def test_surrounding_spaces_are_ignored(tree):
    code = issue(tree)
    person = register(tree.branch, f"  {code} ")
    assert OrgAdmin.objects.get(org=tree.branch).person == person


def test_used_code_is_refused_as_already_used(tree):
    code = issue(tree)
    first = register(tree.branch, code)
    with pytest.raises(CodeError, match="already been used"):
        register(tree.branch, code)
    assert OrgAdmin.objects.get(org=tree.branch).person == first
    assert AuditEntry.objects.filter(action="admin.register").count() == 1


def test_expired_code_is_refused_as_expired(tree):
    code = issue(tree)
    RegistrationCode.objects.filter(org=tree.branch).update(
        created_at=timezone.now() - dt.timedelta(days=21), expires_at=timezone.now() - dt.timedelta(days=1)
    )
    before = Person.objects.count()
    with pytest.raises(CodeError, match="expired"):
        register(tree.branch, code)
    assert nothing_consumed(tree.branch) and Person.objects.count() == before


def test_code_of_another_org_is_refused_naming_the_org_chosen(tree):
    code = issue(tree, tree.branch2)
    with pytest.raises(CodeError, match="different organization"):
        register(tree.branch, code)
    assert nothing_consumed(tree.branch2) and nothing_consumed(tree.branch)
    assert OrgAdmin.objects.get(org=tree.branch2).person == tree.branch2_admin


def test_code_revoked_by_regeneration_is_refused(tree):
    old = issue(tree)
    new = issue(tree)
    with pytest.raises(CodeError, match="replaced"):
        register(tree.branch, old)
    assert nothing_consumed(tree.branch)
    register(tree.branch, new)


@pytest.mark.parametrize("bad", ["110101200001011234", "11010120000101123", "990101200001011238", "abc"])
def test_bad_id_number_consumes_nothing_and_creates_nobody(tree, bad):
    code = issue(tree)
    before = Person.objects.count()
    with pytest.raises(CodeError) as exc:
        register(tree.branch, code, id_number=bad)
    assert exc.value.field == "id_number"
    assert nothing_consumed(tree.branch) and Person.objects.count() == before


@pytest.mark.parametrize("weak", ["short1!", "12345678901", "password123", "qwertyuiop"])
def test_weak_password_consumes_nothing_and_creates_nobody(tree, weak):
    code = issue(tree)
    before = Person.objects.count()
    with pytest.raises(CodeError) as exc:
        register(tree.branch, code, password=weak)
    assert exc.value.field == "password"
    assert nothing_consumed(tree.branch) and Person.objects.count() == before


def test_password_with_id_number_digits_is_refused(tree):
    code = issue(tree)
    number = f.next_id_number()
    with pytest.raises(CodeError, match="ID number"):
        register(tree.branch, code, id_number=number, password=f"Zz{number[6:14]}!")
    assert nothing_consumed(tree.branch) and not Person.objects.filter(id_number=number).exists()


def test_empty_name_is_refused(tree):
    code = issue(tree)
    with pytest.raises(CodeError) as exc:
        register(tree.branch, code, name="  ")
    assert exc.value.field == "name" and nothing_consumed(tree.branch)


def test_existing_account_must_prove_its_password(tree):
    existing = f.make_person(name="李四", password="Own-pass-9x!")
    code = issue(tree)
    with pytest.raises(CodeError, match="that account's password"):
        register(tree.branch, code, id_number=existing.id_number, name="李四", password=PASSWORD)
    assert nothing_consumed(tree.branch)
    person = register(tree.branch, code, id_number=existing.id_number, name="李四", password="Own-pass-9x!")
    assert person.pk == existing.pk and OrgAdmin.objects.get(org=tree.branch).person == existing


def test_existing_person_with_another_name_is_refused(tree):
    existing = f.make_person(name="李四")
    code = issue(tree)
    with pytest.raises(CodeError, match="name does not match"):
        register(tree.branch, code, id_number=existing.id_number, name="张三", password="Str0ng-pass!")
    assert nothing_consumed(tree.branch)


def test_existing_person_who_never_set_a_password_is_activated_with_the_new_one(tree):
    member = tree.member.person
    assert member.needs_password
    code = issue(tree)
    person = register(tree.branch, code, id_number=member.id_number, name=member.name)
    person.refresh_from_db()
    assert person.pk == member.pk and person.check_password(PASSWORD) and not person.needs_password


def test_wrong_codes_from_one_address_do_not_lock_the_org_for_another(tree, settings):
    settings.ZHTJ_LOGIN_MAX_FAILURES = 3
    code = issue(tree)
    for i in range(3):
        with pytest.raises(CodeError, match="case-sensitive"):
            register(tree.branch, f"WRONGCODE{i}", ip="10.9.0.1")
    # The guessing address is locked for this org, even with the right code.
    with pytest.raises(CodeError, match="Too many"):
        register(tree.branch, code, ip="10.9.0.1")
    assert nothing_consumed(tree.branch)
    # Anyone else still registers with the right code.
    person = register(tree.branch, code, ip="10.9.0.2")
    assert OrgAdmin.objects.get(org=tree.branch).person == person


def test_wrong_codes_from_many_addresses_reach_the_per_org_ceiling_and_lock_everyone(tree, settings):
    settings.ZHTJ_LOGIN_MAX_FAILURES = 3
    settings.ZHTJ_REGCODE_MAX_FAILURES_PER_ORG = 4
    code = issue(tree)
    for i in range(4):
        with pytest.raises(CodeError, match="case-sensitive"):
            register(tree.branch, f"WRONGCODE{i}", ip=f"10.9.1.{i}")
    with pytest.raises(CodeError, match="Too many"):
        register(tree.branch, code, ip="10.9.9.9")
    assert nothing_consumed(tree.branch)
    # Another org is not locked.
    other = issue(tree, tree.branch2)
    register(tree.branch2, other, ip="10.9.9.9")


def test_wrong_codes_and_the_lock_they_start_are_audited_without_code_or_id_number(tree, settings):
    settings.ZHTJ_LOGIN_MAX_FAILURES = 2
    number = f.next_id_number()
    for guess in ("WRONGCODE1", "WRONGCODE2"):
        with pytest.raises(CodeError):
            register(tree.branch, guess, id_number=number, ip="10.9.2.1")
    failed = list(AuditEntry.objects.filter(action="regcode.failed"))
    assert len(failed) == 2
    assert all(e.org == tree.branch and e.ip == "10.9.2.1" and e.after["reason"] == "wrong_code" for e in failed)
    locked = AuditEntry.objects.get(action="regcode.locked")
    assert locked.org == tree.branch and locked.after["lock"] == "org_address"
    for entry in [*failed, locked]:
        stored = f"{entry.before} {entry.after} {entry.reason} {entry.target_repr}"
        assert number not in stored and "WRONGCODE" not in stored
        assert entry.after["id_number"] == number[:6] + "*" * 8 + number[-4:]


def test_the_per_org_ceiling_lock_is_audited(tree, settings):
    settings.ZHTJ_REGCODE_MAX_FAILURES_PER_ORG = 3
    for i in range(3):
        with pytest.raises(CodeError):
            register(tree.branch, "WRONGCODE", ip=f"10.9.3.{i}")
    assert list(AuditEntry.objects.filter(action="regcode.locked").values_list("after__lock", flat=True)) == ["org"]


def test_a_wrong_password_for_an_existing_account_is_audited(tree):
    existing = f.make_person(name="李四", password="Own-pass-9x!")
    code = issue(tree)
    with pytest.raises(CodeError, match="that account's password"):
        register(tree.branch, code, id_number=existing.id_number, name="李四", password="Guess-one-11")
    entry = AuditEntry.objects.get(action="regcode.failed")
    assert entry.org == tree.branch and entry.after["reason"] == "wrong_password"
    assert existing.id_number not in str(entry.after)


def test_guessing_an_existing_accounts_password_is_throttled(tree, settings):
    settings.ZHTJ_LOGIN_MAX_FAILURES = 3
    existing = f.make_person(name="李四", password="Own-pass-9x!")
    code = issue(tree)
    for guess in ("Guess-one-11", "Guess-two-22", "Guess-three-33"):
        with pytest.raises(CodeError, match="that account's password"):
            register(tree.branch, code, id_number=existing.id_number, name="李四", password=guess)
    with pytest.raises(CodeError, match="Too many"):
        register(tree.branch, code, id_number=existing.id_number, name="李四", password="Own-pass-9x!")
    assert nothing_consumed(tree.branch)


def test_probing_names_of_an_id_number_is_throttled(tree, settings):
    settings.ZHTJ_LOGIN_MAX_FAILURES = 2
    existing = f.make_person(name="李四")
    code = issue(tree)
    for guess in ("张三", "王五"):
        with pytest.raises(CodeError, match="name does not match"):
            register(tree.branch, code, id_number=existing.id_number, name=guess, password="Str0ng-pass!")
    with pytest.raises(CodeError, match="Too many"):
        register(tree.branch, code, id_number=existing.id_number, name="李四", password="Str0ng-pass!")
    assert nothing_consumed(tree.branch)


def test_wrong_codes_are_throttled_per_address(tree, settings):
    settings.ZHTJ_LOGIN_MAX_FAILURES_PER_IP = 3
    orgs = [tree.branch, tree.branch2, tree.gb]
    for org in orgs:
        with pytest.raises(CodeError, match="case-sensitive"):
            register(org, "WRONGCODE", ip="10.7.7.7")
    code = issue(tree, tree.sibling)
    with pytest.raises(CodeError, match="Too many"):
        register(tree.sibling, code, ip="10.7.7.7")
    assert nothing_consumed(tree.sibling)
    register(tree.sibling, code, ip="10.7.7.8")


# --- the registration page ----------------------------------------------------------------------------------


def form_data(chosen, code, **kw):
    data = {"org": chosen.code, "code": code, "name": "新管理员", "id_number": f.next_id_number(),
            "phone": "138 0013 8000", "password": PASSWORD, "password2": PASSWORD}
    data.update(kw)
    return data


def test_register_page_is_public(client, tree):
    response = client.get(reverse("register_admin"))
    assert response.status_code == 200
    assert b'name="code"' in response.content and b'name="password2"' in response.content


def test_register_page_preselects_org_from_link(client, tree):
    response = client.get(reverse("register_admin") + "?org=B0001")
    assert response.status_code == 200 and b'value="B0001"' in response.content


def test_registering_logs_in_acting_for_the_org_and_asks_to_complete_it(client, tree):
    code = issue(tree)
    response = client.post(reverse("register_admin"), form_data(tree.branch, code))
    assert response.status_code == 302 and response["Location"] == reverse("org_complete", args=[tree.branch.pk])
    person = OrgAdmin.objects.get(org=tree.branch).person
    assert int(client.session["_auth_user_id"]) == person.pk
    assert client.session[ACTING_ORG_SESSION_KEY] == tree.branch.pk
    assert person.phone == "13800138000"
    page = client.get(response["Location"])
    assert page.status_code == 200 and b'name="secretary_id_number"' in page.content


def test_register_page_shows_the_cause_of_a_wrong_code(client, tree):
    issue(tree)
    before = Person.objects.count()
    response = client.post(reverse("register_admin"), form_data(tree.branch, "NOTTHECODE"))
    assert response.status_code == 200
    assert "case-sensitive" in response.content.decode() or "区分大小写" in response.content.decode()
    assert Person.objects.count() == before and nothing_consumed(tree.branch)
    assert "_auth_user_id" not in client.session


def test_tampered_org_gives_a_clear_error(client, tree):
    code = issue(tree)
    response = client.post(reverse("register_admin"), form_data(tree.branch, code, org="NO-SUCH-ORG"))
    assert response.status_code == 200
    assert "NO-SUCH-ORG" in response.content.decode()
    assert nothing_consumed(tree.branch)


def test_org_id_instead_of_code_is_refused_clearly(client, tree):
    code = issue(tree)
    response = client.post(reverse("register_admin"), form_data(tree.branch, code, org="999999"))
    assert response.status_code == 200 and "999999" in response.content.decode()
    assert nothing_consumed(tree.branch)


def test_mismatched_passwords_consume_nothing(client, tree):
    code = issue(tree)
    response = client.post(reverse("register_admin"), form_data(tree.branch, code, password2="Other-pass-77!"))
    assert response.status_code == 200 and nothing_consumed(tree.branch)


def test_bad_phone_consumes_nothing(client, tree):
    code = issue(tree)
    response = client.post(reverse("register_admin"), form_data(tree.branch, code, phone="12345"))
    assert response.status_code == 200 and nothing_consumed(tree.branch)


def test_org_search_finds_by_name_and_code(client, tree):
    by_name = client.get(reverse("register_admin_orgs"), {"q": "一班"}).content.decode()
    assert 'value="B0001"' in by_name and "B0002" not in by_name
    by_code = client.get(reverse("register_admin_orgs"), {"q": "b0002"}).content.decode()
    assert 'value="B0002"' in by_code
    short = client.get(reverse("register_admin_orgs"), {"q": "一"}).content.decode()
    assert 'type="radio"' not in short


def test_org_search_works_without_javascript(client, tree):
    page = client.get(reverse("register_admin"), {"q": "二班"}).content.decode()
    assert 'value="B0002"' in page and 'form="register-form"' in page


def test_org_search_shows_no_personal_data(client, tree):
    page = client.get(reverse("register_admin_orgs"), {"q": "团"}).content.decode()
    assert tree.branch_admin.name not in page and tree.branch_admin.id_number not in page


# --- the codes page -----------------------------------------------------------------------------------------


def codes_url(org):
    return reverse("org_codes", args=[org.pk])


def test_codes_page_lists_direct_subordinates_with_state(client, tree, django_assert_max_num_queries):
    issue(tree, tree.branch)
    login_as(client, tree.gb_admin, tree.gb)
    with django_assert_max_num_queries(12):
        response = client.get(codes_url(tree.gb))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="code-row-B0001"' in page and 'data-testid="code-row-B0002"' in page
    assert "code-row-G0001" not in page


def test_codes_page_query_count_does_not_grow_with_subordinates(client, tree, django_assert_max_num_queries):
    for i in range(15):
        org = f.make_org("branch", parent=tree.gb, code=f"BX{i:03d}")
        f.make_admin(org)
        issue(tree, org)
    login_as(client, tree.gb_admin, tree.gb)
    with django_assert_max_num_queries(12):
        assert client.get(codes_url(tree.gb)).status_code == 200


def test_generating_a_code_shows_it_once(client, tree):
    login_as(client, tree.gb_admin, tree.gb)
    response = client.post(codes_url(tree.gb), {"action": "generate", "org": tree.branch.pk})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    marker = 'data-testid="code-value">'
    code = page[page.index(marker) + len(marker):].split("<", 1)[0]
    assert RegistrationCode.objects.get(org=tree.branch, revoked_at=None).code_hash == hash_code(code)
    again = client.get(codes_url(tree.gb)).content.decode()
    assert code not in again


def test_generating_for_a_grandchild_is_forbidden(client, tree):
    login_as(client, tree.wc_admin, tree.wc)
    response = client.post(codes_url(tree.wc), {"action": "generate", "org": tree.branch.pk})
    assert response.status_code == 403
    assert not RegistrationCode.objects.exists()


def test_generating_for_an_org_outside_the_subtree_is_not_found(client, tree):
    login_as(client, tree.gb_admin, tree.gb)
    for pk in (tree.sibling.pk, tree.other_root.pk, "x", 999999):
        response = client.post(codes_url(tree.gb), {"action": "generate", "org": pk})
        assert response.status_code == 404
    assert not RegistrationCode.objects.exists()


def test_export_selected_downloads_xlsx_with_fresh_codes(client, tree):
    login_as(client, tree.gb_admin, tree.gb)
    response = client.post(codes_url(tree.gb), {"action": "export", "orgs": [tree.branch2.pk]})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("组织编码", "组织名称", "注册码", "有效期至") and len(rows) == 2
    assert rows[1][0] == "B0002" and rows[1][1] == tree.branch2.full_name
    live = RegistrationCode.objects.get(org=tree.branch2, revoked_at=None)
    assert live.code_hash == hash_code(rows[1][2])
    assert not RegistrationCode.objects.filter(org=tree.branch).exists()


def test_export_all_covers_the_direct_subordinates_without_an_admin(client, tree):
    # "All" never puts a sitting admin's role up for takeover: a code replaces the current admin.
    OrgAdmin.objects.filter(org=tree.sibling).delete()
    login_as(client, tree.wc_admin, tree.wc)
    response = client.post(codes_url(tree.wc), {"action": "export", "all": "1"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert sorted(r[0] for r in rows[1:]) == ["B0003"]
    assert list(RegistrationCode.objects.values_list("org_id", flat=True)) == [tree.sibling.pk]


def test_export_all_when_every_subordinate_has_an_admin_generates_nothing_and_says_why(client, tree):
    login_as(client, tree.wc_admin, tree.wc)
    response = client.post(codes_url(tree.wc), {"action": "export", "all": "1"}, follow=True)
    assert response["Content-Type"].startswith("text/html")
    assert "已有管理员" in response.content.decode()
    assert not RegistrationCode.objects.exists()


def test_an_admin_is_replaced_only_by_a_code_chosen_for_that_org(client, tree):
    login_as(client, tree.wc_admin, tree.wc)
    response = client.post(codes_url(tree.wc), {"action": "export", "orgs": [tree.gb.pk]})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert list(RegistrationCode.objects.values_list("org_id", flat=True)) == [tree.gb.pk]


def test_codes_page_says_plainly_that_a_code_replaces_the_admin(client, tree):
    login_as(client, tree.wc_admin, tree.wc)
    page = client.get(codes_url(tree.wc)).content.decode()
    assert 'data-testid="code-replaces-admin"' in page and "取代" in page
    assert "为全部无管理员的下级生成" in page


def test_export_with_a_tampered_id_generates_nothing(client, tree):
    login_as(client, tree.wc_admin, tree.wc)
    for bad in ([tree.gb.pk, tree.branch.pk], [tree.gb.pk, tree.other_root.pk], ["x"]):
        response = client.post(codes_url(tree.wc), {"action": "export", "orgs": bad})
        assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert not RegistrationCode.objects.exists()


def test_export_of_nothing_selected_says_so(client, tree):
    login_as(client, tree.wc_admin, tree.wc)
    response = client.post(codes_url(tree.wc), {"action": "export"}, follow=True)
    assert response.status_code == 200 and not RegistrationCode.objects.exists()


# --- the permission matrix ----------------------------------------------------------------------------------




MATRIX = {
    # The codes page of gb belongs to gb's own admin; superiors may see gb but not act for it.
    "member": 404, "admin": 200, "direct_superior": 403, "ancestor": 403,
    "sibling": 404, "descendant": 404, "other_tree": 404,
}


def test_codes_page_anonymous_goes_to_login(client, tree):
    for method in (client.get, client.post):
        response = method(codes_url(tree.gb), {"action": "generate", "org": tree.branch.pk})
        assert response.status_code == 302 and reverse("login") in response["Location"]
    assert not RegistrationCode.objects.exists()


@pytest.mark.parametrize("who", sorted(MATRIX))
def test_codes_page_permission_matrix(client, tree, who):
    person, org = role_relative_to_gb(tree, who)
    if person.needs_password:
        person.set_password("Str0ng-pass!")
        person.password_set_at = timezone.now()
        person.save()
    login_as(client, person, org)
    assert client.get(codes_url(tree.gb)).status_code == MATRIX[who]
    response = client.post(codes_url(tree.gb), {"action": "generate", "org": tree.branch.pk})
    assert response.status_code == MATRIX[who]
    response = client.post(codes_url(tree.gb), {"action": "export", "orgs": [tree.branch.pk, tree.branch2.pk]})
    assert response.status_code == MATRIX[who]
    expected = 3 if who == "admin" else 0  # branch by generate, branch (again) and branch2 by export
    assert RegistrationCode.objects.count() == expected


def test_higher_ancestor_may_not_issue_codes_for_grandchildren_by_service(tree):
    with pytest.raises(Exception):  # noqa: B017 - PermissionDenied
        code_issue(actor=Actor(person=tree.wc_admin, org=tree.wc), org=tree.branch)
    assert not RegistrationCode.objects.exists()


def test_selector_status_runs_in_constant_queries(tree, django_assert_num_queries):
    issue(tree, tree.branch)
    with django_assert_num_queries(2):
        codes.subordinate_code_status(tree.gb)


def test_code_workbook_file_name_is_chinese(client, tree):
    from urllib.parse import unquote

    login_as(client, tree.wc_admin, tree.wc)
    response = client.post(codes_url(tree.wc), {"action": "export", "orgs": [tree.gb.pk]})
    disposition = unquote(response["Content-Disposition"])
    assert "区团工委-管理员注册码-" in disposition and "registration" not in disposition


def test_login_tagline_is_chinese_in_the_chinese_ui(client, db):
    body = client.get(reverse("login")).content.decode()
    assert "Smart League Building" not in body and "共青团组织管理" in body
