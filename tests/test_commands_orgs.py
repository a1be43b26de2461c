"""Operator commands create_org and check_org_tree: output, exit codes, audit, corruption and repair."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit.models import AuditEntry
from orgs.models import Org
from orgs.tree import tree_problems


def run(capsys, *argv) -> tuple[int, str, str]:
    """Run a command as `manage.py` would report it: (exit code, stdout, stderr).

    manage.py turns a CommandError into its message on stderr and exit status e.returncode (1); call_command
    is used instead of ManagementUtility because the latter closes the test's database connection.
    """
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*argv, stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, out.getvalue(), f"CommandError: {error}\n"
    return 0, out.getvalue(), err.getvalue()


# --- create_org --------------------------------------------------------------------------------------------


def test_create_org_root_prints_only_the_code(db, capsys):
    code, out, err = run(capsys, "create_org", "--type", "committee", "--name", "某市团委", "--code", "R9000")
    assert code == 0 and out == "R9000\n"
    org = Org.objects.get(code="R9000")
    assert org.parent is None and org.full_name == "某市团委" and org.type.code == "committee"
    entry = AuditEntry.objects.get(action="org.create", target_id=str(org.pk))
    assert entry.actor_id is None


def test_create_org_child_with_generated_code(tree, capsys):
    code, out, _ = run(capsys, "create_org", "--type", "branch", "--name", "新支部", "--full-name", "新支部全称",
                       "--parent", "G0001")
    assert code == 0
    org = Org.objects.get(code=out.strip())
    assert org.parent == tree.gb and org.full_name == "新支部全称" and out.strip() == "G0001001"
    assert tree_problems() == []


@pytest.mark.parametrize(("argv", "needle"), [
    (["--type", "branch", "--name", "x", "--parent", "NOPE"], "NOPE"),
    (["--type", "branch", "--name", "x", "--parent", "B0001"], "一班团支部"),
    (["--type", "work_committee", "--name", "x", "--parent", "G0001"], "学院团总支"),
    (["--type", "branch", "--name", "x", "--parent", "W0001", "--code", "B0001"], "B0001"),
    (["--type", "squad", "--name", "x", "--parent", "W0001"], "squad"),
])
def test_create_org_errors_exit_non_zero_and_create_nothing(tree, capsys, argv, needle):
    before = Org.objects.count()
    code, out, err = run(capsys, "create_org", *argv)
    assert code != 0
    assert out == ""
    assert needle in err
    assert Org.objects.count() == before
    assert not AuditEntry.objects.filter(action="org.create").exists()


def test_create_org_requires_type_and_name(db, capsys):
    code, _, err = run(capsys, "create_org", "--name", "x")
    assert code != 0 and "--type" in err
    assert not Org.objects.exists()


# --- check_org_tree ----------------------------------------------------------------------------------------


def test_check_org_tree_reports_a_clean_tree(tree, capsys):
    code, out, _ = run(capsys, "check_org_tree")
    assert code == 0 and out.startswith("OK: 7 organizations")


def _corrupt(org: Org, **fields) -> None:
    assignments = ", ".join(f"{name} = %s" for name in fields)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE orgs_org SET {assignments} WHERE id = %s", [*fields.values(), org.pk])


@pytest.mark.parametrize("fields", [{"lft": 999}, {"rght": 2}, {"level": 7}, {"tree_id": 42}])
def test_check_org_tree_detects_corruption_and_fix_repairs_it(tree, capsys, fields):
    _corrupt(tree.gb, **fields)
    code, out, err = run(capsys, "check_org_tree")
    assert code != 0
    assert "BROKEN G0001" in out
    assert "--fix" in err
    code, out, _ = run(capsys, "check_org_tree", "--fix")
    assert code == 0 and "FIXED" in out
    assert tree_problems() == []
    code, out, _ = run(capsys, "check_org_tree")
    assert code == 0
    # The rebuilt tree still answers subtree questions correctly.
    tree.root.refresh_from_db()
    assert set(tree.root.get_descendants().values_list("code", flat=True)) == {"W0001", "G0001", "B0001", "B0002",
                                                                              "B0003"}


def test_check_org_tree_detects_a_parent_link_changed_behind_mptts_back(tree, capsys):
    _corrupt(tree.sibling, parent_id=tree.gb.pk)
    code, out, _ = run(capsys, "check_org_tree")
    assert code != 0 and "BROKEN" in out
    call_command("check_org_tree", "--fix", stdout=None)
    tree.gb.refresh_from_db()
    assert "B0003" in set(tree.gb.get_children().values_list("code", flat=True))
    assert tree_problems() == []


def test_two_roots_sharing_a_tree_id_are_reported(tree, capsys):
    _corrupt(tree.other_root, tree_id=tree.root.tree_id)
    code, out, _ = run(capsys, "check_org_tree")
    assert code != 0 and "R0002" in out
