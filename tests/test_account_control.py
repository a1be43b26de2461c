"""Who controls a person's account (orgs.permissions.controls_person), through the real URLs: the secretary
form, reset codes, member and cadre add, admin change, name corrections, the detail page, the initial password
of admins, and the operator's reset code for people nobody in the tree may control."""

import pytest
from captcha.conf import settings as captcha_settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from members import accounts
from members.models import Cadre, Member, Person, ResetCode
from orgs.models import Org, OrgAdmin
from orgs.permissions import Actor, controls_person, people_not_controlled

from . import factories as f
from .conftest import login_as
from .import_helpers import media  # noqa: F401

pytestmark = pytest.mark.django_db

PASSWORD = "Str0ng-pass!"


@pytest.fixture(autouse=True)
def _captcha(monkeypatch):
    monkeypatch.setattr(captcha_settings, "CAPTCHA_TEST_MODE", True)


def client_as(person, org) -> Client:
    return login_as(Client(), person, org)


def state(*people) -> tuple:
    """What a takeover would change: the people's records and posts, reset codes, admin roles."""
    rows = []
    for p in people:
        p = Person.objects.get(pk=p.pk)
        rows.append((p.name, p.password, p.phone,
                     sorted(Cadre.objects.filter(person=p).values_list("org_id", "position")),
                     list(Member.objects.filter(person=p).values_list("branch_id", flat=True))))
    return (rows, ResetCode.objects.count(), sorted(OrgAdmin.objects.values_list("org_id", "person_id")))


def issue(person, org, target) -> int:
    return client_as(person, org).post(reverse("reset_code_issue", args=[target.pk])).status_code


# --- the rule --------------------------------------------------------------------------------------------------


def test_the_rule_on_the_tree(tree):
    member = tree.member.person
    expected = {"branch_admin": True, "gb_admin": True, "wc_admin": True, "root_admin": True,
                "branch2_admin": False, "sibling_admin": False, "outsider": False}
    orgs = {"branch_admin": tree.branch, "gb_admin": tree.gb, "wc_admin": tree.wc, "root_admin": tree.root,
            "branch2_admin": tree.branch2, "sibling_admin": tree.sibling, "outsider": tree.other_root}
    for who, org in orgs.items():
        assert controls_person(Actor(person=getattr(tree, who), org=org), member) is expected[who], who


def test_an_admin_is_controlled_only_from_strictly_above(tree):
    assert not controls_person(Actor(person=tree.gb_admin, org=tree.gb), tree.gb_admin)
    assert controls_person(Actor(person=tree.wc_admin, org=tree.wc), tree.gb_admin)
    assert controls_person(Actor(person=tree.root_admin, org=tree.root), tree.gb_admin)
    # A top-level org's admin: nobody in any tree.
    for who, org in (("root_admin", tree.root), ("outsider", tree.other_root), ("wc_admin", tree.wc)):
        assert not controls_person(Actor(person=getattr(tree, who), org=org), tree.root_admin)


def test_the_rule_costs_one_query_for_any_number_of_people(tree, django_assert_num_queries):
    people = [f.make_member(tree.branch).person for _ in range(5)] + [tree.wc_admin, tree.outsider]
    f.make_cadre(tree.sibling, person=people[0])
    actor = Actor(person=tree.gb_admin, org=tree.gb)
    with django_assert_num_queries(1):
        outside = people_not_controlled(actor, [p.pk for p in people])
    assert outside == {people[0].pk, tree.wc_admin.pk, tree.outsider.pk}


# --- the secretary form (the takeover that was reproduced against the root admin) ---------------------------


def complete_data(person, **over) -> dict:
    data = {"contact_phone": "010-12345678", "contact_email": "", "secretary_name": person.name,
            "secretary_id_number": person.id_number, "secretary_phone": "13900139000"}
    data.update(over)
    return data


def test_outsider_naming_the_root_admin_as_secretary_takes_over_nothing(tree):
    victim = tree.root_admin
    before = state(victim)
    client = client_as(tree.outsider, tree.other_root)
    response = client.post(reverse("org_complete", args=[tree.other_root.pk]), complete_data(victim))
    assert response.status_code == 200 and response.context["form"].errors
    assert Org.objects.get(pk=tree.other_root.pk).secretary_id is None
    assert client.post(reverse("reset_code_issue", args=[victim.pk])).status_code == 404
    assert state(victim) == before


def test_secretary_form_refuses_a_person_held_outside_the_admins_subtree(tree):
    victim = f.make_member(tree.sibling).person
    before = state(victim)
    response = client_as(tree.gb_admin, tree.gb).post(reverse("org_complete", args=[tree.gb.pk]),
                                                      complete_data(victim))
    assert response.context["form"].errors
    assert state(victim) == before and Org.objects.get(pk=tree.gb.pk).secretary_id is None


def test_secretary_of_a_higher_org_may_be_a_member_of_one_of_its_branches(tree):
    person = tree.member.person
    response = client_as(tree.gb_admin, tree.gb).post(reverse("org_complete", args=[tree.gb.pk]),
                                                      complete_data(person))
    assert response.status_code == 302
    assert Org.objects.get(pk=tree.gb.pk).secretary == person


@pytest.mark.parametrize("as_deputy", [False, True])
def test_a_branch_secretary_must_be_a_member_of_that_branch(tree, as_deputy):
    newcomer = f.make_person(password=None)
    other_branch = f.make_member(tree.branch2).person
    client = client_as(tree.branch_admin, tree.branch)
    url = reverse("org_complete", args=[tree.branch.pk])
    extra = {"as_deputy": "on"} if as_deputy else {}
    for person in (newcomer, other_branch):
        before = state(person)
        response = client.post(url, complete_data(person, **extra))
        assert response.status_code == 200 and response.context["form"].errors
        assert state(person) == before
    assert Org.objects.get(pk=tree.branch.pk).secretary_id is None
    response = client.post(url, complete_data(tree.member.person, **extra))
    assert response.status_code == 302
    assert Org.objects.get(pk=tree.branch.pk).secretary == tree.member.person


# --- reset codes -----------------------------------------------------------------------------------------------


def test_branch_admin_cannot_reset_a_member_who_administers_a_higher_org(tree):
    f.make_member(tree.branch, person=tree.wc_admin)
    before = state(tree.wc_admin)
    assert issue(tree.branch_admin, tree.branch, tree.wc_admin) == 403
    assert issue(tree.gb_admin, tree.gb, tree.wc_admin) == 403
    assert state(tree.wc_admin) == before
    assert issue(tree.root_admin, tree.root, tree.wc_admin) == 200  # the direct superior of wc


def test_a_cadre_post_left_behind_after_a_transfer_gives_the_old_branch_nothing(tree):
    member = tree.member
    f.make_cadre(tree.branch, person=member.person)
    Member.objects.filter(pk=member.pk).update(branch=tree.branch2)  # the transfer moved the membership only
    before = state(member.person)
    assert issue(tree.branch_admin, tree.branch, member.person) == 403
    assert state(member.person) == before
    assert issue(tree.branch2_admin, tree.branch2, member.person) == 403  # the old post is outside branch2
    assert issue(tree.gb_admin, tree.gb, member.person) == 200


def test_reset_code_service_refuses_a_person_held_elsewhere(tree):
    from django.core.exceptions import PermissionDenied

    f.make_member(tree.branch, person=tree.gb_admin)
    with pytest.raises(PermissionDenied):
        accounts.reset_code_issue(actor=Actor(person=tree.branch_admin, org=tree.branch), person=tree.gb_admin)
    assert not ResetCode.objects.exists()


# --- name and ID number corrections ---------------------------------------------------------------------------


def test_branch_admin_cannot_correct_the_name_of_a_member_who_administers_a_higher_org(tree):
    from .test_members_views import edit_data

    Person.objects.filter(pk=tree.gb_admin.pk).update(phone="13912345678")
    member = f.make_member(tree.branch, person=Person.objects.get(pk=tree.gb_admin.pk))
    before = state(tree.gb_admin)
    response = client_as(tree.branch_admin, tree.branch).post(
        reverse("member_edit", args=[member.pk]), edit_data(member, name="改名", reason="更正"))
    assert response.status_code == 200 and response.context["form"].errors
    assert state(tree.gb_admin) == before
    # The phone is the branch's to keep up to date; the name and ID number are the account's.
    response = client_as(tree.wc_admin, tree.wc).post(
        reverse("member_edit", args=[member.pk]), edit_data(member, name="改名", reason="更正"))
    assert response.status_code == 403


# --- the member detail page decides by the record --------------------------------------------------------------


def test_a_cadre_post_in_the_subtree_does_not_open_a_member_record_outside_it(tree):
    person = f.make_member(tree.sibling, person=f.make_person(phone="13912345678")).person
    f.make_cadre(tree.branch, person=person)
    record = Member.objects.get(person=person)
    response = client_as(tree.branch_admin, tree.branch).get(reverse("member_detail", args=[record.pk]))
    assert response.status_code == 404
    assert person.id_number not in response.content.decode()


def test_a_member_record_is_masked_to_admins_above_the_direct_superior_even_with_a_post_there(tree):
    person = tree.member.person
    person.phone = "13912345678"
    person.save()
    f.make_cadre(tree.wc, person=person)
    text = client_as(tree.wc_admin, tree.wc).get(reverse("member_detail", args=[tree.member.pk])).content.decode()
    assert person.id_number not in text and "13912345678" not in text and person.masked_id_number in text


# --- an admin never logs in with the initial password -----------------------------------------------------------


def post_login(client, id_number, password):
    return client.post(reverse("login"), {"id_number": id_number, "password": password, "captcha_0": "k",
                                          "captcha_1": "PASSED"}, REMOTE_ADDR="10.9.9.9")


def logged_in(client) -> bool:
    return client.session.get("_auth_user_id") is not None


def test_an_admin_without_a_password_of_their_own_cannot_log_in_with_the_initial_password(tree):
    person = f.make_person(password=None)
    f.make_admin(tree.branch2, person=person)
    client = Client()
    response = post_login(client, person.id_number, person.id_number[-8:])
    assert not logged_in(client)
    assert [str(e) for e in response.context["form"].non_field_errors()] == [
        str(accounts.GENERIC_LOGIN_FAILURE)]
    # The same person without the role logs in to the activation step as every member does.
    OrgAdmin.objects.filter(person=person).delete()
    client = Client()
    post_login(client, person.id_number, person.id_number[-8:])
    assert logged_in(client)


def test_admin_change_to_a_cadre_without_a_password_says_a_reset_code_is_needed(tree):
    cadre = f.make_cadre(tree.branch, person=f.make_member(tree.branch).person).person
    assert cadre.needs_password
    client = client_as(tree.gb_admin, tree.gb)
    response = client.post(reverse("admin_change", args=[tree.branch.pk]),
                           {"new_admin": cadre.pk, "reason": "换届"}, follow=True)
    assert OrgAdmin.objects.get(org=tree.branch).person == cadre
    # The result says the new admin needs a password of their own, and links to the reset code.
    assert reverse("reset_code_issue", args=[cadre.pk]) in response.content.decode()
    anon = Client()
    post_login(anon, cadre.id_number, cadre.id_number[-8:])
    assert not logged_in(anon)
    # The direct superior controls the new admin and hands them a reset code; the old admin does not.
    assert issue(tree.branch_admin, tree.branch, cadre) in (403, 404)
    assert issue(tree.gb_admin, tree.gb, cadre) == 200


def test_admin_change_refuses_a_cadre_held_outside_the_deciders_control(tree):
    cadre = f.make_cadre(tree.branch).person
    f.make_admin(tree.other_root, person=cadre)  # also the admin of another tree's root
    before = state(cadre)
    client = client_as(tree.gb_admin, tree.gb)
    response = client.post(reverse("admin_change", args=[tree.branch.pk]), {"new_admin": cadre.pk, "reason": "换届"})
    assert response.status_code == 200 and response.context["form"].errors
    assert state(cadre) == before


def test_an_account_that_lost_its_admin_role_keeps_its_password(tree):
    old = tree.branch_admin
    password_hash = Person.objects.get(pk=old.pk).password
    new = f.make_cadre(tree.branch).person
    client_as(tree.gb_admin, tree.gb).post(reverse("admin_change", args=[tree.branch.pk]),
                                           {"new_admin": new.pk, "reason": "换届"})
    assert not OrgAdmin.objects.filter(person=old).exists()
    assert Person.objects.get(pk=old.pk).password == password_hash
    client = Client()
    post_login(client, old.id_number, PASSWORD)
    assert logged_in(client)


# --- the operator's reset code ---------------------------------------------------------------------------------


def test_operator_issues_a_reset_code_for_a_top_level_admin(tree, capsys):
    call_command("issue_reset_code", tree.root_admin.id_number)
    out, err = capsys.readouterr()
    code = out.strip()
    assert len(accounts.normalize_code(code)) == accounts.CODE_LENGTH and err.strip()
    entry = AuditEntry.objects.get(action="reset_code.issued")
    assert entry.actor is None and entry.after.get("by") == "operator"
    accounts.reset_password_with_code(id_number=tree.root_admin.id_number, code=code, new_password="New-horse-77!")
    assert Person.objects.get(pk=tree.root_admin.pk).check_password("New-horse-77!")


@pytest.mark.parametrize("bad", ["110101199001011234", "12345", "110101199003070000"])
def test_operator_reset_code_refuses_unknown_or_malformed_id_numbers(tree, bad):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("issue_reset_code", bad)
    assert not ResetCode.objects.exists()


# --- adding someone held elsewhere: one answer, throttled, audited ----------------------------------------------


def add_data(person, name=None) -> dict:
    return {"name": name or person.name, "id_number": person.id_number, "ethnicity": "汉族",
            "political_status": "共青团员", "joined_on": "2021-03", "development_number": "",
            "phone": "13900001234", "email": "", "education": "高中", "occupation": "学生"}


def test_probing_id_numbers_through_the_add_form_is_one_answer_throttled_and_audited(tree, settings):
    settings.ZHTJ_LOGIN_MAX_FAILURES = 5
    held = [f.make_member(tree.sibling).person for _ in range(13)] + [
        f.make_cadre(tree.other_root).person for _ in range(12)]
    client = client_as(tree.branch_admin, tree.branch)
    url = reverse("member_add", args=[tree.branch.pk])
    org_names = [o.short_name for o in (tree.sibling, tree.other_root, tree.wc)] + [
        o.full_name for o in (tree.sibling, tree.other_root)]
    before = state(*held)
    answers = []
    for i, person in enumerate(held):
        # Right and wrong names alike.
        response = client.post(url, add_data(person, name=None if i % 2 else "猜的名字"))
        text = response.content.decode()
        assert response.status_code == 200
        assert not any(name in text for name in org_names)
        assert person.name not in text or i % 2  # the typed name may be echoed back in the form, nothing more
        answers.append(response.context["form"].errors["id_number"][0])
    assert len(set(answers[:5])) == 1 and "办理转入" in answers[0]  # one answer, whatever the name
    assert len(set(answers[5:])) == 1 and answers[5] != answers[0]  # then the lock
    # Locked: a new ID number is refused alike, so the lock tells nothing.
    fresh = f.make_person(password=None)
    Person.objects.filter(pk=fresh.pk).delete()
    response = client.post(url, add_data(fresh))
    assert not Person.objects.filter(id_number=fresh.id_number).exists()
    assert state(*held) == before
    entries = AuditEntry.objects.filter(action="member.add_refused")
    assert entries.count() == 26
    for entry in entries:
        text = str(entry.after)
        assert not any(p.id_number in text for p in held)
    assert {e.after["reason"] for e in entries} == {"held_elsewhere", "locked"}


def test_probing_through_the_cadre_form_is_refused_the_same_way(tree):
    person = f.make_member(tree.branch2).person
    client = client_as(tree.gb_admin, tree.gb)
    response = client.post(reverse("cadre_add", args=[tree.gb.pk]), {
        **add_data(person), "position": "组织委员", "since": "2022-09-01", "nature": "兼职"})
    assert response.status_code == 302  # gb controls a member of its branch2
    outsider_person = f.make_member(tree.sibling).person
    before = state(outsider_person)
    response = client.post(reverse("cadre_add", args=[tree.gb.pk]), {
        **add_data(outsider_person), "position": "宣传委员", "since": "2022-09-01", "nature": "兼职"})
    text = response.content.decode()
    assert response.status_code == 200 and tree.sibling.short_name not in text
    assert state(outsider_person) == before
    assert AuditEntry.objects.filter(action="cadre.add_refused").count() == 1


def test_import_rows_probing_id_numbers_are_one_answer_throttled_and_audited(tree, settings, media):  # noqa: F811
    from .import_helpers import member_row, run_import, xlsx

    settings.ZHTJ_LOGIN_MAX_FAILURES = 5
    held = [f.make_member(tree.sibling).person for _ in range(25)]
    rows = [member_row(p.name if i % 2 else "猜的名字", p.id_number) for i, p in enumerate(held)]
    rows.append(member_row("新人"))  # after the lock even a new person fails alike
    before = state(*held)
    job, result = run_import(tree.branch, xlsx(rows), actor=Actor(person=tree.branch_admin, org=tree.branch))
    assert (result.imported, result.failed) == (0, 26)
    reasons = [r["reason"] for r in result.failures]
    assert len(set(reasons[:5])) == 1 and "办理转入" in reasons[0]
    assert len(set(reasons[5:])) == 1 and reasons[5] != reasons[0]
    assert not any(tree.sibling.short_name in r or tree.sibling.full_name in r for r in reasons)
    assert state(*held) == before
    entries = AuditEntry.objects.filter(action="import.add_refused")
    assert entries.filter(after__reason="held_elsewhere").count() == 5
    assert entries.filter(after__reason="locked").exists()
    assert not any(p.id_number in str(e.after) for e in entries for p in held)
