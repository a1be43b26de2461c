"""seed_demo: deterministic, idempotent demo data whose members pass the league's record rules."""

import datetime as dt
import io

from django.contrib.auth import authenticate
from django.core.management import call_command

from members.models import Cadre, Member, Person
from members.rules import MemberInput, check_member
from orgs.management.commands import seed_demo
from orgs.models import Org, OrgAdmin
from orgs.tree import tree_problems


def counts() -> dict:
    return {"orgs": Org.objects.count(), "people": Person.objects.count(), "members": Member.objects.count(),
            "cadres": Cadre.objects.count(), "admins": OrgAdmin.objects.count()}


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_builds_the_tree_and_is_idempotent(db):
    first = seed()
    after_first = counts()
    assert after_first["orgs"] == 21 and after_first["admins"] == 21
    assert 300 <= after_first["members"] <= 400
    assert seed() == first
    assert counts() == after_first
    assert tree_problems() == []


def test_seed_demo_structure_has_every_level(db):
    seed()
    root = Org.objects.get(code=seed_demo.ROOT_CODE)
    assert root.type.code == "committee" and root.parent is None
    types = set(root.get_descendants().values_list("level", "type__code"))
    assert {(1, "work_committee"), (2, "general_branch"), (3, "branch"), (2, "branch")} <= types
    assert all(org.members.exists() for org in Org.objects.filter(type__code="branch"))
    for org in Org.objects.all():
        assert Cadre.objects.filter(org=org, position="书记").exists()
        assert org.secretary_id is not None


def test_seed_demo_completes_what_is_missing(db):
    seed()
    full = counts()
    branch = Org.objects.get(code="100000002003")
    Member.objects.filter(branch=branch).delete()
    Cadre.objects.filter(org=branch).delete()
    seed()
    assert counts()["members"] == full["members"] and counts()["cadres"] == full["cadres"]


def test_demo_logins_work(db, settings):
    out = seed()
    root_admin = seed_demo.admin_id_number(1)
    assert root_admin in out and seed_demo.DEMO_PASSWORD in out
    person = Person.objects.get(id_number=root_admin)
    assert person.check_password(seed_demo.DEMO_PASSWORD) and not person.needs_password
    assert OrgAdmin.objects.get(person=person).org.code == seed_demo.ROOT_CODE
    member_number = seed_demo.member_id_number(100)
    assert member_number in out
    member = Person.objects.get(id_number=member_number)
    assert member.needs_password and member.membership.branch.type.code == "branch"
    assert authenticate(None, id_number=member_number, password=member_number[-8:]) == member


def test_demo_members_pass_the_record_rules(db):
    seed()
    for member in Member.objects.select_related("person"):
        data = MemberInput.from_member(member)
        assert check_member(data, today=dt.date(2026, 11, 1)) == {}, member.person.id_number
        if member.joined_on.year >= 2017:
            assert member.development_number[:4] == str(member.joined_on.year)


def test_seed_demo_names_are_distinct_and_agree_with_the_id_numbers_gender(db):
    seed()
    people = list(Person.objects.values_list("name", "gender"))
    names = [name for name, _ in people]
    assert len(names) == len(set(names))
    male = set(seed_demo.GIVEN_MALE)
    female = set(seed_demo.GIVEN_FEMALE)
    for name, gender in people:
        assert name[1:] in (male if gender == "M" else female), (name, gender)
