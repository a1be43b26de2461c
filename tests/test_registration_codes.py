"""Issuing admin registration codes: who may, what is stored, revocation, the .xlsx export and the command."""

import datetime as dt
import io
import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone, translation
from openpyxl import load_workbook

from audit.models import AuditEntry
from orgs import codes
from orgs.admin_registration import admin_register
from orgs.codes import ALPHABET, CODE_LENGTH, CodeError, code_issue, codes_issue_bulk, codes_workbook, hash_code
from orgs.models import OrgAdmin, RegistrationCode
from orgs.permissions import Actor

from . import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    # The messages are asserted in their English source form, whatever the compiled catalog holds.
    with translation.override("en"):
        yield


def actor(person, org):
    return Actor(person=person, org=org, ip="10.0.0.1")


def test_direct_superior_admin_issues_a_code_stored_only_as_its_hash(tree):
    code = code_issue(actor=actor(tree.gb_admin, tree.gb), org=tree.branch)
    assert len(code) == CODE_LENGTH and set(code) <= set(ALPHABET)
    row = RegistrationCode.objects.get(org=tree.branch)
    assert row.code_hash == hash_code(code)
    values = RegistrationCode.objects.filter(pk=row.pk).values().get()
    assert all(code not in str(value) for value in values.values())
    assert row.created_by == tree.gb_admin and row.used_at is None and row.revoked_at is None


def test_code_alphabet_has_no_look_alikes_and_about_58_bits():
    import math

    assert not set("0Oo1lI") & set(ALPHABET)
    assert CODE_LENGTH * math.log2(len(ALPHABET)) >= 58


def test_code_expires_after_the_configured_days(tree, settings):
    settings.ZHTJ_REGISTRATION_CODE_DAYS = 3
    code_issue(actor=actor(tree.gb_admin, tree.gb), org=tree.branch)
    row = RegistrationCode.objects.get(org=tree.branch)
    assert row.expires_at - row.created_at == dt.timedelta(days=3)


def test_default_lifetime_is_twenty_days(tree):
    code_issue(actor=actor(tree.gb_admin, tree.gb), org=tree.branch)
    row = RegistrationCode.objects.get(org=tree.branch)
    assert row.expires_at - row.created_at == dt.timedelta(days=20)


def test_issuing_again_revokes_the_old_code(tree):
    a = actor(tree.gb_admin, tree.gb)
    first = code_issue(actor=a, org=tree.branch)
    second = code_issue(actor=a, org=tree.branch)
    assert first != second
    old = RegistrationCode.objects.get(code_hash=hash_code(first))
    new = RegistrationCode.objects.get(code_hash=hash_code(second))
    assert old.revoked_at is not None and new.revoked_at is None
    assert RegistrationCode.objects.filter(org=tree.branch, used_at=None, revoked_at=None).count() == 1


def test_issuing_is_audited_without_the_code(tree):
    code = code_issue(actor=actor(tree.gb_admin, tree.gb), org=tree.branch)
    entry = AuditEntry.objects.get(action="code.issue")
    assert entry.actor == tree.gb_admin and entry.org_id == tree.branch.pk and entry.acting_org_id == tree.gb.pk
    assert entry.ip == "10.0.0.1"
    assert code not in str(entry.after) and code not in entry.target_repr and code not in entry.reason


@pytest.mark.parametrize(
    "who",
    ["branch_admin", "branch2_admin", "root_admin", "wc_admin", "sibling_admin", "outsider"],
)
def test_only_the_direct_superior_admin_may_issue(tree, who):
    own = {"branch_admin": tree.branch, "branch2_admin": tree.branch2, "root_admin": tree.root, "wc_admin": tree.wc,
           "sibling_admin": tree.sibling, "outsider": tree.other_root}[who]
    # branch's own admin, a sibling branch's, a higher ancestor's (root, wc: grandparents), another tree's.
    with pytest.raises(PermissionDenied):
        code_issue(actor=actor(getattr(tree, who), own), org=tree.branch)
    assert not RegistrationCode.objects.exists()
    assert not AuditEntry.objects.filter(action="code.issue").exists()


def test_member_without_admin_role_may_not_issue(tree):
    with pytest.raises(PermissionDenied):
        code_issue(actor=Actor(person=tree.member.person, org=None), org=tree.branch)
    assert not RegistrationCode.objects.exists()


def test_bulk_issue_gives_one_code_per_direct_subordinate(tree):
    rows = codes_issue_bulk(actor=actor(tree.gb_admin, tree.gb), orgs=[tree.branch2, tree.branch])
    assert [org.code for org, _, _ in rows] == ["B0001", "B0002"]
    for org, code, expires in rows:
        row = RegistrationCode.objects.get(org=org, revoked_at=None)
        assert row.code_hash == hash_code(code) and row.expires_at == expires
    assert AuditEntry.objects.filter(action="code.issue").count() == 2


def test_bulk_issue_refuses_all_when_one_org_is_not_a_direct_subordinate(tree):
    with pytest.raises(PermissionDenied):
        codes_issue_bulk(actor=actor(tree.wc_admin, tree.wc), orgs=[tree.sibling, tree.branch])
    assert not RegistrationCode.objects.exists()


def test_bulk_issue_of_nothing_is_refused(tree):
    with pytest.raises(CodeError):
        codes_issue_bulk(actor=actor(tree.gb_admin, tree.gb), orgs=[])


def test_workbook_lists_org_code_name_code_and_expiry_as_text(tree):
    rows = codes_issue_bulk(actor=actor(tree.gb_admin, tree.gb), orgs=[tree.branch, tree.branch2])
    ws = load_workbook(io.BytesIO(codes_workbook(rows))).active
    values = list(ws.iter_rows(values_only=True))
    assert values[0] == ("组织编码", "组织名称", "注册码", "有效期至")
    assert [(r[0], r[1], r[2]) for r in values[1:]] == [
        (org.code, org.full_name, code) for org, code, _ in rows
    ]
    expected = timezone.localtime(rows[0][2]).replace(tzinfo=None)
    assert abs(values[1][3] - expected) < dt.timedelta(seconds=1)
    assert ws.cell(row=2, column=3).number_format == "@" and ws.cell(row=2, column=1).number_format == "@"
    assert ws.cell(row=2, column=3).data_type == "s"


def test_subordinate_status_shows_none_live_used_expired(tree):
    a = actor(tree.wc_admin, tree.wc)
    extra = f.make_org("branch", parent=tree.wc, code="B0009")
    used_org = f.make_org("branch", parent=tree.wc, code="B0008")
    code_issue(actor=a, org=tree.gb)  # live
    code_issue(actor=a, org=extra)
    RegistrationCode.objects.filter(org=extra).update(
        created_at=timezone.now() - dt.timedelta(days=30), expires_at=timezone.now() - dt.timedelta(days=10)
    )
    code_issue(actor=a, org=used_org)
    RegistrationCode.objects.filter(org=used_org).update(used_at=timezone.now(), used_by=tree.wc_admin)
    states = {s.org.code: s.state for s in codes.subordinate_code_status(tree.wc)}
    assert states == {"G0001": "live", "B0003": "none", "B0009": "expired", "B0008": "used"}


def test_command_prints_only_the_code_on_stdout(tree, capsys):
    out, err = io.StringIO(), io.StringIO()
    call_command("issue_admin_code", "B0001", stdout=out, stderr=err)
    code = out.getvalue().strip()
    assert len(code) == CODE_LENGTH and "\n" not in code
    row = RegistrationCode.objects.get(org=tree.branch, revoked_at=None)
    assert row.code_hash == hash_code(code) and row.created_by is None
    assert "B0001" in err.getvalue()
    entry = AuditEntry.objects.get(action="code.issue")
    assert entry.actor is None and entry.org_id == tree.branch.pk


def test_command_issues_codes_for_root_orgs_and_revokes_the_previous(tree):
    out1, out2 = io.StringIO(), io.StringIO()
    call_command("issue_admin_code", "R0001", stdout=out1, stderr=io.StringIO())
    call_command("issue_admin_code", "R0001", stdout=out2, stderr=io.StringIO())
    first = RegistrationCode.objects.get(code_hash=hash_code(out1.getvalue().strip()))
    assert first.revoked_at is not None
    assert RegistrationCode.objects.get(code_hash=hash_code(out2.getvalue().strip())).revoked_at is None


def test_command_with_unknown_org_fails_clearly(tree):
    with pytest.raises(CommandError, match="NOPE"):
        call_command("issue_admin_code", "NOPE", stdout=io.StringIO(), stderr=io.StringIO())
    assert not RegistrationCode.objects.exists()


def test_command_exits_non_zero_for_unknown_org(tree, capsys):
    from django.core.management import ManagementUtility

    with pytest.raises(SystemExit) as exc:
        ManagementUtility(["manage.py", "issue_admin_code", "NO-SUCH-ORG"]).execute()
    assert exc.value.code != 0
    captured = capsys.readouterr()
    assert captured.out == "" and "NO-SUCH-ORG" in captured.err


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
@pytest.mark.django_db(transaction=True)
def test_two_admins_registering_with_one_code_at_once_only_one_wins():
    parent = f.make_org("committee", code="PR01")
    org = f.make_org("branch", parent=parent, code="PB01")
    boss = f.make_admin(parent)
    code = code_issue(actor=Actor(person=boss, org=parent), org=org)
    barrier = threading.Barrier(2)
    results: list[object] = []
    numbers = [f.next_id_number(), f.next_id_number()]

    def register(number: str, name: str) -> None:
        try:
            barrier.wait()
            person = admin_register(org=org, code=code, name=name, id_number=number, phone="13800138000",
                                    password="Kx7#mq-2Lp!a", ip="10.0.0.9")
            results.append(person.pk)
        except CodeError as exc:
            results.append(exc.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=register, args=(numbers[i], f"并发{i}")) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r for r in results if isinstance(r, int)]
    losers = [r for r in results if isinstance(r, str)]
    assert len(winners) == 1 and len(losers) == 1
    assert "already been used" in losers[0] or "已" in losers[0]
    assert OrgAdmin.objects.get(org=org).person_id == winners[0]
    assert AuditEntry.objects.filter(action="admin.register").count() == 1
    # The loser's person was rolled back with their transaction.
    from members.models import Person

    assert Person.objects.filter(id_number__in=numbers).count() == 1
