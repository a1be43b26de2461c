"""The downloadable import template, built from imports.columns (the same definitions the importer reads by).

Sheets: instructions first, then the data sheet (title row, header row, help row), then a hidden sheet with the
drop-down lists (the 56 ethnic groups are too long for an inline list). ID number, phone, development number
and the year-month columns are text-formatted so Excel cannot turn them into numbers or dates.
"""

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from .columns import columns_for
from .models import ImportKind

DATA_SHEET = {ImportKind.MEMBER: "团员信息", ImportKind.CADRE: "团干部信息"}
LISTS_SHEET = "选项"
HEADER_ROW, HELP_ROW, FIRST_DATA_ROW = 2, 3, 4
LAST_ROW = 1048576


def build_template(org, kind: str) -> bytes:
    columns = columns_for(kind)
    book = Workbook()
    guide = book.active
    guide.title = "填写说明"
    what = _("members") if kind == ImportKind.MEMBER else _("cadres")
    lines = [
        _("Import template for %(what)s of %(org)s") % {"what": what, "org": org.full_name or org.short_name},
        "",
        _("1. Fill in one row per person on the sheet “%(sheet)s”, starting below the grey help row.")
        % {"sheet": DATA_SHEET[kind]},
        _("2. Keep the header row. Columns may be reordered; extra columns are ignored."),
        _("3. Enter ID numbers, phone numbers and development numbers as text (these columns already are)."),
        _("4. Year and month as 2015-05, 2015.05, 2015/5, 201505 or 2015年5月."),
        _("5. Gender and birth date are taken from the ID number."),
        _("6. Rows that cannot be imported come back in a failure workbook with the reason beside each bad cell:"
          " correct them there and upload that file again."),
    ]
    if kind == ImportKind.MEMBER:
        lines.append(_("7. A member who holds a post in the branch: fill in 团内现任职务, 任现职年月 and 团干部性质."))
    for line in lines:
        guide.append([line])
    guide["A1"].font = Font(bold=True, size=14)
    guide.column_dimensions["A"].width = 110

    sheet = book.create_sheet(DATA_SHEET[kind])
    lists = book.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    book.active = 1

    last_letter = get_column_letter(len(columns))
    sheet.merge_cells(f"A1:{last_letter}1")
    sheet["A1"] = _("%(what)s of %(org)s") % {"what": what, "org": org.full_name or org.short_name}
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    header_fill = PatternFill("solid", fgColor="C00000")
    optional_fill = PatternFill("solid", fgColor="808080")
    help_fill = PatternFill("solid", fgColor="F2F2F2")
    list_col = 0
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        head = sheet.cell(row=HEADER_ROW, column=index, value=column.header)
        head.font = Font(bold=True, color="FFFFFF")
        head.fill = header_fill if column.required_for(kind) else optional_fill
        head.alignment = Alignment(horizontal="center")
        help_cell = sheet.cell(row=HELP_ROW, column=index, value=str(column.help))
        help_cell.font = Font(italic=True, color="7F7F7F", size=9)
        help_cell.fill = help_fill
        help_cell.alignment = Alignment(wrap_text=True, vertical="top")
        dimension = sheet.column_dimensions[letter]
        dimension.width = column.width
        if column.text:
            dimension.number_format = "@"
            # Excel applies the column style to new cells; the first rows are formatted too for other programs.
            for row in range(FIRST_DATA_ROW, FIRST_DATA_ROW + 500):
                sheet.cell(row=row, column=index).number_format = "@"
        if column.choices is not None:
            list_col += 1
            values = column.choices()
            list_letter = get_column_letter(list_col)
            lists.cell(row=1, column=list_col, value=column.header)
            for i, value in enumerate(values, start=2):
                lists.cell(row=i, column=list_col, value=value)
            ref = f"{quote_sheetname(LISTS_SHEET)}!${list_letter}$2:${list_letter}${len(values) + 1}"
            validation = DataValidation(type="list", formula1=ref, allow_blank=True, showDropDown=False)
            validation.error = _("Choose a value from the list.")
            validation.errorTitle = column.header
            validation.showErrorMessage = True
            validation.add(f"{letter}{FIRST_DATA_ROW}:{letter}{LAST_ROW}")
            sheet.add_data_validation(validation)
    sheet.row_dimensions[HELP_ROW].height = 42
    sheet.freeze_panes = f"A{FIRST_DATA_ROW}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template_filename(org, kind: str) -> str:
    label = "团员导入模板" if kind == ImportKind.MEMBER else "团干部导入模板"
    return f"{label}-{org.code}.xlsx"
