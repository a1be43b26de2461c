"""An import attaches an existing person (same ID number and name) to the importing org only when every org
where they are already a member, cadre or admin lies in that org's subtree — the single-member form's rule.

Otherwise an admin who knows a root admin's name and ID number could import them, then edit their record
and issue a reset code: their account.
"""

import pytest

from audit.models import AuditEntry
from members.models import Cadre, Member, Person
from orgs.permissions import Actor

from . import factories as f
from .import_helpers import CADRE_HEADERS, cadre_row, media, member_row, run_import, xlsx  # noqa: F401

pytestmark = pytest.mark.usefixtures("media", "english")

HELD_OUTSIDE = ("This person cannot be added here. If they belong to another organization, have them transferred in"
                " (办理转入), which checks the name and the ID number together.")


def _snapshot(person: Person) -> tuple:
    person.refresh_from_db()
    return (person.name, person.phone, person.email, person.password,
            sorted(Member.objects.filter(person=person).values_list("branch_id", "status")),
            sorted(Cadre.objects.filter(person=person).values_list("org_id", "position")))


def _counts() -> tuple[int, int, int, int]:
    """People, memberships, cadre posts, and audit entries other than the job's own import.finished."""
    return (Person.objects.count(), Member.objects.count(), Cadre.objects.count(),
            AuditEntry.objects.exclude(action__in=["import.finished", "import.add_refused"]).count())


def _refused(org, person: Person, data: bytes, actor_person) -> None:
    from orgs.permissions import Actor

    before, counts = _snapshot(person), _counts()
    job, result = run_import(org, data, actor=Actor(person=actor_person, org=org))
    assert (result.imported, result.failed) == (0, 1)
    assert result.failures[0]["reason"] == f"身份证号码：{HELD_OUTSIDE}"
    assert _snapshot(person) == before
    assert _counts() == counts


@pytest.mark.parametrize("holder", ["root_admin", "outsider", "sibling_admin", "branch2_admin"])
def test_member_import_refuses_an_admin_of_an_org_outside_the_branch(tree, holder):
    person = getattr(tree, holder)
    _refused(tree.branch, person, xlsx([member_row(person.name, person.id_number)]), tree.branch_admin)


def test_member_import_refuses_a_cadre_of_another_org(tree):
    person = f.make_cadre(tree.wc, position="组织委员").person
    _refused(tree.branch, person, xlsx([member_row(person.name, person.id_number)]), tree.branch_admin)


def test_cadre_import_refuses_an_admin_above_the_committee(tree):
    person = tree.root_admin
    data = xlsx([cadre_row(person.name, person.id_number)], headers=CADRE_HEADERS)
    _refused(tree.wc, person, data, tree.wc_admin)


def test_cadre_import_refuses_a_cadre_of_another_tree(tree):
    person = f.make_cadre(tree.other_root, position="副书记").person
    data = xlsx([cadre_row(person.name, person.id_number)], headers=CADRE_HEADERS)
    _refused(tree.wc, person, data, tree.wc_admin)


def test_command_line_import_applies_the_same_rule(tree):
    person = tree.outsider
    before, counts = _snapshot(person), _counts()
    job, result = run_import(tree.branch, xlsx([member_row(person.name, person.id_number)]))
    assert result.failures[0]["reason"] == f"身份证号码：{HELD_OUTSIDE}"
    assert (_snapshot(person), _counts()) == (before, counts)


def test_refused_row_does_not_stop_the_other_rows(tree):
    person = tree.root_admin
    rows = [member_row(person.name, person.id_number), member_row("新人一")]
    job, result = run_import(tree.branch, xlsx(rows))
    assert (result.imported, result.failed) == (1, 1)
    assert result.failures[0]["row"] == 2
    assert not Member.objects.filter(person=person).exists()
    assert Member.objects.get(person__name="新人一").branch == tree.branch


def test_cadre_import_allows_people_managed_inside_the_subtree(tree):
    gb_cadre = f.make_cadre(tree.gb, position="宣传委员").person
    rows = [cadre_row(p.name, p.id_number) for p in (tree.gb_admin, tree.member.person, gb_cadre)]
    job, result = run_import(tree.wc, xlsx(rows, headers=CADRE_HEADERS))
    assert (result.imported, result.failed) == (3, 0), result.failures
    assert Cadre.objects.filter(org=tree.wc, person__in=[tree.gb_admin, tree.member.person, gb_cadre]).count() == 3


def test_member_import_allows_the_branch_own_admin_and_cadre(tree):
    cadre = f.make_cadre(tree.branch, position="宣传委员").person
    rows = [member_row(p.name, p.id_number) for p in (tree.branch_admin, cadre)]
    # The admin adds themselves (that grants nobody anything new); an operator could not (see below).
    job, result = run_import(tree.branch, xlsx(rows), actor=Actor(person=tree.branch_admin, org=tree.branch))
    assert (result.imported, result.failed) == (2, 0), result.failures
    assert Member.objects.filter(branch=tree.branch, person__in=[tree.branch_admin, cadre]).count() == 2
