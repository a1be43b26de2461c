"""manage.py generate_dataset: exact sizes, a consistent tree, valid people and records, and refusals."""

from collections import Counter
from io import StringIO

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from approvals.models import ApprovalRequest
from audit.models import AuditEntry
from dataset.load import DEMO_PASSWORD
from dataset.shape import plan
from members import idnumber
from members.choices import MemberStatus
from members.models import Cadre, Member, Person
from members.rules import MemberInput, check_member
from orgs.models import Org, OrgAdmin
from orgs.tree import tree_problems
from transfers.models import Status, Transfer

from . import factories as f

pytestmark = pytest.mark.usefixtures("org_types")  # transactional: the PostgreSQL load runs VACUUM at the end

ORGS, MEMBERS = 60, 500


def generate(*args: str) -> str:
    out = StringIO()
    call_command("generate_dataset", "--orgs", str(ORGS), "--members", str(MEMBERS), *args, stdout=out)
    return out.getvalue()


def test_generates_exactly_the_orgs_and_members_asked_for():
    generate()
    shape = plan(ORGS, MEMBERS)
    branches = len(shape.branches)
    assert Org.objects.count() == ORGS
    assert Member.objects.count() == MEMBERS
    assert Person.objects.count() == ORGS + MEMBERS  # one admin per org beside the members
    assert OrgAdmin.objects.count() == ORGS
    assert Cadre.objects.count() == ORGS + branches  # a secretary per org, an organization member per branch
    sizes = Counter(Member.objects.values_list("branch_id", flat=True))
    assert len(sizes) == branches and min(sizes.values()) >= 3 and max(sizes.values()) <= 50
    assert Transfer.objects.filter(status=Status.COMPLETED).count() == MEMBERS // 10
    assert Transfer.objects.filter(status=Status.PENDING).count() == 1
    assert ApprovalRequest.objects.filter(status="pending").count() == 2
    assert AuditEntry.objects.count() > ORGS + branches


def test_generated_tree_passes_the_tree_check_and_has_every_level():
    generate()
    assert tree_problems() == []
    root = Org.objects.get(parent=None)
    assert root.get_descendant_count() == ORGS - 1
    assert set(Org.objects.values_list("type__code", flat=True)) == {
        "committee", "work_committee", "general_branch", "branch"}
    assert not Org.objects.filter(type__code="branch", children__isnull=False).exists()
    out = StringIO()
    call_command("check_org_tree", stdout=out)
    assert out.getvalue().startswith("OK")


def test_generated_id_numbers_are_valid_and_match_birth_date_and_gender():
    generate()
    for number, birth, gender in Person.objects.values_list("id_number", "birth_date", "gender"):
        info = idnumber.parse(number)
        assert (info.birth_date, info.gender) == (birth, gender)
    assert {"M", "F"} == set(Person.objects.values_list("gender", flat=True))


def test_generated_members_pass_the_member_rules():
    generate()
    today = timezone.localdate()
    for member in Member.objects.select_related("person").filter(status=MemberStatus.ACTIVE):
        assert check_member(MemberInput.from_member(member), today=today, has_cadre_post=True) == {}, member.pk


def test_every_admin_logs_in_with_the_demo_password_and_is_the_secretary():
    generate()
    root = Org.objects.get(parent=None)
    admin = root.admin_assignment.person
    assert check_password(DEMO_PASSWORD, admin.password)
    assert root.secretary_id == admin.pk
    assert Cadre.objects.get(org=root, position="书记").person_id == admin.pk
    # One hash, reused: the salts are the same.
    assert Person.objects.filter(password=admin.password).count() == ORGS


def test_new_rows_after_the_load_get_fresh_ids():
    generate()
    branch = Org.objects.filter(type__code="branch").first()
    member = f.make_member(branch)
    assert member.pk == MEMBERS + 1
    assert member.person.pk == ORGS + MEMBERS + 1


def test_refuses_a_database_that_already_holds_data_and_changes_nothing():
    existing = f.make_org("committee", code="X1")
    with pytest.raises(CommandError, match="--force"):
        generate()
    assert list(Org.objects.values_list("code", flat=True)) == [existing.code]
    assert Member.objects.count() == 0


def test_force_empties_the_data_tables_first():
    f.make_member(f.make_org("branch", parent=f.make_org("committee", code="X1"), code="X2"))
    generate("--force")
    assert Org.objects.count() == ORGS
    assert not Org.objects.filter(code__startswith="X").exists()
    assert Member.objects.count() == MEMBERS


@pytest.mark.parametrize("orgs, members", [(5, 100), (60, 10), (60, 100_000)])
def test_refuses_sizes_no_tree_can_have_and_writes_nothing(orgs, members):
    with pytest.raises(CommandError, match="--"):
        call_command("generate_dataset", "--orgs", str(orgs), "--members", str(members), stdout=StringIO())
    assert not Org.objects.exists()
    assert not Person.objects.exists()
