"""The member list as an .xlsx file (openpyxl write-only mode: rows stream out, memory stays flat).

PIPL: the file holds personal data. It says so on its first row, in its document properties and in its
file name, and every export is audited. ID numbers and phones are whole only in rows whose branch the
exporting admin may edit at once (its admin or direct superior admin) — the same rule as the detail page;
everyone above sees them masked.
"""

import io

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from orgs.models import Org
from orgs.permissions import Actor, sees_personal_data_whole

from .selectors import MemberQuery, member_queryset

CHUNK = 2000


def _may_see_whole(actor: Actor, branch: Org) -> bool:
    return sees_personal_data_whole(actor, branch)


def export_members(*, actor: Actor, org: Org, query: MemberQuery) -> tuple[bytes, int]:
    """The .xlsx bytes of the members the actor sees in org's list (same filters), and the row count."""
    wb = Workbook(write_only=True)
    wb.properties.title = _("Member list of %(org)s") % {"org": org.full_name}
    wb.properties.subject = _("Contains personal information")
    wb.properties.keywords = "personal data; PIPL; 个人信息"
    wb.properties.creator = "zhtj"
    ws = wb.create_sheet(title=_("Members")[:31])
    ws.freeze_panes = "A3"
    notice = WriteOnlyCell(ws, value=_(
        "Contains personal information (PIPL): use only for league work; do not forward. Exported by %(who)s"
        " for %(org)s on %(when)s."
    ) % {"who": getattr(actor.person, "name", ""), "org": org.full_name,
         "when": timezone.localtime().strftime("%Y-%m-%d %H:%M")})
    notice.font = Font(bold=True, color="C8161D")
    ws.append([notice])
    headers = [_("Name"), _("ID number"), _("Gender"), _("Birth date"), _("Ethnicity"), _("Political status"),
               _("Joined the league"), _("Development number"), _("Mobile phone"), _("Email"), _("Education"),
               _("Occupation"), _("Branch"), _("Status")]
    header_cells = []
    for text in headers:
        cell = WriteOnlyCell(ws, value=text)
        cell.font = Font(bold=True)
        header_cells.append(cell)
    ws.append(header_cells)
    qs = member_queryset(org, query, actor=actor).select_related("person", "branch")
    count = 0
    gender = {"M": _("Male"), "F": _("Female")}
    for member in qs.iterator(chunk_size=CHUNK):
        person = member.person
        whole = _may_see_whole(actor, member.branch)
        ws.append([
            person.name,
            person.id_number if whole else person.masked_id_number,
            gender.get(person.gender, ""),
            person.birth_date.isoformat() if whole else "",
            member.ethnicity,
            member.political_status,
            member.joined_on.strftime("%Y-%m"),
            member.development_number or "",
            person.phone if whole else person.masked_phone,
            person.email if whole else "",
            member.education,
            member.occupation,
            member.branch.full_name,
            member.get_status_display(),
        ])
        count += 1
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue(), count
