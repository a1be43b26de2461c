"""Org tree services: create (one and from a sheet), edit info, delete — rules, permissions, audit."""

import io

import pytest
from django.core.exceptions import PermissionDenied
from openpyxl import Workbook, load_workbook

from audit.models import AuditEntry
from orgs import services
from orgs.models import Org
from orgs.permissions import Actor
from orgs.services import OrgError
from orgs.tree import tree_problems

from . import factories as f


def actor(person, org):
    return Actor(person=person, org=org, ip="127.0.0.1")


def snapshot() -> tuple:
    """The whole org table and the audit trail's length: a refused call must leave both as they were."""
    return (
        list(Org.objects.order_by("pk").values_list(
            "pk", "code", "short_name", "full_name", "contact_phone", "contact_email", "parent_id", "lft", "rght",
            "level", "tree_id")),
        AuditEntry.objects.count(),
    )


def sheet(rows, header=("简称", "类别", "全称")) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    if header:
        ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return out


# --- create ------------------------------------------------------------------------------------------------


def test_direct_superior_admin_creates_child_with_generated_code_and_audit(tree):
    org = services.org_create(actor=actor(tree.gb_admin, tree.gb), parent=tree.gb, type=f.org_type("branch"),
                              short_name="三班团支部", full_name="学院三班团支部")
    assert org.parent_id == tree.gb.pk
    assert org.code == "G0001001"
    entry = AuditEntry.objects.get(action="org.create", target_id=str(org.pk))
    assert entry.actor_id == tree.gb_admin.pk
    assert entry.after["short_name"] == "三班团支部"
    assert tree_problems() == []


def test_generated_codes_are_sequential_and_unique(tree):
    a = actor(tree.gb_admin, tree.gb)
    codes = [services.org_create(actor=a, parent=tree.gb, type=f.org_type("branch"), short_name=f"支部{i}",
                                 full_name=f"支部{i}").code for i in range(3)]
    assert codes == ["G0001001", "G0001002", "G0001003"]


def test_explicit_code_is_used(tree):
    org = services.org_create(actor=actor(tree.wc_admin, tree.wc), parent=tree.wc, type=f.org_type("branch"),
                              short_name="新支部", full_name="新支部", code="NEW-1")
    assert org.code == "NEW-1"


@pytest.mark.parametrize("who", ["root_admin", "gb_admin", "branch_admin", "sibling_admin", "outsider"])
def test_only_the_parents_admin_creates_children(tree, who):
    acting_org = {"root_admin": tree.root, "gb_admin": tree.gb, "branch_admin": tree.branch,
                  "sibling_admin": tree.sibling, "outsider": tree.other_root}[who]
    before = Org.objects.count()
    with pytest.raises(PermissionDenied):
        services.org_create(actor=actor(getattr(tree, who), acting_org), parent=tree.wc,
                            type=f.org_type("branch"), short_name="越权支部", full_name="越权支部")
    assert Org.objects.count() == before
    assert not AuditEntry.objects.filter(action="org.create").exists()


def test_branch_as_parent_is_refused_with_message_and_nothing_created(tree):
    before = Org.objects.count()
    with pytest.raises(OrgError) as exc:
        services.org_create(actor=actor(tree.branch_admin, tree.branch), parent=tree.branch,
                            type=f.org_type("branch"), short_name="子支部", full_name="子支部")
    assert "一班团支部" in exc.value.message and "团支部" in exc.value.message
    assert Org.objects.count() == before


def test_general_branch_may_contain_only_branches(tree):
    with pytest.raises(OrgError) as exc:
        services.org_create(actor=actor(tree.gb_admin, tree.gb), parent=tree.gb,
                            type=f.org_type("work_committee"), short_name="工委", full_name="工委")
    assert exc.value.field == "type"
    assert not Org.objects.filter(short_name="工委").exists()


def test_duplicate_code_is_refused(tree):
    with pytest.raises(OrgError) as exc:
        services.org_create(actor=actor(tree.wc_admin, tree.wc), parent=tree.wc, type=f.org_type("branch"),
                            short_name="重复", full_name="重复", code="B0001")
    assert "B0001" in exc.value.message
    assert not Org.objects.filter(short_name="重复").exists()


@pytest.mark.parametrize("code", ["has space", "中文", "x" * 33])
def test_malformed_code_is_refused(tree, code):
    before = snapshot()
    with pytest.raises(OrgError) as exc:
        services.org_create(actor=actor(tree.wc_admin, tree.wc), parent=tree.wc, type=f.org_type("branch"),
                            short_name="坏代码", full_name="坏代码", code=code)
    assert exc.value.field == "code" and "组织编码由 1 至 32 个字母" in exc.value.message
    assert snapshot() == before


def test_sibling_with_same_short_name_is_refused(tree):
    with pytest.raises(OrgError) as exc:
        services.org_create(actor=actor(tree.gb_admin, tree.gb), parent=tree.gb, type=f.org_type("branch"),
                            short_name="一班团支部", full_name="另一个")
    assert exc.value.field == "short_name"
    assert Org.objects.filter(short_name="一班团支部").count() == 1


def test_empty_names_and_bad_contacts_are_refused(tree):
    a = actor(tree.wc_admin, tree.wc)
    for kwargs, field in [({"short_name": " ", "full_name": "x"}, "short_name"),
                          ({"short_name": "x", "full_name": ""}, "full_name"),
                          ({"short_name": "x", "full_name": "x", "contact_email": "nope"}, "contact_email"),
                          ({"short_name": "x", "full_name": "x", "contact_phone": "abc"}, "contact_phone")]:
        with pytest.raises(OrgError) as exc:
            services.org_create(actor=a, parent=tree.wc, type=f.org_type("branch"), **kwargs)
        assert exc.value.field == field
    assert not Org.objects.filter(parent=tree.wc, short_name="x").exists()


def test_operator_creates_root_and_child_audited_without_actor(db):
    root = services.org_create_by_operator(parent=None, type=f.org_type("committee"), short_name="新市团委")
    assert root.code == "100000" and root.parent is None and root.full_name == "新市团委"
    child = services.org_create_by_operator(parent=root, type=f.org_type("branch"), short_name="机关支部")
    assert child.code == "100000001"
    entries = AuditEntry.objects.filter(action="org.create")
    assert entries.count() == 2 and all(e.actor_id is None for e in entries)
    assert tree_problems() == []


def test_operator_path_shares_the_containment_rule(tree):
    with pytest.raises(OrgError):
        services.org_create_by_operator(parent=tree.branch, type=f.org_type("branch"), short_name="x")
    assert not Org.objects.filter(short_name="x").exists()


# --- bulk create -------------------------------------------------------------------------------------------


def test_bulk_create_creates_all_valid_rows(tree):
    result = services.org_bulk_create_from_excel(
        actor=actor(tree.wc_admin, tree.wc), parent=tree.wc,
        file=sheet([("二支部", "团支部", "区二支部"), ("新总支", "团总支", "区新总支")]),
    )
    assert result.errors == []
    assert [o.short_name for o in result.created] == ["二支部", "新总支"]
    assert Org.objects.get(short_name="新总支").type.code == "general_branch"
    assert AuditEntry.objects.filter(action="org.create").count() == 2
    assert tree_problems() == []


def test_bulk_create_reports_each_bad_row_and_creates_the_good_ones(tree):
    rows = [
        ("好支部", "团支部", "好支部全称"),       # row 2: ok
        ("坏类别", "团小组", "x"),                # row 3: unknown type
        ("", "团支部", "没有简称"),               # row 4: no short name
        ("好支部", "团支部", "重复"),             # row 5: repeats row 2
        ("一班团支部", "团支部", "已存在"),       # row 6: exists under gb
        ("工委", "团工委", "工委"),               # row 7: gb holds only branches
        ("无全称", "团支部", ""),                 # row 8: no full name
    ]
    result = services.org_bulk_create_from_excel(actor=actor(tree.gb_admin, tree.gb), parent=tree.gb,
                                                  file=sheet(rows))
    assert [o.short_name for o in result.created] == ["好支部"]
    errors = {e.row: e.message for e in result.errors}
    assert sorted(errors) == [3, 4, 5, 6, 7, 8]
    assert "团小组" in errors[3] and "团支部" in errors[3]
    assert "2" in errors[5]
    assert "一班团支部" in errors[6]
    assert not Org.objects.filter(short_name__in=["坏类别", "工委", "无全称"]).exists()


def test_bulk_create_reads_numeric_cells_as_typed(tree):
    result = services.org_bulk_create_from_excel(actor=actor(tree.gb_admin, tree.gb), parent=tree.gb,
                                                  file=sheet([(2024, "团支部", 2024)]))
    assert [o.short_name for o in result.created] == ["2024"]


def test_bulk_create_refuses_a_non_spreadsheet_file(tree):
    before = Org.objects.count()
    with pytest.raises(OrgError) as exc:
        services.org_bulk_create_from_excel(actor=actor(tree.gb_admin, tree.gb), parent=tree.gb,
                                            file=io.BytesIO("简称,类别,全称\nx,团支部,x\n".encode()))
    assert "Excel" in exc.value.message
    assert Org.objects.count() == before


def test_bulk_create_refuses_a_broken_zip_pretending_to_be_xlsx(tree):
    before = snapshot()
    with pytest.raises(OrgError) as exc:
        services.org_bulk_create_from_excel(actor=actor(tree.gb_admin, tree.gb), parent=tree.gb,
                                            file=io.BytesIO(b"PK\x03\x04garbage"))
    assert exc.value.field == "file" and "Excel" in exc.value.message
    assert snapshot() == before


def test_bulk_create_needs_the_headings(tree):
    with pytest.raises(OrgError) as exc:
        services.org_bulk_create_from_excel(actor=actor(tree.gb_admin, tree.gb), parent=tree.gb,
                                            file=sheet([("x", "团支部", "x")], header=("名称", "类型", "全名")))
    assert "简称" in exc.value.message
    assert not Org.objects.filter(short_name="x").exists()


def test_bulk_create_with_no_rows_is_refused(tree):
    before = snapshot()
    with pytest.raises(OrgError) as exc:
        services.org_bulk_create_from_excel(actor=actor(tree.gb_admin, tree.gb), parent=tree.gb, file=sheet([]))
    assert exc.value.message == "表格标题行下没有数据。"
    assert snapshot() == before


def test_bulk_create_only_by_parents_admin(tree):
    with pytest.raises(PermissionDenied):
        services.org_bulk_create_from_excel(actor=actor(tree.wc_admin, tree.wc), parent=tree.gb,
                                            file=sheet([("x", "团支部", "x")]))
    assert not Org.objects.filter(short_name="x").exists()


def test_sheet_template_has_headings_and_allowed_types(tree):
    wb = load_workbook(io.BytesIO(services.org_sheet_template(tree.gb)))
    ws = wb.active
    assert [c.value for c in ws[1]] == ["简称", "类别", "全称"]
    assert ws.data_validations.dataValidation[0].formula1 == '"团支部"'


# --- edit info ---------------------------------------------------------------------------------------------


def test_superior_admin_edit_takes_effect_at_once_and_is_audited(tree):
    diff = services.org_update_info(actor=actor(tree.gb_admin, tree.gb), org=tree.branch,
                                    changes={"full_name": "新全称", "contact_phone": "010-12345678",
                                             "short_name": "一班团支部"})
    tree.branch.refresh_from_db()
    assert tree.branch.full_name == "新全称" and tree.branch.contact_phone == "010-12345678"
    assert set(diff) == {"full_name", "contact_phone"}
    entry = AuditEntry.objects.get(action="org.update")
    assert entry.before["full_name"] != "新全称" and entry.after == {"full_name": "新全称",
                                                                     "contact_phone": "010-12345678"}


def test_own_admin_edit_files_a_request_and_changes_nothing_yet(tree):
    from approvals.models import ApprovalRequest

    old = tree.branch.full_name
    applied = services.org_update_info(actor=actor(tree.branch_admin, tree.branch), org=tree.branch,
                                       changes={"full_name": "自己改"})
    assert applied == {}
    tree.branch.refresh_from_db()
    assert tree.branch.full_name == old
    assert not AuditEntry.objects.filter(action="org.update").exists()
    assert ApprovalRequest.objects.get(kind="org_info").changes == {"full_name": [old, "自己改"]}


@pytest.mark.parametrize("who", ["root_admin", "wc_admin", "branch2_admin", "outsider"])
def test_others_may_not_edit(tree, who):
    acting = {"root_admin": tree.root, "wc_admin": tree.wc, "branch2_admin": tree.branch2,
              "outsider": tree.other_root}[who]
    with pytest.raises(PermissionDenied):
        services.org_update_info(actor=actor(getattr(tree, who), acting), org=tree.branch,
                                 changes={"full_name": "越权"})
    tree.branch.refresh_from_db()
    assert tree.branch.full_name != "越权"


def test_edit_rejects_unknown_fields_and_sibling_name_clash(tree):
    a = actor(tree.gb_admin, tree.gb)
    with pytest.raises(OrgError):
        services.org_update_info(actor=a, org=tree.branch, changes={"code": "HACK"})
    with pytest.raises(OrgError):
        services.org_update_info(actor=a, org=tree.branch, changes={"short_name": "二班团支部"})
    tree.branch.refresh_from_db()
    assert tree.branch.code == "B0001" and tree.branch.short_name == "一班团支部"


def test_org_info_changes_lists_only_changed_fields(tree):
    changes = services.org_info_changes(tree.branch, {"short_name": "一班团支部", "full_name": "改", "x": 1})
    assert changes == {"full_name": [tree.branch.full_name, "改"]}


# --- delete ------------------------------------------------------------------------------------------------


def test_superior_admin_deletes_an_empty_org_and_tree_stays_valid(tree):
    empty = f.make_org("branch", parent=tree.gb, short_name="空支部")
    services.org_delete(actor=actor(tree.gb_admin, tree.gb), org=empty)
    assert not Org.objects.filter(pk=empty.pk).exists()
    assert AuditEntry.objects.get(action="org.delete").before["short_name"] == "空支部"
    assert tree_problems() == []


@pytest.mark.parametrize("what", ["children", "members", "cadres"])
def test_deleting_a_non_empty_org_is_refused(tree, what):
    if what == "children":
        target, a = tree.gb, actor(tree.wc_admin, tree.wc)
    elif what == "members":
        target, a = tree.branch, actor(tree.gb_admin, tree.gb)
    else:
        target, a = tree.branch2, actor(tree.gb_admin, tree.gb)
        f.make_cadre(tree.branch2, position="书记")
    with pytest.raises(OrgError) as exc:
        services.org_delete(actor=a, org=target)
    assert target.short_name in exc.value.message
    assert Org.objects.filter(pk=target.pk).exists()
    assert not AuditEntry.objects.filter(action="org.delete").exists()


@pytest.mark.parametrize("who", ["root_admin", "branch2_admin", "outsider"])
def test_only_direct_superior_deletes(tree, who):
    acting = {"root_admin": tree.root, "branch2_admin": tree.branch2, "outsider": tree.other_root}[who]
    empty = f.make_org("branch", parent=tree.gb, short_name="空支部")
    with pytest.raises(PermissionDenied):
        services.org_delete(actor=actor(getattr(tree, who), acting), org=empty)
    assert Org.objects.filter(pk=empty.pk).exists()


def test_own_admin_request_goes_to_the_direct_superior(tree):
    from approvals.models import ApprovalRequest

    req = services.org_request_info_change(actor=actor(tree.branch_admin, tree.branch), org=tree.branch,
                                           changes={"contact_email": "b@example.org"})
    assert isinstance(req, ApprovalRequest) and req.deciding_org == tree.gb
    tree.branch.refresh_from_db()
    assert tree.branch.contact_email == ""


@pytest.mark.parametrize("who", ["gb_admin", "root_admin", "branch2_admin"])
def test_only_the_own_admin_files_info_requests(tree, who):
    from approvals.models import ApprovalRequest

    acting = {"gb_admin": tree.gb, "root_admin": tree.root, "branch2_admin": tree.branch2}[who]
    with pytest.raises(PermissionDenied):
        services.org_request_info_change(actor=actor(getattr(tree, who), acting), org=tree.branch,
                                         changes={"full_name": "x"})
    assert not ApprovalRequest.objects.exists()


def test_info_request_without_change_is_refused(tree):
    with pytest.raises(OrgError):
        services.org_request_info_change(actor=actor(tree.branch_admin, tree.branch), org=tree.branch,
                                         changes={"short_name": tree.branch.short_name})


# --- move --------------------------------------------------------------------------------------------------


def test_ancestor_admin_moves_an_org_with_its_subtree(tree):
    f.make_member(tree.branch2)
    moved = services.org_move(actor=actor(tree.root_admin, tree.root), org=tree.gb, new_parent=tree.root)
    assert moved.parent == tree.root
    tree.root.refresh_from_db()
    assert {"B0001", "B0002"} <= set(Org.objects.get(pk=tree.gb.pk).get_descendants().values_list("code", flat=True))
    assert tree_problems() == []
    entry = AuditEntry.objects.get(action="org.move")
    assert (entry.before, entry.after) == ({"parent": "W0001"}, {"parent": "R0001"})


def test_direct_superior_moves_a_branch_between_its_orgs(tree):
    services.org_move(actor=actor(tree.wc_admin, tree.wc), org=tree.branch, new_parent=tree.wc)
    tree.branch.refresh_from_db()
    assert tree.branch.parent == tree.wc and tree.branch.level == 2
    assert tree_problems() == []


@pytest.mark.parametrize(("org", "target", "needle"), [
    ("wc", "gb", "它的下级组织之下"),  # under its own subordinate
    ("gb", "sibling", "机关团支部"),  # a branch as parent
    ("gb", "wc", "区团工委"),         # already there
])
def test_move_refuses_invalid_targets(tree, org, target, needle):
    before = snapshot()
    with pytest.raises(OrgError) as exc:
        services.org_move(actor=actor(tree.root_admin, tree.root), org=getattr(tree, org),
                          new_parent=getattr(tree, target))
    assert needle in exc.value.message and exc.value.field == "parent_code"
    assert snapshot() == before


def test_move_refuses_a_sibling_name_clash(tree):
    f.make_org("branch", parent=tree.wc, short_name="一班团支部")
    with pytest.raises(OrgError):
        services.org_move(actor=actor(tree.wc_admin, tree.wc), org=tree.branch, new_parent=tree.wc)
    tree.branch.refresh_from_db()
    assert tree.branch.parent == tree.gb


@pytest.mark.parametrize(("who", "target"), [
    ("gb_admin", "gb"),        # the org's own admin does not move it
    ("wc_admin", "root"),      # target outside the actor's subtree
    ("outsider", "other_root"),
    ("branch2_admin", "branch2"),
])
def test_move_needs_both_parents_in_the_actors_subtree(tree, who, target):
    acting = {"gb_admin": tree.gb, "wc_admin": tree.wc, "outsider": tree.other_root,
              "branch2_admin": tree.branch2}[who]
    org = tree.gb if who != "branch2_admin" else tree.branch
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.org_move(actor=actor(getattr(tree, who), acting), org=org, new_parent=getattr(tree, target))
    assert snapshot() == before


def test_a_root_cannot_be_moved(tree):
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.org_move(actor=actor(tree.root_admin, tree.root), org=tree.root, new_parent=tree.wc)
    assert snapshot() == before


def test_deleting_an_org_other_records_refer_to_is_refused(tree):
    empty = f.make_org("branch", parent=tree.gb, short_name="空支部")
    empty_admin = f.make_admin(empty)
    services.org_request_info_change(actor=actor(empty_admin, empty), org=empty, changes={"full_name": "新"})
    audit_before = AuditEntry.objects.count()
    with pytest.raises(OrgError) as exc:
        services.org_delete(actor=actor(tree.gb_admin, tree.gb), org=empty)
    assert "空支部" in exc.value.message
    assert Org.objects.filter(pk=empty.pk).exists()
    assert AuditEntry.objects.count() == audit_before
    assert tree_problems() == []
