"""The database itself refuses what the models forbid across rows: containment, members outside branches,
and edits to the audit trail."""

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from audit.models import AuditEntry
from audit.services import record
from members.models import Member
from orgs.models import Org

from . import factories as f


def _raw_insert_org(code, type_code, parent):
    with transaction.atomic():
        Org.objects.create(code=code, short_name=code, full_name=code, type=f.org_type(type_code), parent=parent)


def test_database_refuses_child_under_branch(tree):
    with pytest.raises(IntegrityError):
        _raw_insert_org("X1", "branch", tree.branch)
    assert not Org.objects.filter(code="X1").exists()


def test_database_refuses_work_committee_under_general_branch(tree):
    with pytest.raises(IntegrityError):
        _raw_insert_org("X2", "work_committee", tree.gb)
    assert not Org.objects.filter(code="X2").exists()


def test_database_allows_branch_under_general_branch(tree):
    _raw_insert_org("X3", "branch", tree.gb)
    assert Org.objects.filter(code="X3", parent=tree.gb).exists()


def test_database_refuses_turning_an_org_with_children_into_a_branch(tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        Org.objects.filter(pk=tree.gb.pk).update(type=f.org_type("branch"))
    tree.gb.refresh_from_db()
    assert tree.gb.type.code == "general_branch"


def test_database_refuses_member_in_a_committee(tree):
    person = f.make_person()
    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.create(person=person, branch=tree.wc, joined_on="2015-05-01")
    assert not Member.objects.filter(person=person).exists()


def test_database_refuses_moving_member_to_general_branch(tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.filter(pk=tree.member.pk).update(branch=tree.gb)
    tree.member.refresh_from_db()
    assert tree.member.branch_id == tree.branch.pk


def test_audit_entries_cannot_be_updated_in_the_database(tree):
    entry = record(action="test", actor=tree.root_admin, org=tree.root)
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(action="forged")
    assert AuditEntry.objects.get(pk=entry.pk).action == "test"


def test_audit_entries_cannot_be_deleted_in_the_database(tree):
    entry = record(action="test", actor=tree.root_admin, org=tree.root)
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_audit_entries_cannot_be_deleted_with_raw_sql(tree):
    entry = record(action="test", actor=tree.root_admin, org=tree.root)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM approvals_auditentry")
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_flush_still_empties_the_database_and_the_rules_come_back(org_types):
    # `manage.py flush` (and every transactional test's teardown) wipes the whole database on purpose; on
    # SQLite it does so with DELETE, so it lifts the audit rule for its own statements only.
    org = f.make_org("committee")
    record(action="test", actor=None, org=org)
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEntry.objects.exists()
    f.org_type("committee")
    entry = record(action="test", actor=None, org=f.make_org("committee"))
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(action="forged")


def test_audit_entries_refuse_save_and_delete_in_python(tree):
    entry = record(action="test", actor=tree.root_admin, org=tree.root)
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
