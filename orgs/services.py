"""State changes of the org tree: create (one or from a sheet), edit info, delete.

Every structural write takes the tree lock (orgs.tree.lock_tree) inside its transaction, re-reads what it
decides on after locking, and writes an audit entry in the same transaction. Permission failures raise
PermissionDenied (a view turns it into 403); rule violations raise OrgError with a translated message.
See docs/orgs.md.
"""

import contextlib
import io
import re
import tempfile
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from approvals.kinds import ApprovalError
from approvals.services import request_submit
from audit.services import record
from members.models import Cadre, Member
from spreadsheets.checks import FileError, corrupt_error
from spreadsheets.workbook import open_workbook
from spreadsheets.xlsx_stream import XlsxError
from zhtj.errors import UserError

from .counts import shift_subtree
from .models import Org, OrgType, may_contain
from .permissions import Actor, may_edit_info_at_once
from .tree import lock_tree

CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# What the superior may change on an org's info page; the type is fixed once set and the code never
# changes (operators' scripts and other systems refer to it).
INFO_FIELDS = ("short_name", "full_name", "contact_phone", "contact_email")
MAX_SHORT_NAME = Org._meta.get_field("short_name").max_length
MAX_FULL_NAME = Org._meta.get_field("full_name").max_length
MAX_BULK_ROWS = 500


class OrgError(UserError):
    """A rule of the org tree refused the change; the message is for the user."""


# ---------------------------------------------------------------------------------------------------------
# Shared rules


def containment_error(parent: Org, org_type: OrgType) -> str | None:
    """The message saying why parent may not hold an org of this type, or None when it may."""
    if may_contain(parent.type.category, org_type.category):
        return None
    if parent.is_branch:
        return _("%(parent)s is a %(parent_type)s, which cannot have subordinate organizations.") % {
            "parent": parent.short_name, "parent_type": parent.type.name,
        }
    return _("%(parent)s is a %(parent_type)s, which can only contain branches, not a %(child_type)s.") % {
        "parent": parent.short_name, "parent_type": parent.type.name, "child_type": org_type.name,
    }


def _clean_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a spreadsheet keeps a name typed as 2024 as the number 2024.0
    return " ".join(str(value if value is not None else "").split())


def _check_names(short_name: str, full_name: str) -> None:
    if not short_name:
        raise OrgError(_("Enter the short name."), field="short_name")
    if len(short_name) > MAX_SHORT_NAME:
        raise OrgError(_("The short name may have at most %(n)d characters.") % {"n": MAX_SHORT_NAME},
                       field="short_name")
    if not full_name:
        raise OrgError(_("Enter the full name."), field="full_name")
    if len(full_name) > MAX_FULL_NAME:
        raise OrgError(_("The full name may have at most %(n)d characters.") % {"n": MAX_FULL_NAME},
                       field="full_name")


def _check_sibling_name(parent: Org | None, short_name: str, exclude_pk: int | None = None) -> None:
    if parent is None:
        return
    siblings = Org.objects.filter(parent=parent, short_name=short_name)
    if exclude_pk is not None:
        siblings = siblings.exclude(pk=exclude_pk)
    if siblings.exists():
        raise OrgError(
            _("%(parent)s already has a subordinate organization named %(name)s.")
            % {"parent": parent.short_name, "name": short_name},
            field="short_name",
        )


def _save_checking_sibling_name(org: Org, *, parent: Org | None, short_name: str, **save_kwargs: Any) -> None:
    """Save org in a savepoint; when a concurrent transaction gave a sibling the same name first, answer as
    the serial case does.

    _check_sibling_name ran before the write, but a rename takes no tree lock, so two transactions may both
    pass it. On PostgreSQL the second writer then waits on the unique index for the first to commit and gets
    an IntegrityError; by then the check sees the committed sibling and raises its own clear error. Any other
    integrity error is re-raised for the caller.
    """
    try:
        with transaction.atomic():
            org.save(**save_kwargs)
    except IntegrityError:
        _check_sibling_name(parent, short_name, exclude_pk=org.pk)
        raise


def _check_contact(contact_phone: str, contact_email: str) -> None:
    if contact_phone and not re.fullmatch(r"[0-9+\- ]{5,20}", contact_phone):
        raise OrgError(_("Enter a phone number of digits (and + or -), at most 20 characters."),
                       field="contact_phone")
    if contact_email:
        try:
            validate_email(contact_email)
        except ValidationError:
            raise OrgError(_("Enter a valid email address."), field="contact_email") from None


def _generate_code(parent: Org | None) -> str:
    """A unique human code: the parent's code followed by a 3-digit sequence (roots: 100000, 110000, …).

    Called under the tree lock, so two creations cannot pick the same code.
    """
    if parent is None:
        candidates = [f"{n}0000" for n in range(10, 100)]
    else:
        candidates = [f"{parent.code}{n:03d}" for n in range(1, 1000)] if len(parent.code) <= 29 else []
    taken = set(Org.objects.filter(code__in=candidates).values_list("code", flat=True))
    for candidate in candidates:
        if candidate not in taken:
            return candidate
    # Exhausted (or too long): fall back to the next free number after the largest numeric id.
    last = Org.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    n = last + 1
    while Org.objects.filter(code=f"O{n:08d}").exists():
        n += 1
    return f"O{n:08d}"


def _snapshot(org: Org) -> dict:
    return {
        "code": org.code, "short_name": org.short_name, "full_name": org.full_name, "type": org.type.code,
        "parent": org.parent.code if org.parent_id else None,
        "contact_phone": org.contact_phone, "contact_email": org.contact_email,
    }


def _locked_parent(parent: Org | None) -> Org | None:
    """Re-read the parent after taking the tree lock: its lft/rght may have moved since the caller read it."""
    if parent is None:
        return None
    try:
        return Org.objects.select_for_update().select_related("type").get(pk=parent.pk)
    except Org.DoesNotExist:
        raise OrgError(_("The superior organization no longer exists.")) from None


def _insert(*, actor: Actor | None, parent: Org | None, org_type: OrgType, short_name: str, full_name: str,
            code: str | None, contact_phone: str, contact_email: str) -> Org:
    """Create one org; the caller holds the tree lock, has re-read parent and checked permission."""
    short_name, full_name = _clean_text(short_name), _clean_text(full_name)
    contact_phone, contact_email = _clean_text(contact_phone), _clean_text(contact_email)
    _check_names(short_name, full_name)
    _check_contact(contact_phone, contact_email)
    if parent is not None:
        problem = containment_error(parent, org_type)
        if problem:
            raise OrgError(problem, field="type")
    _check_sibling_name(parent, short_name)
    if code is None or code == "":
        code = _generate_code(parent)
    else:
        code = code.strip()
        if not CODE_RE.fullmatch(code):
            raise OrgError(_("An organization code is 1 to 32 letters, digits, - or _."), field="code")
        if Org.objects.filter(code=code).exists():
            raise OrgError(_("The organization code %(code)s is already taken.") % {"code": code}, field="code")
    org = Org(code=code, short_name=short_name, full_name=full_name, type=org_type, parent=parent,
              contact_phone=contact_phone, contact_email=contact_email)
    try:
        _save_checking_sibling_name(org, parent=parent, short_name=short_name)
    except IntegrityError:
        # The database's own rules (unique code, containment trigger) are the last line.
        raise OrgError(_("The organization could not be created: its code is taken or the superior cannot "
                         "contain it.")) from None
    record(action="org.create", actor=actor, org=org, target=org, after=_snapshot(org))
    return org


# ---------------------------------------------------------------------------------------------------------
# Create


@transaction.atomic
def org_create(*, actor: Actor, parent: Org, type: OrgType, short_name: str, full_name: str,
               code: str | None = None, contact_phone: str = "", contact_email: str = "") -> Org:
    """The parent's admin (the new org's direct superior admin) creates one direct child."""
    if not actor.is_admin_of(parent):
        raise PermissionDenied
    lock_tree()
    parent = _locked_parent(parent)
    return _insert(actor=actor, parent=parent, org_type=type, short_name=short_name, full_name=full_name,
                   code=code, contact_phone=contact_phone, contact_email=contact_email)


@transaction.atomic
def org_create_by_operator(*, parent: Org | None, type: OrgType, short_name: str, full_name: str = "",
                           code: str | None = None, contact_phone: str = "", contact_email: str = "") -> Org:
    """The operator path (manage.py create_org, seed_demo): the same rules, no acting person."""
    lock_tree()
    parent = _locked_parent(parent)
    return _insert(actor=None, parent=parent, org_type=type, short_name=short_name,
                   full_name=full_name or short_name, code=code, contact_phone=contact_phone,
                   contact_email=contact_email)


# ---------------------------------------------------------------------------------------------------------
# Bulk create from a sheet

SHEET_COLUMNS = ("简称", "类别", "全称")
# The headings are looked for in this many rows at the top of each visible sheet.
HEADING_ROWS = 10
SHEET_MAX_BYTES = 5 * 1024 * 1024  # 500 rows of three short texts fit in a few KB
SHEET_MAX_UNCOMPRESSED = 100 * 1024 * 1024


@dataclass
class RowError:
    row: int  # the row number as Excel shows it
    message: str


@dataclass
class BulkCreateResult:
    created: list[Org] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def read_org_sheet(file: IO[bytes]) -> list[tuple[int, dict[str, str]]]:
    """The data rows of the first visible sheet with the headings, as (Excel row number, {简称, 类别, 全称});
    blank rows skipped.

    The upload goes through the same checks and readers as a member import (spreadsheets.workbook): an .xlsx is
    streamed and read only as far as MAX_BULK_ROWS rows need, an .xls is measured before it is read, so no
    upload can make the reader claim memory out of proportion to the file.
    """
    with tempfile.NamedTemporaryFile(prefix="orgs-", suffix=".upload") as copy:
        size = 0
        while chunk := file.read(1024 * 1024):
            size += len(chunk)
            if size > SHEET_MAX_BYTES:
                raise OrgError(_("The file is larger than %(mb)d MB; a sheet of organizations is far smaller. Upload"
                                 " the filled-in template.") % {"mb": SHEET_MAX_BYTES // (1024 * 1024)}, field="file")
            copy.write(chunk)
        copy.flush()
        try:
            sheets = open_workbook(copy.name, name=str(getattr(file, "name", "") or ""),
                                   max_uncompressed=SHEET_MAX_UNCOMPRESSED)
            try:
                return _sheet_rows(sheets)
            finally:
                sheets.close()
        except XlsxError:
            raise OrgError(corrupt_error().message, field="file") from None
        except FileError as exc:
            raise OrgError(exc.message, field="file") from None


def _heading(sheets, name: str) -> tuple[int, dict[str, int]] | None:
    """(row number, column of each heading) when one of the sheet's top rows holds the three headings."""
    with contextlib.closing(sheets.rows(name)) as rows:
        for seen, (number, cells) in enumerate(rows):
            if seen >= HEADING_ROWS or number > HEADING_ROWS:
                return None
            texts = [_clean_text(c) for c in cells]
            if all(name in texts for name in SHEET_COLUMNS):
                return number, {name: texts.index(name) for name in SHEET_COLUMNS}
    return None


def _sheet_rows(sheets) -> list[tuple[int, dict[str, str]]]:
    found = None
    for name in sheets.sheet_names:
        if name not in sheets.hidden_sheets:
            heading = _heading(sheets, name)
            if heading is not None:
                found = name, *heading
                break
    if found is None:
        hidden = next((name for name in sheets.sheet_names
                       if name in sheets.hidden_sheets and _heading(sheets, name) is not None), None)
        if hidden is not None:
            raise OrgError(_("The sheet “%(sheet)s” has the headings 简称, 类别 and 全称 but is hidden, and hidden"
                             " sheets are never read. Unhide it in Excel or WPS (right-click a sheet tab, Unhide),"
                             " or copy its rows into a visible sheet, then upload the file again.")
                           % {"sheet": hidden}, field="file")
        raise OrgError(_("The sheet needs the column headings 简称, 类别 and 全称 in its first row."),
                       field="file")
    name, header_row, columns = found
    result = []
    with contextlib.closing(sheets.rows(name)) as rows:
        for number, row in rows:
            if number <= header_row:
                continue
            values = {name: _clean_text(row[col]) if col < len(row) else "" for name, col in columns.items()}
            if any(values.values()):
                result.append((number, values))
                if len(result) > MAX_BULK_ROWS:
                    raise OrgError(_("A sheet may hold at most %(n)d organizations; split it into several files.")
                                   % {"n": MAX_BULK_ROWS}, field="file")
    if not result:
        raise OrgError(_("The sheet has no rows under its headings."), field="file")
    return result


@transaction.atomic
def org_bulk_create_from_excel(*, actor: Actor, parent: Org, file: IO[bytes]) -> BulkCreateResult:
    """Create the parent's direct children listed in a sheet (简称 + 类别 + 全称).

    Each bad row gets its own error and is skipped; all good rows are created in this one transaction.
    A file that is not a sheet, or has no usable heading, raises OrgError and creates nothing.
    """
    if not actor.is_admin_of(parent):
        raise PermissionDenied
    rows = read_org_sheet(file)
    lock_tree()
    parent = _locked_parent(parent)
    types = {t.name: t for t in OrgType.objects.all()}
    result = BulkCreateResult()
    seen: dict[str, int] = {}
    for number, values in rows:
        short_name, type_name, full_name = values["简称"], values["类别"], values["全称"]
        if short_name in seen:
            result.errors.append(RowError(number, _("Row %(row)d repeats the short name %(name)s.")
                                          % {"row": seen[short_name], "name": short_name}))
            continue
        seen[short_name] = number
        org_type = types.get(type_name)
        if org_type is None:
            result.errors.append(RowError(number, _("Unknown type %(type)s: use one of %(types)s.") % {
                "type": type_name or "—", "types": "、".join(types)}))
            continue
        try:
            with transaction.atomic():
                result.created.append(_insert(
                    actor=actor, parent=parent, org_type=org_type, short_name=short_name, full_name=full_name,
                    code=None, contact_phone="", contact_email="",
                ))
        except OrgError as error:
            result.errors.append(RowError(number, error.message))
    return result


def org_sheet_template(parent: Org) -> bytes:
    """An .xlsx with the three headings, an example row and a drop-down of the types this parent may hold."""
    from openpyxl import Workbook
    from openpyxl.worksheet.datavalidation import DataValidation

    allowed = [t.name for t in OrgType.objects.all() if may_contain(parent.type.category, t.category)]
    wb = Workbook()
    ws = wb.active
    ws.title = "组织"
    ws.append(list(SHEET_COLUMNS))
    example = "团支部" if "团支部" in allowed else (allowed[0] if allowed else "")
    ws.append(["示例团支部", example, f"{parent.full_name}示例团支部"])
    for column, width in zip("ABC", (24, 14, 48), strict=True):
        ws.column_dimensions[column].width = width
    if allowed:
        validation = DataValidation(type="list", formula1='"' + ",".join(allowed) + '"', allow_blank=True)
        ws.add_data_validation(validation)
        validation.add("B2:B1000")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------------------
# Edit info


def org_info_changes(org: Org, cleaned_data: dict) -> dict[str, list]:
    """The info fields cleaned_data would change, as {field: [old, new]} (the approvals engine calls this)."""
    changes = {}
    for name in INFO_FIELDS:
        if name not in cleaned_data:
            continue
        new = _clean_text(cleaned_data[name])
        old = getattr(org, name)
        if new != old:
            changes[name] = [old, new]
    return changes


@transaction.atomic
def org_update_info(*, actor: Actor, org: Org, changes: dict) -> dict[str, list]:
    """Change an org's info: at once by the direct superior admin, or by the own admin of a top-level org
    (nobody is above it), audited with before/after; by any other org's own admin, as an `org_info` approval
    request for the direct superior (org_request_info_change).

    changes maps info field names to new values. Returns the changes applied now ({} when a request was
    filed instead). Anyone else gets PermissionDenied.
    """
    if actor.is_admin_of(org) and org.parent_id is not None:
        org_request_info_change(actor=actor, org=org, changes=changes)
        return {}
    if not may_edit_info_at_once(actor, org):
        raise PermissionDenied
    unknown = set(changes) - set(INFO_FIELDS)
    if unknown:
        raise OrgError(_("These fields cannot be changed here: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    org = Org.objects.select_for_update(of=("self",)).select_related("type", "parent").get(pk=org.pk)
    if not may_edit_info_at_once(actor, org):  # re-checked after locking: the org may have moved
        raise PermissionDenied
    diff = org_info_changes(org, changes)
    if not diff:
        return {}
    _check_info(org, diff)
    new = {name: pair[1] for name, pair in diff.items()}
    for name, value in new.items():
        setattr(org, name, value)
    _save_checking_sibling_name(org, parent=org.parent, short_name=org.short_name,
                                update_fields=[*new, "updated_at"])
    record(action="org.update", actor=actor, org=org, target=org,
           before={name: pair[0] for name, pair in diff.items()}, after=new)
    return diff


def _check_info(org: Org, diff: dict[str, list]) -> None:
    """The rules every info change meets, whoever makes it."""
    new = {name: pair[1] for name, pair in diff.items()}
    merged = {name: new.get(name, getattr(org, name)) for name in INFO_FIELDS}
    _check_names(merged["short_name"], merged["full_name"])
    _check_contact(merged["contact_phone"], merged["contact_email"])
    if "short_name" in new:
        _check_sibling_name(org.parent, new["short_name"], exclude_pk=org.pk)


def org_request_info_change(*, actor: Actor, org: Org, changes: dict, reason: str = "") -> Any:
    """The org's own admin asks the direct superior admin to approve an info change (an approvals request).

    The rules are checked now, so a request that could never be applied is not filed, and again by
    org_update_info when the superior approves. Returns the approvals.ApprovalRequest.
    """
    if not actor.is_admin_of(org):
        raise PermissionDenied
    unknown = set(changes) - set(INFO_FIELDS)
    if unknown:
        raise OrgError(_("These fields cannot be changed here: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    diff = org_info_changes(org, changes)
    if not diff:
        raise OrgError(_("Nothing was changed."))
    _check_info(org, diff)
    if org.parent_id is None:
        raise OrgError(_("A top-level organization has no superior to approve the change: ask the operator."))
    try:
        return request_submit(kind="org_info", target=org, changes=diff, actor=actor, deciding_org=org.parent,
                              reason=reason)
    except ApprovalError as error:
        raise OrgError(str(error.message)) from None


# ---------------------------------------------------------------------------------------------------------
# Move


def may_move(actor: Actor, org: Org) -> bool:
    """An org (never a root) is moved by an admin whose subtree holds its current parent."""
    return org.parent_id is not None and org.parent is not None and actor.administers(org.parent)


@transaction.atomic
def org_move(*, actor: Actor, org: Org, new_parent: Org) -> Org:
    """Move an org with its whole subtree under new_parent; both parents must lie in the actor's subtree.

    The containment rules apply to the new parent; an org cannot go under itself or its own subordinates.
    """
    if not may_move(actor, org) or not actor.administers(new_parent):
        raise PermissionDenied
    lock_tree()
    # Re-read everything after the lock: an earlier move may have renumbered these rows.
    org = Org.objects.select_for_update(of=("self",)).select_related("type", "parent").get(pk=org.pk)
    new_parent = _locked_parent(new_parent)
    scope = Org.objects.get(pk=actor.org.pk)
    if org.parent is None or not scope.contains(org.parent) or not scope.contains(new_parent):
        raise PermissionDenied
    if new_parent.pk == org.parent_id:
        raise OrgError(_("%(org)s is already directly under %(parent)s.")
                       % {"org": org.short_name, "parent": new_parent.short_name}, field="parent_code")
    if org.contains(new_parent):
        raise OrgError(_("An organization cannot be moved under itself or one of its own subordinate "
                         "organizations."), field="parent_code")
    problem = containment_error(new_parent, org.type)
    if problem:
        raise OrgError(problem, field="parent_code")
    _check_sibling_name(new_parent, org.short_name)
    old_parent = org.parent
    # Read before the move (the new parent's ancestors stay the same: it is not inside the moved subtree).
    old_ancestors = list(org.get_ancestors().values_list("pk", flat=True))
    new_ancestors = [*new_parent.get_ancestors().values_list("pk", flat=True), new_parent.pk]
    org.parent = new_parent
    # django-mptt moves the subtree and renumbers, under our lock (a rename of a sibling takes no tree lock).
    _save_checking_sibling_name(org, parent=new_parent, short_name=org.short_name)
    # The member-count triggers follow member writes only: the moved subtree's count changes sides here.
    shift_subtree(org=org, old_ancestor_ids=old_ancestors, new_ancestor_ids=new_ancestors)
    record(action="org.move", actor=actor, org=org, target=org,
           before={"parent": old_parent.code}, after={"parent": new_parent.code})
    return org


# ---------------------------------------------------------------------------------------------------------
# Delete


@transaction.atomic
def org_delete(*, actor: Actor, org: Org) -> None:
    """The direct superior admin deletes an empty org (no subordinate orgs, members or cadres)."""
    if not actor.is_direct_superior_admin_of(org):
        raise PermissionDenied
    lock_tree()
    try:
        org = Org.objects.select_for_update(of=("self",)).select_related("type", "parent").get(pk=org.pk)
    except Org.DoesNotExist:
        raise OrgError(_("This organization no longer exists.")) from None
    if org.parent_id != actor.org.pk:
        raise PermissionDenied
    counts = {
        "children": Org.objects.filter(parent=org).count(),
        "members": Member.objects.filter(branch=org).count(),
        "cadres": Cadre.objects.filter(org=org).count(),
    }
    if any(counts.values()):
        raise OrgError(
            _("%(org)s cannot be deleted while it has subordinate organizations, members or cadres (now: "
              "%(children)d subordinate organizations, %(members)d members, %(cadres)d cadres). Move or remove "
              "them first.") % {"org": org.short_name, **counts}
        )
    before = _snapshot(org)
    record(action="org.delete", actor=actor, org=org.parent, target=org, before=before)
    try:
        with transaction.atomic():
            org.delete()
    except (ProtectedError, IntegrityError):
        raise OrgError(_("%(org)s cannot be deleted: other records still refer to it.")
                       % {"org": before["short_name"]}) from None
