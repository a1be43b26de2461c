"""Admin registration codes: issuing them and their status.

A superior admin hands the admin role of a direct subordinate org over by issuing a one-time code; whoever
registers with it becomes that org's admin (orgs.admin_registration). After registering, the admin completes
the org's info and names its secretary (orgs.secretary). The registration page finds orgs with
orgs.public_search. Design notes: docs/orgs.md.

Rules kept here:
- A code is 10 characters from a 56-character alphabet without look-alikes (no 0/O/o/1/l/I): about 58 bits,
  case-sensitive. Only its SHA-256 hash is stored; the plaintext is shown once and never audited.
- At most one live code per org (a DB constraint): issuing a new one revokes the old in the same transaction.
- Only the direct superior admin issues an org's codes, so each level hands over exactly the level below it.
"""

import datetime as dt
import io
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record
from members.models import Person
from zhtj.errors import UserError
from zhtj.secret_codes import hash_code

from .models import Org, RegistrationCode
from .permissions import Actor

# No 0/O/o, 1/l/I: codes are read aloud and typed from paper.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
CODE_LENGTH = 10


class CodeError(UserError):
    """A registration-code rule refused the request; the message is for the user (translated)."""


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def code_lifetime() -> dt.timedelta:
    return dt.timedelta(days=settings.ZHTJ_REGISTRATION_CODE_DAYS)


# --- issuing ---------------------------------------------------------------------------------------------


def _issue(*, org: Org, created_by: Person | None, audit_actor, ip: str | None) -> tuple[str, dt.datetime]:
    """Revoke the org's live code and create a new one; caller holds the transaction."""
    now = timezone.now()
    Org.objects.select_for_update().filter(pk=org.pk).first()  # serialises issuing for one org
    revoked = RegistrationCode.objects.filter(org=org, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )
    code = new_code()
    row = RegistrationCode.objects.create(
        org=org, code_hash=hash_code(code), created_by=created_by, created_at=now, expires_at=now + code_lifetime()
    )
    record(
        action="code.issue", actor=audit_actor, org=org, target=row, ip=ip,
        after={"code_id": row.pk, "expires_at": row.expires_at, "revoked_previous": revoked},
    )
    return code, row.expires_at


def _require_direct_superior(actor: Actor, org: Org) -> None:
    if not actor.is_direct_superior_admin_of(org):
        raise PermissionDenied(_("Only the admin of the direct superior organization may issue its codes."))


@transaction.atomic
def code_issue(*, actor: Actor, org: Org) -> str:
    """A fresh code for a direct subordinate of the actor's org (the old one is revoked)."""
    _require_direct_superior(actor, org)
    code, _expires = _issue(org=org, created_by=actor.person, audit_actor=actor, ip=actor.ip)
    return code


@transaction.atomic
def code_issue_by_operator(*, org: Org) -> tuple[str, dt.datetime]:
    """The operator's path (manage.py issue_admin_code): no acting person, audited with actor None.

    It is how the first admin of a root org is provisioned.
    """
    return _issue(org=org, created_by=None, audit_actor=None, ip=None)


@transaction.atomic
def codes_issue_bulk(*, actor: Actor, orgs: list[Org]) -> list[tuple[Org, str, dt.datetime]]:
    """Fresh codes for several direct subordinates at once: all of them or none."""
    if not orgs:
        raise CodeError(_("Choose at least one organization."))
    for org in orgs:
        _require_direct_superior(actor, org)
    rows = []
    for org in sorted(orgs, key=lambda o: o.code):
        code, expires = _issue(org=org, created_by=actor.person, audit_actor=actor, ip=actor.ip)
        rows.append((org, code, expires))
    return rows


def codes_workbook(rows: list[tuple[Org, str, dt.datetime]]) -> bytes:
    """The .xlsx handed to subordinate orgs: 组织编码, 组织名称, 注册码, 有效期至 (codes stored as text)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "注册码"
    ws.append(["组织编码", "组织名称", "注册码", "有效期至"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for org, code, expires in rows:
        local = timezone.localtime(expires).replace(tzinfo=None)
        ws.append([org.code, org.full_name or org.short_name, code, local])
        row = ws.max_row
        for col in (1, 3):
            # Text, so spreadsheet software never turns a code or org code into a number or a date.
            ws.cell(row=row, column=col).number_format = "@"
        ws.cell(row=row, column=4).number_format = "yyyy-mm-dd hh:mm"
    for col, width in zip("ABCD", (14, 32, 16, 18), strict=True):
        ws.column_dimensions[col].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- status (selector) -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeStatus:
    """What the issuing admin sees for one subordinate org."""

    org: Org
    state: str  # "none", "live", "used", "expired", "revoked"
    code: RegistrationCode | None
    admin: Person | None


def subordinate_code_status(org: Org, *, now: dt.datetime | None = None) -> list[CodeStatus]:
    """The direct subordinates of org with their latest code's state and current admin (3 queries)."""
    now = now or timezone.now()
    newest = RegistrationCode.objects.filter(org=OuterRef("pk")).order_by("-created_at", "-id").values("pk")[:1]
    children = list(
        Org.objects.filter(parent=org)
        .select_related("type", "admin_assignment__person")
        .annotate(latest_code_id=Subquery(newest))
        .order_by("code")
    )
    # Only each org's newest code is read, however many were issued over the years.
    ids = [child.latest_code_id for child in children if child.latest_code_id is not None]
    latest = {row.org_id: row for row in RegistrationCode.objects.filter(pk__in=ids).select_related("used_by")}
    result = []
    for child in children:
        row = latest.get(child.pk)
        if row is None:
            state = "none"
        elif row.used_at is not None:
            state = "used"
        elif row.revoked_at is not None:
            state = "revoked"
        elif row.expires_at <= now:
            state = "expired"
        else:
            state = "live"
        assignment = getattr(child, "admin_assignment", None)
        result.append(CodeStatus(org=child, state=state, code=row, admin=assignment.person if assignment else None))
    return result
